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

/*===--- Versions ----------------------------------------------------------===*
 *
 * netc's release (the compiler and this runtime ship together), and the
 * ABI between generated libraries and the runtime: the layout of the tables
 * in netc/program.h and the meaning of the calls they make. A generated
 * header refuses to compile against a runtime of another ABI, and loading a
 * model built for another ABI fails with NETC_ERROR_VERSION. CMake reads
 * these lines for the project's version. */
#define NETC_VERSION_MAJOR 0
#define NETC_VERSION_MINOR 2
#define NETC_VERSION_PATCH 0
#define NETC_VERSION_STRING_(a, b, c) #a "." #b "." #c
#define NETC_VERSION_STRING_X(a, b, c) NETC_VERSION_STRING_(a, b, c)
#define NETC_VERSION_STRING \
  NETC_VERSION_STRING_X(NETC_VERSION_MAJOR, NETC_VERSION_MINOR, NETC_VERSION_PATCH)
#define NETC_ABI_VERSION 5

/* NETC_VERSION_STRING and NETC_ABI_VERSION of the runtime linked in (which
 * may differ from the header a caller was compiled with). */
const char *netc_runtime_version(void);
int netc_runtime_abi_version(void);

/* The most threads one run may be given (more is NETC_ERROR_INVALID_ARGUMENT). */
#define NETC_MAX_THREADS 1024

/* Values are fixed: new ones are only ever appended. */
typedef enum netc_status {
  NETC_OK = 0,
  NETC_ERROR_IO = 1,                 /* a file cannot be opened, read, mapped or written */
  NETC_ERROR_FORMAT = 2,             /* a malformed or truncated file */
  NETC_ERROR_MISSING_TENSOR = 3,     /* a weight the model needs is absent */
  NETC_ERROR_UNEXPECTED_TENSOR = 4,  /* the file holds a tensor the model does not know */
  NETC_ERROR_SHAPE = 5,              /* a tensor has the wrong shape */
  NETC_ERROR_DTYPE = 6,              /* a tensor has the wrong element type */
  NETC_ERROR_INVALID_ARGUMENT = 7,   /* a bad pointer, size, batch or thread count */
  NETC_ERROR_OUT_OF_MEMORY = 8,
  NETC_ERROR_ARENA_TOO_SMALL = 9,    /* a caller-provided arena is smaller than needed */
  NETC_ERROR_EXECUTION = 10,         /* a compiled pipeline reported a failure */
  NETC_ERROR_VERSION = 11,           /* a model built for another runtime ABI */
  NETC_ERROR_NO_DEVICE = 12,         /* a GPU model, and no usable GPU (driver, device) */
  NETC_ERROR_UNSUPPORTED_CPU = 13,   /* the CPU lacks the instructions of every variant allowed */
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

/* The whole report behind netc_safetensors_check's message (which lists the
 * first 8 problems): every problem, one a line, the likely cause first.
 * Writes at most `capacity` bytes to `report` (NUL-terminated, cut if
 * short) and returns the bytes the whole report needs, NUL included; an
 * empty report (1) means the file fits. */
size_t netc_safetensors_report(const netc_safetensors *file, const netc_param_spec *expected,
                               size_t count, char *report, size_t capacity);

/* Removes `prefix` from every key that starts with it (DataParallel's
 * "module.", say). Two keys that become one are an error. */
netc_status netc_safetensors_strip_prefix(netc_safetensors *file, const char *prefix,
                                          netc_error *error);

/*===--- Instruction sets -------------------------------------------------===*
 *
 * A library for x86-64 CPUs carries its code in variants, one per
 * instruction set it was built for (netc --isa); loading a model picks the
 * highest variant the CPU runs, or at most the one the load options (or,
 * where they name none, the environment variable NETC_ISA) ask for. Each
 * level includes the ones below it. */
typedef enum netc_isa {
  NETC_ISA_GENERIC = 0,     /* no requirement (a GPU program's host side; other CPUs) */
  NETC_ISA_AVX2 = 1,        /* AVX2, FMA, F16C, BMI1/2, LZCNT, MOVBE (Haswell, Zen and later) */
  NETC_ISA_AVX512 = 2,      /* and AVX-512 F, CD, BW, DQ, VL (Skylake-SP, Ice Lake, Zen 4) */
  NETC_ISA_AVX512_VNNI = 3, /* and AVX-512 IFMA, VBMI, VNNI, BF16 (Sapphire Rapids, Zen 4, 5) */
  NETC_ISA_AVX512_AMX = 4,  /* and AMX tiles, INT8 and BF16, the OS granting their use (Sapphire
                               Rapids): reduced-precision convs on netc's AMX kernels */
} netc_isa;
#define NETC_ISA_COUNT 5

/* "generic", "avx2", "avx512", "avx512-vnni", "avx512-amx" (NETC_ISA's
 * spellings); NULL for a value that is no netc_isa. */
const char *netc_isa_name(int isa);
/* The netc_isa a name spells, or -1. */
int netc_isa_named(const char *name);
/* The highest level this CPU runs (its instructions present and the
 * operating system saving their registers). */
netc_isa netc_cpu_isa(void);

/* How a model loads its weights (NULL: the defaults, all zero). */
typedef struct netc_load_options {
  const char *strip_prefix; /* NULL, or removed from every key first (e.g. "module.") */
  /* NULL: $NETC_ISA if set, else no limit; or "avx2", "avx512", "avx512-vnni", "avx512-amx":
   * the highest variant to run (a lower one, to compare or to work around a
   * CPU's fault). One the CPU does not run is NETC_ERROR_UNSUPPORTED_CPU. */
  const char *isa;
} netc_load_options;

/* Of variants for the levels isas[0..count) (highest first), the index of
 * the one to run, into *chosen: the first this CPU runs that is at most
 * options->isa, or $NETC_ISA where options name none. NETC_ERROR_UNSUPPORTED_CPU
 * when none qualifies (the message names what the CPU lacks), and
 * NETC_ERROR_INVALID_ARGUMENT for a level name that is none of netc's.
 * `who` begins the messages ("resnet50_load"). */
netc_status netc_isa_choose(const int32_t *isas, size_t count, const char *who,
                            const netc_load_options *options, size_t *chosen, netc_error *error);

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
