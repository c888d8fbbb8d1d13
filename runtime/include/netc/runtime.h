/*===- runtime.h - netc's runtime: status codes, weights, tensors ---*- C -*-===*
 *
 * The C API that generated models and their callers share. It needs libc,
 * pthreads and the C++ standard library only: no LLVM, MLIR or Halide
 * compiler at run time.
 *
 * Every function that can fail returns a netc_status and, when the caller
 * passes a netc_error, a message naming the file, tensor and values involved.
 *
 *===----------------------------------------------------------------------===*/
#ifndef NETC_RUNTIME_H
#define NETC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum netc_status {
  NETC_OK = 0,
  NETC_ERROR_IO,                /* a file cannot be opened, read, mapped or written */
  NETC_ERROR_FORMAT,            /* a malformed or truncated file */
  NETC_ERROR_MISSING_TENSOR,    /* a weight the model needs is absent */
  NETC_ERROR_UNEXPECTED_TENSOR, /* the file holds a tensor the model does not know */
  NETC_ERROR_SHAPE,             /* a tensor has the wrong shape */
  NETC_ERROR_DTYPE,             /* a tensor has the wrong element type */
  NETC_ERROR_INVALID_ARGUMENT,  /* a bad pointer, size or batch */
  NETC_ERROR_OUT_OF_MEMORY,
  NETC_ERROR_ARENA_TOO_SMALL,   /* a caller-provided arena is smaller than needed */
  NETC_ERROR_EXECUTION,         /* a compiled pipeline reported a failure */
} netc_status;

/* "NETC_ERROR_SHAPE", ... */
const char *netc_status_name(netc_status status);

/* Details of a failure. Messages longer than the buffer are cut. */
typedef struct netc_error {
  char message[1024];
} netc_error;

/*===--- Tensors in safetensors files --------------------------------------===*/

#define NETC_MAX_RANK 8

typedef struct netc_tensor_info {
  const char *name;   /* the tensor's key */
  const char *dtype;  /* safetensors spelling: "F32", "I64", ... */
  int rank;
  int64_t shape[NETC_MAX_RANK];
  const void *data;   /* into the mapped file; may be unaligned */
  size_t bytes;
} netc_tensor_info;

typedef struct netc_safetensors netc_safetensors;

/* Maps `path` read-only and validates its header: the JSON, each tensor's
 * dtype, shape and data_offsets, and that every tensor lies inside the file. */
netc_status netc_safetensors_open(const char *path, netc_safetensors **out, netc_error *error);
/* The same over a caller-owned buffer, which must outlive the handle. */
netc_status netc_safetensors_open_memory(const void *data, size_t size, const char *name,
                                         netc_safetensors **out, netc_error *error);
void netc_safetensors_close(netc_safetensors *file);

size_t netc_safetensors_count(const netc_safetensors *file);
/* Tensors in key order, 0 <= index < count. */
netc_status netc_safetensors_at(const netc_safetensors *file, size_t index,
                                netc_tensor_info *out);
/* NETC_ERROR_MISSING_TENSOR when absent. */
netc_status netc_safetensors_find(const netc_safetensors *file, const char *name,
                                  netc_tensor_info *out);

/* One tensor a model expects. */
typedef struct netc_param_spec {
  const char *key;
  const char *dtype; /* "F32" or "I64" */
  int rank;
  int64_t shape[NETC_MAX_RANK];
} netc_param_spec;

/* Strictly matches the file against the expected tensors: every missing,
 * unexpected, misshaped or wrongly typed tensor is reported by key (with a
 * did-you-mean by name and by shape for unexpected ones). The status is that
 * of the first problem found. */
netc_status netc_safetensors_check(const netc_safetensors *file, const netc_param_spec *expected,
                                   size_t count, netc_error *error);

/*===--- .npy arrays (float32, C order) ------------------------------------===*/

typedef struct netc_array {
  int rank;
  int64_t shape[NETC_MAX_RANK];
  float *data; /* owned; release with netc_array_free */
} netc_array;

/* Reads a little-endian float32 C-order .npy file (format 1.0-3.0). */
netc_status netc_npy_read(const char *path, netc_array *out, netc_error *error);
netc_status netc_npy_parse(const void *data, size_t size, const char *name, netc_array *out,
                           netc_error *error);
/* Writes atomically: a temporary file renamed into place, never half a file. */
netc_status netc_npy_write(const char *path, const float *data, int rank, const int64_t *shape,
                           netc_error *error);
void netc_array_free(netc_array *array);

#ifdef __cplusplus
}
#endif

#endif /* NETC_RUNTIME_H */
