//===- ElaborateTest.cpp - Naming rules, blocks, errors with traces -------===//
#include "TestUtil.h"

namespace netc::dsl::test {
namespace {

TEST(Naming, SeqNumbersEveryChildAndFlattensForIfAndGroups) {
  auto r = elaborateSpec(R"(
net n(bn=true) (x: f32[N,3,8,8]) {
  features: seq {
    for v in [4, 'M', 8] {
      if v == 'M' { maxpool(2) } else { { conv(v, 3, pad=1); if bn { bn() } }; relu() }
    }
  }
}
)", "n");
  ASSERT_TRUE(r.ok()) << r.diag.render();
  EXPECT_EQ(keyLines(*r.graph),
            "features.0.weight float32 [4,3,3,3]\n"
            "features.0.bias float32 [4]\n"
            "features.1.weight float32 [4]\n"
            "features.1.bias float32 [4]\n"
            "features.1.running_mean float32 [4]\n"
            "features.1.running_var float32 [4]\n"
            "features.1.num_batches_tracked int64 []\n"
            "features.4.weight float32 [8,4,3,3]\n" // 2 = relu, 3 = maxpool
            "features.4.bias float32 [8]\n"
            "features.5.weight float32 [8]\n"
            "features.5.bias float32 [8]\n"
            "features.5.running_mean float32 [8]\n"
            "features.5.running_var float32 [8]\n"
            "features.5.num_batches_tracked int64 []\n");
}

TEST(Naming, BlocksLabelsComputedLabelsAndInlineBlocks) {
  auto r = elaborateSpec(R"(
inline Proj(cout) { if in.c != cout { down: seq { conv(cout, 1, bias=false) } } }
block Unit(c) { add { { a: conv(c, 1) } Proj(c) } }
net n(x: f32[N,2,4,4]) {
  for s in 0..2 { stage{s+1}: seq { Unit(4 << s); Unit(4 << s) } }
}
)", "n");
  ASSERT_TRUE(r.ok()) << r.diag.render();
  EXPECT_EQ(keyLines(*r.graph),
            "stage1.0.a.weight float32 [4,2,1,1]\n"
            "stage1.0.a.bias float32 [4]\n"
            "stage1.0.down.0.weight float32 [4,2,1,1]\n"
            "stage1.1.a.weight float32 [4,4,1,1]\n"
            "stage1.1.a.bias float32 [4]\n"
            "stage2.0.a.weight float32 [8,4,1,1]\n"
            "stage2.0.a.bias float32 [8]\n"
            "stage2.0.down.0.weight float32 [8,4,1,1]\n"
            "stage2.1.a.weight float32 [8,8,1,1]\n"
            "stage2.1.a.bias float32 [8]\n");
}

TEST(Naming, UnlabeledInlineBlockJoinsTheSeqNumbering) {
  auto r = elaborateSpec(R"(
inline ConvRelu(c) { conv(c, 3); relu() }
net n(x: f32[N,1,9,9]) { body: seq { ConvRelu(2); ConvRelu(3) } }
)", "n");
  ASSERT_TRUE(r.ok()) << r.diag.render();
  EXPECT_EQ(keyLines(*r.graph),
            "body.0.weight float32 [2,1,3,3]\nbody.0.bias float32 [2]\n"
            "body.2.weight float32 [3,2,3,3]\nbody.2.bias float32 [3]\n");
}

TEST(Naming, ParameterlessLayerOutsideSeqNeedsNoName) {
  auto r = elaborateSpec("net n(x: f32[N,3,8,8]) { relu(); flatten(1); fc: linear(5, bias=false) }",
                         "n");
  ASSERT_TRUE(r.ok()) << r.diag.render();
  EXPECT_EQ(keyLines(*r.graph), "fc.weight float32 [5,192]\n");
}

TEST(Naming, WeightsNeedANameOutsideASeq) {
  auto r = elaborateSpec("net n(x: f32[N,3,8,8]) {\n  conv(4, 3)\n}", "n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "t.nn:2:3: error: conv has weights but no name here: label it "
                       "(name: conv(...)) or put it inside a seq");
}

TEST(Naming, DuplicateKeysAreErrors) {
  auto r = elaborateSpec("net n(x: f32[N,3,8,8]) {\n  c: conv(3, 1)\n  c: conv(3, 1)\n}", "n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "t.nn:3:6: error: duplicate parameter key 'c.weight' (first defined at t.nn:2:6)");
}

TEST(Branches, AddChecksShapesAndEmptyBranchIsIdentity) {
  auto ok = elaborateSpec("net n(x: f32[N,3,8,8]) { add { c: conv(3, 3, pad=1); if false { relu() } } }",
                          "n");
  ASSERT_TRUE(ok.ok()) << ok.diag.render();
  EXPECT_EQ(ok.graph->layers.back().kind, OpKind::Add);
  EXPECT_EQ(ok.graph->layers.back().inputs, (std::vector<int>{1, 0}));

  auto bad = elaborateSpec("net n(x: f32[N,3,8,8]) {\n  add { c: conv(4, 3, pad=1); relu() }\n}", "n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(),
            "t.nn:2:3: error: add: input 1 has shape [N,3,8,8] but input 0 has [N,4,8,8]");
}

TEST(Branches, CatSumsChannelsAndForMakesOneBranchPerIteration) {
  auto r = elaborateSpec(R"(
net n(x: f32[N,3,8,8]) { cat(axis=1) { for k in [1, 3] { b{k}: conv(2, k, pad=k / 2) }; identity() } }
)", "n");
  ASSERT_TRUE(r.ok()) << r.diag.render();
  EXPECT_EQ(formatShape(r.graph->layers.back().shape), "[N,7,8,8]");
}

TEST(Branches, SideReadsALabeledTensorAndLeavesTheFlow) {
  auto r = elaborateSpec(R"(
net n(x: f32[N,3,8,8]) {
  a: conv(4, 1)
  b: conv(5, 1)
  side(from='a') { head: seq { flatten(1); linear(2) } }
}
)", "n");
  ASSERT_TRUE(r.ok()) << r.diag.render();
  const Graph &g = *r.graph;
  EXPECT_EQ(formatShape(g.layers[g.output].shape), "[N,5,8,8]");
  EXPECT_EQ(g.layers.back().path, "head.1");
  EXPECT_TRUE(g.layers.back().auxiliary);
  EXPECT_NE(keyLines(g).find("head.1.weight float32 [2,256]\n"), std::string::npos);
}

TEST(Entry, AliasArgumentsAndOverrides) {
  const char *spec = R"(
net m(depth, width=2, classes=10) (x: f32[N,3,8,8]) {
  body: seq { for i in 0..depth { conv(width, 1) } }
  flatten(1); fc: linear(classes)
}
alias m2 = m(2, classes=5)
)";
  auto a = elaborateSpec(spec, "m2");
  ASSERT_TRUE(a.ok()) << a.diag.render();
  EXPECT_NE(keyLines(*a.graph).find("body.1.weight"), std::string::npos);
  EXPECT_NE(keyLines(*a.graph).find("fc.weight float32 [5,128]"), std::string::npos);
  auto b = elaborateSpec(spec, "m2(width=3, classes=7)");
  ASSERT_TRUE(b.ok()) << b.diag.render();
  EXPECT_NE(keyLines(*b.graph).find("fc.weight float32 [7,192]"), std::string::npos);

  auto missing = elaborateSpec(spec, "m");
  EXPECT_EQ(missing.error(), "<entry>:1:1: error: missing argument 'depth' in call to 'm'");
  auto unknown = elaborateSpec(spec, "m3");
  EXPECT_EQ(unknown.error(), "<entry>:1:1: error: 'm3' is not a net or alias in t.nn; "
                             "did you mean 'm'?");
  auto keyword = elaborateSpec(spec, "m(2, clases=3)");
  EXPECT_EQ(keyword.error(),
            "<entry>:1:6: error: 'm' has no parameter 'clases'; did you mean 'classes'?");
}

TEST(Entry, InputShapeBindsSymbolsAndChecksFixedDims) {
  const char *spec = "net n(x: f32[N,3,S,S]) { c: conv(2, 3, stride=2) }";
  auto r = elaborateSpec(spec, "n", {5, 3, 9, 9});
  ASSERT_TRUE(r.ok()) << r.diag.render();
  EXPECT_EQ(formatShape(r.graph->layers.back().shape), "[5,2,4,4]");
  EXPECT_EQ(elaborateSpec(spec, "n", {1, 4, 9, 9}).error(),
            "t.nn:1:7: error: --input-shape dimension 1 is 4 but 'x' fixes it at 3");
  EXPECT_EQ(elaborateSpec(spec, "n", {1, 3, 9, 8}).error(),
            "t.nn:1:7: error: --input-shape gives symbol 'S' two sizes, 9 and 8");
  EXPECT_EQ(elaborateSpec(spec, "n", {1, 3, 9}).error(),
            "t.nn:1:7: error: --input-shape has 3 dimensions but 'x' is declared [N,3,S,S]");
}

TEST(Errors, TraceNamesEveryInstantiation) {
  auto r = elaborateSpec(R"(block Inner(g) {
  c: conv(6, 3, groups=g)
}
block Outer(g) { inner: Inner(g) }
net n(x: f32[N,4,8,8]) { body: seq { Outer(1); Outer(4) } }
)", "n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.diag.render(),
            "t.nn:2:17: error: conv 'body.1.inner.c': input has 6 channels, groups=4 does "
            "not divide it\n"
            "  c: conv(6, 3, groups=g)\n"
            "                ^\n"
            "t.nn:4:25: note: in Inner(g=4) as 'body.1.inner'\n"
            "t.nn:5:48: note: in Outer(g=4) as 'body.1'\n"
            "t.nn:5:1: note: in n()\n");
}

TEST(Errors, RecursionAndRunawayLoopsAreBounded) {
  auto rec = elaborateSpec("block B() { B() }\nnet n(x: f32[N,3,8,8]) { B() }", "n");
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.diag.message, "blocks nest more than 100 deep; is 'B' recursive?");
  // 101 frames (the net and 100 blocks): 10 innermost, a summary, 5 outermost.
  ASSERT_EQ(rec.diag.notes.size(), 16u);
  EXPECT_EQ(rec.diag.notes[10], "t.nn:1:13: note: ... 86 more instantiations ...");
  EXPECT_EQ(rec.diag.notes[15], "t.nn:2:1: note: in n()");

  auto loop = elaborateSpec(
      "net n(x: f32[N,3,8,8]) { for i in 0..99999 { for j in 0..99999 { let k = j } } }", "n");
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.diag.message,
            "elaboration takes more than 5000000 steps; is a loop or recursion unbounded?");
}

TEST(Errors, AssertsCarryTheirMessage) {
  auto r = elaborateSpec(
      "block B(g) { assert g == 1, 'only g=1' }\nnet n(x: f32[N,3,8,8]) { B(2) }", "n");
  EXPECT_EQ(r.error(), "t.nn:1:14: error: assertion failed: only g=1");
}

TEST(Errors, ShapesThatShrinkBelowOne) {
  auto r = elaborateSpec("net n(x: f32[N,3,4,4]) {\n  f: seq { conv(8, 3); conv(8, 3); conv(8, 3) }\n}",
                         "n");
  EXPECT_EQ(r.error(), "t.nn:2:24: error: conv 'f.1': input height 2 is too small"
                       " for kernel 3 with padding 0; the output would be empty");
  auto many = elaborateSpec(
      "net n(x: f32[N,3,8,8]) { for i in 0..99999 { for j in 0..99999 { relu() } } }", "n");
  EXPECT_EQ(many.diag.message, "the net has more than 100000 layers");
}

} // namespace
} // namespace netc::dsl::test
