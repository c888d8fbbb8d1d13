//===- Amx.cpp - Convolutions on AMX tiles (Intel Sapphire Rapids) --------===//
//
// The microkernels the conv.amx template's pipelines call as Halide extern
// stages: a convolution's sums for a region of its output, as int32 (u8
// activations x s8 weights, tdpbusd) or float32 (BF16 x BF16, tdpbf16ps),
// left to the pipeline's own epilogue (scales, bias, residual, activation,
// requantization).
//
// The convolution is a sum of matrix products. The input is channels
// innermost, zero-padded (the pipeline materializes what the bounds query
// below asks for); for a kernel row ky and an output row y, the bytes output
// pixel x needs, (kx, ci) for kx < kw, are contiguous: kw * C bytes from
// input pixel x * stride. So per kernel row the reduction runs over K = kw *
// C bytes, in chunks of 64 (one tile row; the last chunk's excess reads the
// next pixels' bytes, which the packed weights multiply by zero):
//
//   A: 16 output pixels x 64 bytes  rows stride * C bytes apart (tileloadd)
//   B: 64 bytes x 16 channels        packed at load, one 1 KB tile each
//   C: 16 pixels x 16 channels       int32 / float32 accumulators
//
// Register blocking: 2 x 2 tiles of C (32 pixels by 32 channels) where a row
// holds more than 16 pixels, else 1 x 4 (16 pixels by 64 channels), so
// ResNet's 7x7 layers do not spend half the work on absent pixels. The
// packed weights are laid out [channel block of 16][ky][chunk][16 x 64
// bytes] (pack_amx_* in Conv.cpp), with channels padded to a multiple of
// 64; each call's region is computed whole and its edge tiles are written
// through a scratch tile.
//
// AMX state is per thread: each call loads the one tile configuration;
// permission to use the tile registers is asked of Linux once per process
// (arch_prctl ARCH_REQ_XCOMP_PERM) when the CPU check finds AMX
// (Cpu.cpp), before any variant that calls these is chosen.
//
//===----------------------------------------------------------------------===//
#include "netc/program.h"

#include <HalideRuntime.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#define NETC_AMX 1
#endif

namespace {

/// What a kernel multiplies: u8 by s8 into int32, or BF16 by BF16 into float32.
enum class Kind { U8S8, BF16 };

/// The arguments every call gets, as the pipeline passes them.
struct Geometry {
  int stride, kernelH, kernelW, padTop, padLeft;
  int channels;     // of the zero-padded input (a multiple of 4 bytes' worth)
  int chunks;       // 64-byte chunks of a kernel row's kw * channels
  int blocks;       // of 16 output channels in the packed weights
  int elementBytes; // 1 (u8), 2 (BF16)
  int flat;         // 1: the output rows run as one row of pixels (stride 1);
                    // 2: so, and the output region's rows hold the halo
                    // columns too (kernelW - 1 after each row's pixels)
};

/// Columns at the end of each row of the output region that are the run's
/// halo pixels (computed, not part of the conv's output): where the
/// pipeline makes the region as wide as the input's rows, so that every
/// tile of the run goes to it in one store.
int haloColumns(const Geometry &g) { return g.flat == 2 ? g.kernelW - 1 : 0; }

/// How far past a row's last pixel the last chunk reads, in pixels.
int overreadPixels(const Geometry &g) {
  int rowBytes = g.kernelW * g.channels * g.elementBytes;
  int readBytes = g.chunks * 64;
  int pixelBytes = g.channels * g.elementBytes;
  return (readBytes - rowBytes + pixelBytes - 1) / pixelBytes;
}

/// Output pixels a step of the register blocking covers: 2 x 2 tiles (32
/// pixels by 32 channels) where a run of pixels holds 32, else 1 x 4 (16
/// by 64).
int pixelsPerStep(int pixels) { return pixels >= 32 ? 32 : 16; }

/// The bounds query: the input region the output region needs, the whole
/// channel range, and the whole packed weights. Row by row, the x range is
/// rounded up to whole steps plus what the last chunk reads past the kernel.
/// Flat, the rows are exactly as wide as the kernel's window over the output
/// row (the kernel reads them as one run of pixels), with a row more where
/// the last chunk reads past the last pixel.
void boundsQuery(const Geometry &g, halide_buffer_t *input, halide_buffer_t *weights,
                 const halide_buffer_t *out) {
  const halide_dimension_t *o = out->dim; // (x, y, c, n)
  int overread = overreadPixels(g);
  input->dim[0].min = o[0].min * g.stride - g.padLeft;
  input->dim[1].min = o[1].min * g.stride - g.padTop;
  input->dim[1].extent = (o[1].extent - 1) * g.stride + g.kernelH;
  if (g.flat) {
    // Pixels p of the run, from the region's first, read input pixels p +
    // ky * width + kx (and the last chunk's excess); a run shorter than a
    // tile is read as a whole tile.
    int valid = o[0].extent - haloColumns(g);
    int width = valid - 1 + g.kernelW;
    int pixels = (o[1].extent - 1) * width + valid;
    int reach = std::max(pixels, 16) + (g.kernelH - 1) * width + g.kernelW - 1 + overread;
    input->dim[0].extent = width;
    input->dim[1].extent = std::max(input->dim[1].extent, (reach + width - 1) / width);
  } else {
    int step = pixelsPerStep(o[0].extent);
    int pixels = (o[0].extent + step - 1) / step * step;
    input->dim[0].extent = (pixels - 1) * g.stride + g.kernelW + overread;
  }
  input->dim[2].min = 0;
  input->dim[2].extent = g.channels;
  input->dim[3].min = o[3].min;
  input->dim[3].extent = o[3].extent;
  // (unit, 16 channels, 16 rows, chunk, ky, block), unit innermost.
  const int extents[6] = {4 / g.elementBytes, 16, 16, g.chunks, g.kernelH, g.blocks};
  for (int d = 0; d < weights->dimensions && d < 6; ++d) {
    weights->dim[d].min = 0;
    weights->dim[d].extent = extents[d];
  }
}

#ifdef NETC_AMX
// The tile instructions for this part of the file only: the runtime runs on
// every x86-64 CPU, and calls these where the CPU check found AMX.
// GCC takes a target region; clang (the fuzzer and sanitizer builds) an
// attribute applied to every function up to the matching pop.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("amx-tile,amx-int8,amx-bf16"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("amx-tile,amx-int8,amx-bf16")
#endif

struct TileConfig {
  uint8_t palette = 1;
  uint8_t startRow = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

/// Every tile 16 rows of 64 bytes: tmm0-3 accumulators, tmm4-7 operands.
void loadConfig() {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = 16;
    config.colsb[t] = 64;
  }
  _tile_loadconfig(&config);
}

#define NETC_AMX_TARGET __attribute__((always_inline)) inline

// GCC's tile intrinsics take register numbers as literals (they name the
// registers in inline assembly), hence macros rather than templates.

/// tmm[c] += tmm[a] x tmm[b], in the kernel's kind.
#define NETC_TILE_DOT(c, a, b)                                                                     \
  do {                                                                                             \
    if constexpr (kind == Kind::U8S8)                                                              \
      _tile_dpbusd(c, a, b);                                                                       \
    else                                                                                           \
      _tile_dpbf16ps(c, a, b);                                                                     \
  } while (0)

/// The pixels and channels of one step of the register blocking, and where
/// its operands are: the A rows of its first pixel (kernel row 0, chunk 0),
/// `tileStride` bytes from pixel to pixel, `rowStride` from kernel row to
/// kernel row; its channel block's packed weights, `blockBytes` to the next
/// block. Sums into tmm0-3: 2 x 2 tiles (32 pixels by 32 channels) where
/// `wide`, else 1 x 4 (16 pixels by 64 channels).
template <Kind kind, bool wide>
NETC_AMX_TARGET void accumulate(const Geometry &g, const uint8_t *a, int64_t tileStride,
                                int64_t rowStride, const uint8_t *block, int64_t blockBytes) {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int ky = 0; ky < g.kernelH; ++ky, a += rowStride)
    for (int k = 0; k < g.chunks; ++k) {
      const uint8_t *ak = a + k * 64;
      const uint8_t *b = block + (int64_t(ky) * g.chunks + k) * 1024;
      if constexpr (wide) {
        _tile_loadd(4, ak, tileStride);
        _tile_loadd(5, ak + 16 * tileStride, tileStride);
        _tile_loadd(6, b, 64);
        _tile_loadd(7, b + blockBytes, 64);
        NETC_TILE_DOT(0, 4, 6);
        NETC_TILE_DOT(1, 4, 7);
        NETC_TILE_DOT(2, 5, 6);
        NETC_TILE_DOT(3, 5, 7);
      } else {
        _tile_loadd(4, ak, tileStride);
        _tile_loadd(5, b, 64);
        _tile_loadd(6, b + blockBytes, 64);
        _tile_loadd(7, b + 2 * blockBytes, 64);
        NETC_TILE_DOT(0, 4, 5);
        NETC_TILE_DOT(1, 4, 6);
        NETC_TILE_DOT(2, 4, 7);
        _tile_loadd(5, b + 3 * blockBytes, 64);
        NETC_TILE_DOT(3, 4, 5);
      }
    }
}

/// Where the output's sums go: (x, y, c, n) to an address; rows of 16
/// channels copied from a tile, the pixels and channels inside the region.
struct Output {
  halide_buffer_t *buffer;
  int32_t *at(int x, int y, int c, int n) const {
    const halide_dimension_t *d = buffer->dim;
    return reinterpret_cast<int32_t *>(buffer->host) +
           (int64_t(x - d[0].min) * d[0].stride + int64_t(y - d[1].min) * d[1].stride +
            int64_t(c - d[2].min) * d[2].stride + int64_t(n - d[3].min) * d[3].stride);
  }
  /// One tile row (pixel (x, y)): `channels` sums from c on.
  void copyRow(const int32_t *row, int x, int y, int c, int n, int channels) const {
    int32_t *to = at(x, y, c, n);
    int64_t stride = buffer->dim[2].stride;
    if (stride == 1) {
      std::memcpy(to, row, 4 * size_t(channels));
      return;
    }
    for (int k = 0; k < channels; ++k)
      to[k * stride] = row[k];
  }
};

/// Stores the step's four tiles: tile t covers pixels `pixel(t)` on
/// (consecutive, as `pixelAt` maps them) and channels c0 + `channel(t)` on.
/// A tile whose 16 pixels are consecutive in the output, whole rows of 16
/// channels (channels innermost), goes there in one tile store; the others
/// go through `scratch`, their rows inside the region copied.
template <bool wide, typename PixelAt>
NETC_AMX_TARGET void storeStep(const Output &out, int firstPixel, int pixels, int c0, int cEnd,
                               int n, bool contiguous, PixelAt pixelAt,
                               int32_t (&scratch)[4][256]) {
  auto first = [&](int t) { return firstPixel + (wide ? (t / 2) * 16 : 0); };
  auto channel = [&](int t) { return c0 + (wide ? (t % 2) * 16 : t * 16); };
  auto whole = [&](int t) {
    return contiguous && first(t) + 16 <= pixels && channel(t) + 16 <= cEnd;
  };
  const int64_t rowBytes = out.buffer->dim[0].stride * 4;
  int x, y;
  auto direct = [&](int t) {
    pixelAt(first(t), x, y);
    return out.at(x, y, channel(t), n);
  };
#define NETC_TILE_STORE(t)                                                                         \
  do {                                                                                             \
    if (whole(t))                                                                                  \
      _tile_stored(t, direct(t), rowBytes);                                                        \
    else                                                                                           \
      _tile_stored(t, scratch[t], 64);                                                             \
  } while (0)
  NETC_TILE_STORE(0);
  NETC_TILE_STORE(1);
  NETC_TILE_STORE(2);
  NETC_TILE_STORE(3);
#undef NETC_TILE_STORE
  for (int t = 0; t < 4; ++t) {
    if (whole(t) || channel(t) >= cEnd)
      continue;
    int channels = std::min(16, cEnd - channel(t));
    for (int r = 0; r < 16 && first(t) + r < pixels; ++r)
      if (pixelAt(first(t) + r, x, y))
        out.copyRow(scratch[t] + r * 16, x, y, channel(t), n, channels);
  }
}

/// One region of output. Row by row: for each image and output row, steps
/// of pixels along the row by channels. Flat (stride 1): the region's rows,
/// with the input's halo columns between them, as one run of pixels p (the
/// input rows are `width` pixels, so pixel p + 1's window is pixel p's moved
/// one input pixel on); the pixels of the halo columns are computed and
/// dropped. The run's last step ends at its last pixel (overlapping the
/// step before), so that no tile reads past it.
template <Kind kind>
void convolve(const Geometry &g, const halide_buffer_t *input, const halide_buffer_t *weights,
         halide_buffer_t *outBuffer) {
  const halide_dimension_t *o = outBuffer->dim, *in = input->dim;
  const uint8_t *inHost = input->host;
  const int64_t pixelStride = in[0].stride * g.elementBytes; // bytes, channels innermost
  const int64_t rowStride = in[1].stride * g.elementBytes;
  const int64_t imageStride = in[3].stride * g.elementBytes;
  const int64_t tileStride = g.stride * pixelStride; // A rows: consecutive output pixels
  const int64_t blockBytes = int64_t(g.kernelH) * g.chunks * 1024; // one channel block's weights
  const Output out{outBuffer};
  const int x0 = o[0].min, y0 = o[1].min, cEnd = o[2].min + o[2].extent;
  alignas(64) int32_t scratch[4][256];
  // The input pixel of output (x, y) at kernel row 0, column 0.
  auto source = [&](int x, int y, int n) {
    return inHost + (x * g.stride - g.padLeft - in[0].min) * pixelStride +
           (y * g.stride - g.padTop - in[1].min) * rowStride + (n - in[3].min) * imageStride;
  };
  loadConfig();
  auto steps = [&](auto wideTag, int pixels, auto pixelAt, auto sourceOf, bool contiguous, int n) {
    constexpr bool wide = decltype(wideTag)::value;
    constexpr int pixelStep = wide ? 32 : 16, channelStep = wide ? 32 : 64;
    for (int c0 = o[2].min; c0 < cEnd; c0 += channelStep) {
      const uint8_t *block = weights->host + int64_t(c0 / 16) * blockBytes;
      for (int p = 0; p < pixels; p += pixelStep) {
        // The last step ends at the last pixel where the run is long enough.
        int first = p + pixelStep > pixels && pixels >= pixelStep ? pixels - pixelStep : p;
        accumulate<kind, wide>(g, sourceOf(first), tileStride, rowStride, block, blockBytes);
        storeStep<wide>(out, first, pixels, c0, cEnd, n, contiguous, pixelAt, scratch);
      }
    }
  };
  using Wide = std::true_type;
  using Narrow = std::false_type;
  for (int n = o[3].min; n < o[3].min + o[3].extent; ++n) {
    if (g.flat) {
      const int width = in[0].extent, valid = o[0].extent - haloColumns(g);
      const int pixels = (o[1].extent - 1) * width + valid;
      auto pixelAt = [&](int p, int &x, int &y) {
        x = x0 + p % width, y = y0 + p / width;
        return x < x0 + valid;
      };
      auto sourceOf = [&](int p) { return source(x0, y0, n) + p * pixelStride; };
      // Tiles whose pixels are consecutive in the output: its rows as wide
      // as the input's (no halo columns, or the region holds them), one
      // after another.
      bool contiguous = o[2].stride == 1 && width == o[0].extent &&
                        o[1].stride == int64_t(o[0].extent) * o[0].stride;
      if (pixelsPerStep(pixels) == 32)
        steps(Wide{}, pixels, pixelAt, sourceOf, contiguous, n);
      else
        steps(Narrow{}, pixels, pixelAt, sourceOf, contiguous, n);
      continue;
    }
    for (int y = y0; y < y0 + o[1].extent; ++y) {
      const int pixels = o[0].extent;
      auto pixelAt = [&](int p, int &x, int &yy) {
        x = x0 + p, yy = y;
        return true;
      };
      auto sourceOf = [&](int p) { return source(x0 + p, y, n); };
      if (pixelsPerStep(pixels) == 32)
        steps(Wide{}, pixels, pixelAt, sourceOf, o[2].stride == 1, n);
      else
        steps(Narrow{}, pixels, pixelAt, sourceOf, o[2].stride == 1, n);
    }
  }
}

#undef NETC_TILE_DOT
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif // NETC_AMX

int run(Kind kind, halide_buffer_t *input, halide_buffer_t *weights, const Geometry &g,
        halide_buffer_t *out) {
  // A bounds query: the output has no memory (Halide passes copies of the
  // input buffers, with their memory, to be reshaped).
  if (!out->host) {
    boundsQuery(g, input, weights, out);
    return 0;
  }
#ifdef NETC_AMX
  // The pipeline keeps channels innermost and asks for regions whose
  // channels start on a 16-channel tile; flat, for stride 1 over rows one
  // after another.
  const halide_dimension_t *in = input->dim;
  if (in[2].stride != 1 || in[0].stride != g.channels || out->dim[2].min % 16 != 0)
    return -1;
  if (g.flat && (g.stride != 1 || in[1].stride != int64_t(in[0].extent) * in[0].stride))
    return -1;
  if (kind == Kind::U8S8)
    convolve<Kind::U8S8>(g, input, weights, out);
  else
    convolve<Kind::BF16>(g, input, weights, out);
  return 0;
#else
  (void)kind;
  return -1;
#endif
}

} // namespace

extern "C" int netc_amx_conv_u8s8(halide_buffer_t *input, halide_buffer_t *weights,
                                  int32_t stride, int32_t kernel_h, int32_t kernel_w,
                                  int32_t pad_top, int32_t pad_left, int32_t channels,
                                  int32_t chunks, int32_t blocks, int32_t flat,
                                  halide_buffer_t *out) {
  Geometry g{stride, kernel_h, kernel_w, pad_top, pad_left, channels, chunks, blocks, 1, flat};
  return run(Kind::U8S8, input, weights, g, out);
}

extern "C" int netc_amx_conv_bf16(halide_buffer_t *input, halide_buffer_t *weights,
                                  int32_t stride, int32_t kernel_h, int32_t kernel_w,
                                  int32_t pad_top, int32_t pad_left, int32_t channels,
                                  int32_t chunks, int32_t blocks, int32_t flat,
                                  halide_buffer_t *out) {
  Geometry g{stride, kernel_h, kernel_w, pad_top, pad_left, channels, chunks, blocks, 2, flat};
  return run(Kind::BF16, input, weights, g, out);
}
