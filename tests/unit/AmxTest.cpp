//===- AmxTest.cpp - The AMX tile kernels against a naive convolution -----===//
//
// netc_amx_conv_u8s8 / netc_amx_conv_bf16 (runtime/lib/Amx.cpp) called as
// conv.amx's pipelines call them, one task (rows x up to 64 channels) at a
// time: first the bounds query, then the call on an input buffer of exactly
// the region it asked for, filled from a function of the coordinates. Every
// sum is compared with a naive one over the same packed weights, exactly:
// int32 for u8 x s8, and for BF16 small integers whose float32 sums are
// exact. The cases cover row-by-row and flat runs (with and without the halo
// columns in the output, flat = 1 and 2), strides 1 and 2, kernel rows
// shorter than a chunk and ending inside one, runs shorter than a tile, a
// channel tail and two images. On a CPU without AMX the tests are skipped,
// and say so.
//
//===----------------------------------------------------------------------===//
#include "netc/program.h"

#include <HalideRuntime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

namespace {

struct Case {
  const char *name;
  bool bf16;
  int channels; // of the padded input, a whole number of 4-byte units
  int height, width, kernel, stride, pad, cout, rows, flat, images;
};

/// The input at (x, y, c, n) of the padded image: any coordinate the
/// kernel may read, halo included (the reference reads the same values).
int inputValue(const Case &t, int x, int y, int c, int n) {
  uint32_t h = uint32_t(x) * 73856093u ^ uint32_t(y) * 19349663u ^ uint32_t(c) * 83492791u ^
               uint32_t(n) * 2654435761u;
  h ^= h >> 13;
  return t.bf16 ? int(h % 9) - 4 : int(h % 256);
}

/// A packed weight: int8 in [-127, 127], or a BF16 small integer.
int weightValue(const Case &t, size_t index) {
  uint32_t h = uint32_t(index) * 2246822519u;
  h ^= h >> 15;
  return t.bf16 ? int(h % 7) - 3 : int(h % 255) - 127;
}

uint16_t bf16Of(int v) {
  float f = float(v);
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return uint16_t(bits >> 16); // exact: small integers
}

/// Runs every task of `t` through the kernel and checks every sum; returns
/// the first mismatch, or "" if none.
std::string check(const Case &t) {
  const int bytes = t.bf16 ? 2 : 1, unit = 4 / bytes, perChunk = 64 / bytes;
  const int kh = t.kernel, kw = t.kernel;
  const int chunks = (kw * t.channels * bytes + 63) / 64;
  const int blocks = (t.cout + 63) / 64 * 4;
  const int outH = (t.height + 2 * t.pad - kh) / t.stride + 1;
  const int outW = (t.width + 2 * t.pad - kw) / t.stride + 1;
  const int halo = t.flat == 2 ? kw - 1 : 0;

  // Packed weights (j, n, q, chunk, ky, block), j innermost.
  const int wext[6] = {unit, 16, 16, chunks, kh, blocks};
  size_t wcount = 1;
  for (int e : wext)
    wcount *= size_t(e);
  // The packer's zeros past the kernel row (the last chunk's excess reads
  // the next pixels' input).
  auto weightAt = [&](int k, int ky, int c) { // k: element of the kernel row
    int chunk = k / perChunk, q = (k % perChunk) / unit, j = k % unit;
    size_t i = size_t(j) + size_t(unit) * (size_t(c % 16) + 16 * (size_t(q) +
               16 * (size_t(chunk) + size_t(chunks) * (size_t(ky) + size_t(kh) * size_t(c / 16)))));
    return k < kw * t.channels ? weightValue(t, i) : 0;
  };
  std::vector<uint8_t> wbytes(wcount * bytes);
  size_t i = 0;
  for (int block = 0; block < blocks; ++block)
    for (int ky = 0; ky < kh; ++ky)
      for (int chunk = 0; chunk < chunks; ++chunk)
        for (int q = 0; q < 16; ++q)
          for (int n = 0; n < 16; ++n)
            for (int j = 0; j < unit; ++j, ++i) {
              int v = weightAt(chunk * perChunk + q * unit + j, ky, block * 16 + n);
              if (t.bf16) {
                uint16_t b = bf16Of(v);
                std::memcpy(&wbytes[i * 2], &b, 2);
              } else {
                wbytes[i] = uint8_t(int8_t(v));
              }
            }
  halide_dimension_t wdim[6];
  int64_t wstride = 1;
  for (int d = 0; d < 6; ++d) {
    wdim[d] = {0, wext[d], int32_t(wstride), 0};
    wstride *= wext[d];
  }

  for (int c0 = 0; c0 < t.cout; c0 += 64)
    for (int y0 = 0; y0 < outH; y0 += t.rows) {
      const int rows = std::min(t.rows, outH - y0), cext = std::min(64, t.cout - c0);
      const int xext = outW + halo;
      // The task's sums: channels innermost, as the pipeline stores them.
      std::vector<int32_t> out(size_t(cext) * xext * rows * t.images, -1);
      halide_dimension_t odim[4] = {{0, xext, cext, 0},
                                    {y0, rows, cext * xext, 0},
                                    {c0, cext, 1, 0},
                                    {0, t.images, cext * xext * rows, 0}};
      halide_buffer_t ob{};
      ob.type = t.bf16 ? halide_type_t(halide_type_float, 32) : halide_type_t(halide_type_int, 32);
      ob.dimensions = 4;
      ob.dim = odim;
      // The bounds query fills in the input region (x, y; c and n as set).
      halide_dimension_t idim[4] = {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, t.channels, 1, 0},
                                    {0, t.images, 0, 0}};
      halide_buffer_t ib{};
      ib.type = t.bf16 ? halide_type_t(halide_type_bfloat, 16) : halide_type_t(halide_type_uint, 8);
      ib.dimensions = 4;
      ib.dim = idim;
      halide_buffer_t wb{};
      wb.type = t.bf16 ? halide_type_t(halide_type_bfloat, 16) : halide_type_t(halide_type_int, 8);
      wb.dimensions = 6;
      wb.dim = wdim;
      auto call = [&] {
        return t.bf16 ? netc_amx_conv_bf16(&ib, &wb, t.stride, kh, kw, t.pad, t.pad, t.channels,
                                           chunks, blocks, t.flat, &ob)
                      : netc_amx_conv_u8s8(&ib, &wb, t.stride, kh, kw, t.pad, t.pad, t.channels,
                                           chunks, blocks, t.flat, &ob);
      };
      if (call() != 0)
        return "the bounds query failed";
      idim[0].stride = t.channels;
      idim[1].stride = idim[0].extent * t.channels;
      idim[3].stride = idim[1].stride * idim[1].extent;
      std::vector<uint8_t> in(size_t(idim[3].stride) * t.images * bytes);
      for (int n = 0; n < t.images; ++n)
        for (int y = 0; y < idim[1].extent; ++y)
          for (int x = 0; x < idim[0].extent; ++x)
            for (int c = 0; c < t.channels; ++c) {
              size_t i = size_t(n) * idim[3].stride + size_t(y) * idim[1].stride +
                         size_t(x) * idim[0].stride + c;
              int v = inputValue(t, x + idim[0].min, y + idim[1].min, c, n);
              if (t.bf16) {
                uint16_t b = bf16Of(v);
                std::memcpy(&in[i * 2], &b, 2);
              } else {
                in[i] = uint8_t(v);
              }
            }
      ib.host = in.data();
      wb.host = wbytes.data();
      ob.host = reinterpret_cast<uint8_t *>(out.data());
      if (call() != 0)
        return "the kernel refused task (y " + std::to_string(y0) + ", c " +
               std::to_string(c0) + ")";
      for (int n = 0; n < t.images; ++n)
        for (int y = y0; y < y0 + rows; ++y)
          for (int x = 0; x < outW; ++x)
            for (int c = c0; c < c0 + cext; ++c) {
              int64_t expected = 0;
              for (int ky = 0; ky < kh; ++ky)
                for (int k = 0; k < kw * t.channels; ++k)
                  expected += int64_t(inputValue(t, x * t.stride - t.pad + k / t.channels,
                                                 y * t.stride - t.pad + ky, k % t.channels, n)) *
                              weightAt(k, ky, c);
              size_t i = size_t(n) * odim[3].stride + size_t(y - y0) * odim[1].stride +
                         size_t(x) * odim[0].stride + size_t(c - c0);
              int64_t got = out[i];
              if (t.bf16) {
                float f;
                std::memcpy(&f, &out[i], 4);
                got = int64_t(f);
              }
              if (got != expected)
                return "sum at (x " + std::to_string(x) + ", y " + std::to_string(y) + ", c " +
                       std::to_string(c) + ", n " + std::to_string(n) + "): " +
                       std::to_string(got) + ", naive " + std::to_string(expected);
            }
    }
  return "";
}

const Case kCases[] = {
    // name                          bf16  C   H   W  k  s  p  cout rows flat images
    {"u8_3x3_flat_halo_columns", false, 64, 12, 10, 3, 1, 1, 80, 3, 2, 1},
    {"u8_3x3_flat_scratch_rows", false, 64, 12, 10, 3, 1, 1, 80, 3, 1, 1},
    {"u8_3x3_stride2_rows", false, 32, 15, 13, 3, 2, 1, 48, 2, 0, 1},
    {"u8_1x1_run_shorter_than_a_tile", false, 128, 9, 7, 1, 1, 0, 64, 1, 1, 2},
    {"u8_1x1_flat_two_images", false, 64, 8, 9, 1, 1, 0, 32, 4, 1, 2},
    {"u8_5x5_kernel_row_ends_in_a_chunk", false, 20, 11, 12, 5, 1, 2, 16, 4, 2, 1},
    {"bf16_3x3_flat_halo_columns", true, 24, 8, 8, 3, 1, 1, 32, 4, 2, 1},
    {"bf16_7x7_stride2_stem", true, 4, 20, 18, 7, 2, 3, 16, 1, 0, 1},
    {"bf16_1x1_flat", true, 64, 6, 11, 1, 1, 0, 96, 3, 1, 1},
};

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

class Amx : public ::testing::TestWithParam<Case> {};

TEST_P(Amx, KernelEqualsNaiveSums) {
  if (netc_cpu_isa() < NETC_ISA_AVX512_AMX)
    GTEST_SKIP() << "SKIP: this CPU runs " << netc_isa_name(netc_cpu_isa())
                 << ", not avx512-amx; the tile kernels are tested where it does";
  EXPECT_EQ(check(GetParam()), "") << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(Kernels, Amx, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
