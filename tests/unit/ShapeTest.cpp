//===- ShapeTest.cpp - Window arithmetic against a naive count ------------===//
//
// Sweeps pool and conv geometry and compares netc's output sizes with a
// reference that places windows one by one, as PyTorch's kernels do.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

namespace netc::dsl::test {
namespace {

/// Counts window positions along one axis. Floor mode: windows that fit in
/// the padded input. Ceil mode also keeps a window that overhangs the padded
/// input by less than a stride, but never one that starts in the right
/// padding (PyTorch's rule).
int64_t naiveWindows(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
  int64_t extent = d * (k - 1) + 1;
  int64_t padded = in + 2 * p;
  int64_t count = 0;
  for (int64_t start = 0; start + extent <= padded + (ceil ? s - 1 : 0); start += s) {
    if (ceil && start >= in + p)
      break;
    ++count;
  }
  return count;
}

TEST(Shapes, PoolingWindowsMatchANaiveCount) {
  int checked = 0;
  for (int64_t in = 1; in <= 13; ++in)
    for (int64_t k = 1; k <= 4; ++k)
      for (int64_t s = 1; s <= 3; ++s)
        for (int64_t p = 0; p * 2 <= k; ++p)
          for (int ceil = 0; ceil < 2; ++ceil) {
            int64_t want = naiveWindows(in, k, s, p, 1, ceil);
            std::string spec = "net n(x: f32[N,1," + std::to_string(in) + ",7]) { maxpool(" +
                               std::to_string(k) + ", stride=" + std::to_string(s) +
                               ", pad=" + std::to_string(p) +
                               ", ceil=" + (ceil ? "true" : "false") + ") }";
            auto r = elaborateSpec(spec, "n");
            if (want < 1) {
              EXPECT_FALSE(r.ok()) << spec;
              continue;
            }
            ASSERT_TRUE(r.ok()) << spec << "\n" << r.diag.render();
            EXPECT_EQ(r.graph->layers.back().shape[2].value, want) << spec;
            ++checked;
          }
  EXPECT_GT(checked, 500);
}

TEST(Shapes, ConvolutionWithDilationMatchesANaiveCount) {
  for (int64_t in = 1; in <= 12; ++in)
    for (int64_t k = 1; k <= 3; ++k)
      for (int64_t d = 1; d <= 3; ++d)
        for (int64_t p = 0; p <= 2; ++p) {
          int64_t want = naiveWindows(in, k, 2, p, d, false);
          std::string spec = "net n(x: f32[N,2,32," + std::to_string(in) + "]) { c: conv(4, " +
                             std::to_string(k) + ", stride=2, pad=" + std::to_string(p) +
                             ", dilation=" + std::to_string(d) + ") }";
          auto r = elaborateSpec(spec, "n");
          if (want < 1) {
            EXPECT_FALSE(r.ok()) << spec;
            continue;
          }
          ASSERT_TRUE(r.ok()) << spec << "\n" << r.diag.render();
          EXPECT_EQ(r.graph->layers.back().shape[3].value, want) << spec;
        }
}

TEST(Shapes, AdaptivePoolFlattenAndLinear) {
  auto r = elaborateSpec(
      "net n(x: f32[N,3,H,W]) { f: conv(8, 3); adaptive_avgpool(2, 3); flatten(1); fc: linear(4) }",
      "n");
  ASSERT_TRUE(r.ok()) << r.diag.render();
  EXPECT_EQ(keyLines(*r.graph).substr(keyLines(*r.graph).find("fc.weight")),
            "fc.weight float32 [4,48]\nfc.bias float32 [4]\n");
  // Without the adaptive pool the feature count depends on the symbolic size.
  auto sym = elaborateSpec("net n(x: f32[N,3,H,W]) { flatten(1); fc: linear(4) }", "n");
  EXPECT_EQ(sym.error(), "t.nn:1:42: error: linear 'fc': the input's feature count is not known "
                         "(it depends on a symbolic input size), but the weights need it");
}

TEST(Shapes, GroupedConvolutionWeights) {
  auto r = elaborateSpec("net n(x: f32[N,64,8,8]) { c: conv(128, 3, groups=32, bias=false) }", "n");
  ASSERT_TRUE(r.ok()) << r.diag.render();
  EXPECT_EQ(keyLines(*r.graph), "c.weight float32 [128,2,3,3]\n");
}

} // namespace
} // namespace netc::dsl::test
