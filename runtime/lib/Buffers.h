//===- Buffers.h - netc tensors as Halide buffers ----------------*- C++
//-*-===//
//
// Halide sees a tensor with its NCHW dimensions reversed, (x, y, c, n):
// dimension 0 is W, the last one is the batch; the layout only sets the
// strides.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_RUNTIME_BUFFERS_H
#define NETC_RUNTIME_BUFFERS_H

#include "netc/program.h"

#include <HalideRuntime.h>

#include <cstdint>

namespace netc::runtime {

inline int64_t elements(const int64_t *shape, int rank) {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d)
    n *= shape[d];
  return n;
}

/// Elements per batch item (shape[0] is the batch).
inline int64_t elementsPerSample(const int64_t *shape, int rank) {
  return elements(shape + 1, rank - 1);
}

/// Whether `dtype` is one of netc_dtype's values.
inline bool knownDtype(int32_t dtype) {
  return dtype >= NETC_DTYPE_F32 && dtype <= NETC_DTYPE_I32;
}

/// Bytes per element.
inline int bytesOf(int32_t dtype) {
  switch (dtype) {
  case NETC_DTYPE_BF16: return 2;
  case NETC_DTYPE_I8:
  case NETC_DTYPE_U8: return 1;
  default: return 4; // F32, I32
  }
}

/// The Halide element type of `dtype`.
inline halide_type_t halideTypeOf(int32_t dtype) {
  switch (dtype) {
  case NETC_DTYPE_BF16: return halide_type_t(halide_type_bfloat, 16);
  case NETC_DTYPE_I8: return halide_type_t(halide_type_int, 8);
  case NETC_DTYPE_U8: return halide_type_t(halide_type_uint, 8);
  case NETC_DTYPE_I32: return halide_type_t(halide_type_int, 32);
  default: return halide_type_t(halide_type_float, 32);
  }
}

/// Describes `data` as a halide_buffer_t of `dtype` elements of this NCHW
/// shape in `layout`; `batch` > 0 replaces shape[0]. The strides are those of
/// a dense tensor of `strideShape` (default: `shape`; a slice passes its
/// parent's).
inline void describe(halide_buffer_t &b, halide_dimension_t *dims, const void *data, int rank,
                     const int64_t *shape, int64_t batch, netc_layout layout = NETC_LAYOUT_NCHW,
                     const int64_t *strideShape = nullptr, int32_t dtype = NETC_DTYPE_F32) {
  if (!strideShape)
    strideShape = shape;
  b = halide_buffer_t();
  b.host = static_cast<uint8_t *>(const_cast<void *>(data));
  b.type = halideTypeOf(dtype);
  b.dimensions = rank;
  b.dim = dims;
  int32_t stride = 1;
  for (int d = 0; d < rank; ++d) {
    bool isBatch = batch > 0 && d == rank - 1;
    dims[d].min = 0;
    dims[d].extent = static_cast<int32_t>(isBatch ? batch : shape[rank - 1 - d]);
    dims[d].stride = stride;
    dims[d].flags = 0;
    stride *= static_cast<int32_t>(isBatch ? batch : strideShape[rank - 1 - d]);
  }
  if (layout == NETC_LAYOUT_NHWC && rank == 4) {
    // (x, y, c, n) with c innermost: strides C, C*W, 1, C*H*W.
    int32_t c = static_cast<int32_t>(strideShape[1]), w = static_cast<int32_t>(strideShape[3]);
    dims[2].stride = 1;
    dims[0].stride = c;
    dims[1].stride = c * w;
  }
}

/// Where tensor `t` of `p` starts for a batch of `batch`, in bytes from the
/// start of its storage (the input, the output or the arena).
inline int64_t tensorOffset(const netc_program &p, int t, int64_t batch) {
  const netc_program_tensor &d = p.tensors[t];
  int64_t offset = d.storage == NETC_STORAGE_ARENA ? d.offset * batch : 0;
  if (d.slice_of != -1) // its first channel: channels are innermost or planes
    offset += d.channel_offset * (d.layout == NETC_LAYOUT_NHWC ? 1 : d.shape[2] * d.shape[3]) *
              bytesOf(d.dtype);
  return offset;
}

} // namespace netc::runtime

#endif // NETC_RUNTIME_BUFFERS_H
