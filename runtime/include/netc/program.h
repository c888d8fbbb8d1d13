/*===- program.h - The step interpreter generated models run on -*- C -*-===*
 *
 * A compiled network is data: the tensors of its static memory plan, the
 * weights its pipelines read, and the ordered steps that call one compiled
 * pipeline each. netc's code generator writes these tables as constants
 * (NAME_driver.c) and its JIT builds them in memory; both run them with
 * netc_program_run, so there is one interpreter, tested once.
 *
 * Layouts: tensors are dense, [N, F] or, for rank 4, NCHW or
 * channels-innermost NHWC (internal tensors only: the caller's input and
 * output are NCHW float32). Each tensor and pack carries its element type
 * (netc_dtype). Shapes in the tables are NCHW whatever the layout and hold
 * the batch as 1; arena offsets count bytes per batch item, so a tensor of a
 * batch of N lives at (char *)arena + offset * N.
 *
 * Packed weights: a pack is a pipeline run once, at load, on some of the
 * file's weights (a conv's weight with the BatchNorm folded into it, say),
 * whose result the steps read as weight number num_weights + pack index.
 *
 * GPU programs (program->device set): packs run on the host at load, then
 * every weight the steps read is copied to the device once. A run copies
 * the input to the device, runs every step on device memory (the arena is
 * one device allocation; each tensor is a crop of it) and copies the output
 * back; the steps' pipelines never touch host memory.
 *
 *===----------------------------------------------------------------------===*/
#ifndef NETC_PROGRAM_H
#define NETC_PROGRAM_H

#include "netc/runtime.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A compiled pipeline's argv entry point: args[0] points to the user
 * context (void *: the call, see netc_parallel_for), then come
 * halide_buffer_t pointers: its input tensors, its weights, its output.
 * Returns 0 on success. */
typedef int (*netc_pipeline_fn)(void **args);

/* The Halide runtime's task, parallel-loop and error-handler types. */
typedef int (*netc_task_fn)(void *user_context, int task_number, uint8_t *closure);
typedef int (*netc_par_for_fn)(void *user_context, netc_task_fn task, int min, int size,
                               uint8_t *closure);
typedef void (*netc_error_fn)(void *user_context, const char *message);

typedef enum netc_storage {
  NETC_STORAGE_INPUT = 0,  /* the caller's input */
  NETC_STORAGE_OUTPUT = 1, /* the caller's output */
  NETC_STORAGE_ARENA = 2,  /* the arena, at `offset` bytes per batch item */
} netc_storage;

/* Element types of tensors and packs. The caller's input and output, and
 * the file weights the steps read (converted at load), are F32. */
typedef enum netc_dtype {
  NETC_DTYPE_F32 = 0,
  NETC_DTYPE_BF16 = 1,
  NETC_DTYPE_I8 = 2,
  NETC_DTYPE_U8 = 3,
  NETC_DTYPE_I32 = 4,
} netc_dtype;

typedef enum netc_layout {
  NETC_LAYOUT_NCHW = 0, /* and [N, F]: the last dimension innermost */
  NETC_LAYOUT_NHWC = 1, /* rank 4 only: channels innermost */
} netc_layout;

typedef struct netc_program_tensor {
  int rank;
  int64_t shape[NETC_MAX_RANK]; /* NCHW; shape[0], the batch, is 1 */
  int32_t dtype;                /* a netc_dtype (an int: a bad table is refused, not UB) */
  netc_storage storage;         /* where its memory is (views: their owner's) */
  int64_t offset;               /* NETC_STORAGE_ARENA: bytes per batch item */
  netc_layout layout;
  /* -1, or the tensor (rank 4, not itself a slice) whose channels
   * [channel_offset, channel_offset + shape[1]) this one is: it has that
   * tensor's memory and strides (a concat's operands, written in place). */
  int slice_of;
  int64_t channel_offset;
} netc_program_tensor;

/* A weight computed at load: pipeline(sources..., result); or, where
 * pipeline is NETC_PACK_CONSTANT, the float32 `values` copied as they are
 * (a step's quantization parameters). */
#define NETC_PACK_CONSTANT (-1)
typedef struct netc_program_pack {
  int pipeline;
  int num_sources;
  const int *sources; /* indices into the program's weights (the file's) */
  int32_t dtype;      /* a netc_dtype */
  int rank;
  int64_t shape[NETC_MAX_RANK]; /* the result's, dense, last dimension innermost */
  const char *name;   /* for messages */
  const float *values; /* NETC_PACK_CONSTANT: the elements (F32), else null */
} netc_program_pack;

typedef struct netc_program_step {
  int pipeline;       /* index into the program's pipelines */
  int num_inputs;
  const int *inputs;  /* tensor indices */
  int num_weights;
  const int *weights; /* < num_weights: the file's; then packs, in order */
  int output;         /* tensor index */
  const char *name;   /* the anchor op's module path, for messages */
} netc_program_step;

/* The Halide runtime's device functions a GPU program's runtime calls
 * (HalideRuntime.h; the buffers are halide_buffer_t). */
struct halide_buffer_t;
struct halide_device_interface_t;
typedef struct netc_device_api {
  const char *name; /* "CUDA", "OpenCL": for messages */
  const struct halide_device_interface_t *(*device_interface)(void);
  int (*device_malloc)(void *user_context, struct halide_buffer_t *buffer,
                       const struct halide_device_interface_t *device_interface);
  int (*device_free)(void *user_context, struct halide_buffer_t *buffer);
  int (*copy_to_device)(void *user_context, struct halide_buffer_t *buffer,
                        const struct halide_device_interface_t *device_interface);
  int (*copy_to_host)(void *user_context, struct halide_buffer_t *buffer);
  int (*device_crop)(void *user_context, const struct halide_buffer_t *source,
                     struct halide_buffer_t *crop);
  int (*device_release_crop)(void *user_context, struct halide_buffer_t *crop);
  int (*reuse_device_allocations)(void *user_context, bool reuse);
  int (*device_sync)(void *user_context, struct halide_buffer_t *buffer);
} netc_device_api;

typedef struct netc_program {
  /* Always first, so any runtime can read them: NETC_ABI_VERSION and
   * NETC_VERSION_STRING of the netc that generated the tables. */
  int abi_version;
  const char *netc_version;
  const char *name; /* the model's C name: messages say "NAME_run: ..." */
  /* The instructions its pipelines use (a netc_isa): loading refuses a CPU
   * that lacks them. */
  int32_t isa;
  /* Every tensor the weights file must hold (the strict check), and the
   * float32 subset the pipelines read, by index. */
  const netc_param_spec *expected;
  size_t num_expected;
  const netc_param_spec *weights;
  size_t num_weights;
  const netc_program_pack *packs;
  size_t num_packs;
  const netc_program_tensor *tensors;
  size_t num_tensors;
  const netc_program_step *steps;
  size_t num_steps;
  const netc_pipeline_fn *pipelines;
  size_t num_pipelines;
  int input, output;               /* tensor indices */
  int64_t arena_bytes_per_sample;
  /* The Halide runtime's setters (halide_set_custom_do_par_for,
   * halide_set_error_handler), through which the runtime routes the
   * pipelines' parallel loops to netc's thread pool and their errors to the
   * call's netc_error; NULL when `invoke` runs the pipelines (the JIT). */
  netc_par_for_fn (*set_custom_do_par_for)(netc_par_for_fn handler);
  netc_error_fn (*set_error_handler)(netc_error_fn handler);
  /* Optional: when set, steps call invoke(invoke_context, pipeline, args)
   * instead of pipelines[pipeline](args) (the JIT). */
  int (*invoke)(void *invoke_context, int pipeline, void **args);
  void *invoke_context;
  /* A GPU program: the device its steps run on. NULL: the CPU. */
  const netc_device_api *device;
} netc_program;

/* The weights of a program, loaded. */
typedef struct netc_model netc_model;

/* Of a library's variants (the same network for several instruction sets,
 * highest first), the one to load: the first this CPU runs whose ISA is at
 * most options->isa, or $NETC_ISA where options name none. Fails with
 * NETC_ERROR_UNSUPPORTED_CPU when none qualifies (the message says which
 * instructions the CPU lacks) and NETC_ERROR_INVALID_ARGUMENT for an ISA
 * name that is none of netc's. */
netc_status netc_program_select(const netc_program *const *variants, size_t count,
                                const netc_load_options *options, const netc_program **selected,
                                netc_error *error);
/* The instruction set of the variant a model runs ("avx512-vnni", ...). */
const char *netc_model_isa(const netc_model *model);

/* Maps the safetensors file, checks it strictly against program->expected
 * (every problem reported by key), copies the weights the steps read into
 * aligned memory and computes the packs; the file is closed on return and
 * weights only packs read are not kept. `program` must outlive the model. */
netc_status netc_program_load(const netc_program *program, const char *weights_path,
                              netc_model **model, netc_error *error);
/* The same with options (NULL: the defaults). */
netc_status netc_program_load_with_options(const netc_program *program, const char *weights_path,
                                           const netc_load_options *options, netc_model **model,
                                           netc_error *error);
/* The same from a safetensors image in memory, which need not outlive the call. */
netc_status netc_program_load_memory(const netc_program *program, const void *data, size_t size,
                                     const netc_load_options *options, netc_model **model,
                                     netc_error *error);
/* Every problem of a weights file for the program (a failed load's message
 * lists the first 8), one a line, the likely cause first; written to report
 * (capacity bytes, NUL-terminated, cut if short). Returns the bytes the
 * whole report needs, NUL included: 1 (an empty report) when the file fits. */
size_t netc_program_check_weights(const netc_program *program, const char *weights_path,
                                  const netc_load_options *options, char *report,
                                  size_t capacity);
void netc_model_free(netc_model *model);

/* Bytes of arena a batch of `batch` needs (0 for batch < 1, and for a GPU
 * program, whose arena is on the device). */
size_t netc_program_arena_bytes(const netc_program *program, int64_t batch);

/* The output's shape (program->tensors[output].rank sizes) for an input of
 * this shape; returns its elements, or 0 for an input shape the program
 * does not take, with the reason in *error (when given), worded as
 * netc_program_run words it. */
size_t netc_program_output_shape(const netc_program *program, int input_rank,
                                 const int64_t *input_shape, int64_t *output_shape,
                                 netc_error *error);

/* Runs every step on `input` ([N, ...] as program->tensors[input], N =
 * input_shape[0]) into `output`, which holds `output_capacity` floats.
 * arena: NULL (allocated for the call) or at least
 * netc_program_arena_bytes(N) bytes, 4-byte aligned. threads: the most
 * threads this call uses (0: one per CPU the process may run on). */
netc_status netc_program_run(const netc_model *model, const float *input, int input_rank,
                             const int64_t *input_shape, float *output, size_t output_capacity,
                             void *arena, size_t arena_bytes, int threads, netc_error *error);

/* Runs only steps [first, last) over the same buffers, as netc_program_run
 * would run them (for per-step profiles: the arena holds what earlier steps
 * of an earlier run left there). */
netc_status netc_program_run_steps(const netc_model *model, size_t first, size_t last,
                                   const float *input, int input_rank, const int64_t *input_shape,
                                   float *output, size_t output_capacity, void *arena,
                                   size_t arena_bytes, int threads, netc_error *error);

/* The AMX kernels the pipelines of conv.amx steps call (Halide extern
 * stages: buffers and int32 scalars in, the output buffer last; a null output
 * host is a bounds query): a convolution's sums over a region (x, y, c, n)
 * of its output, int32 for u8 x s8, float32 for BF16 x BF16, from the
 * zero-padded channels-innermost input and weights packed as conv.amx packs
 * them (runtime/lib/Amx.cpp); `flat` (stride 1) runs the region's rows as
 * one row of pixels over input rows as wide as the kernel's window. 0, or -1
 * for a call they cannot serve. */
struct halide_buffer_t;
int netc_amx_conv_u8s8(struct halide_buffer_t *input, struct halide_buffer_t *weights,
                       int32_t stride, int32_t kernel_h, int32_t kernel_w, int32_t pad_top,
                       int32_t pad_left, int32_t channels, int32_t chunks, int32_t blocks,
                       int32_t flat, struct halide_buffer_t *out);
int netc_amx_conv_bf16(struct halide_buffer_t *input, struct halide_buffer_t *weights,
                       int32_t stride, int32_t kernel_h, int32_t kernel_w, int32_t pad_top,
                       int32_t pad_left, int32_t channels, int32_t chunks, int32_t blocks,
                       int32_t flat, struct halide_buffer_t *out);

/* For pipeline runners (netc's JIT): runs task(task_context, i, closure)
 * for i in [min, min + size) on the threads of the call whose user context
 * a step received; returns 0 or the first failing task's status. */
int netc_parallel_for(void *call_context, netc_task_fn task, void *task_context, int min,
                      int size, uint8_t *closure);
/* Records a pipeline's error message for the call's netc_error. */
void netc_report(void *call_context, const char *message);

#ifdef __cplusplus
}
#endif

#endif /* NETC_PROGRAM_H */
