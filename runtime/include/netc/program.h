/*===- program.h - The step interpreter generated models run on -*- C -*-===*
 *
 * A compiled network is data: the tensors of its static memory plan, the
 * weights its pipelines read, and the ordered steps that call one compiled
 * pipeline each. netc's code generator writes these tables as constants
 * (NAME_driver.c) and its JIT builds them in memory; both run them with
 * netc_program_run, so there is one interpreter, tested once.
 *
 * Layouts: tensors are float32 and dense, [N, F] or, for rank 4, NCHW or
 * channels-innermost NHWC (internal tensors only: the caller's input and
 * output are NCHW). Shapes in the tables are NCHW whatever the layout and hold
 * the batch as 1; arena offsets count floats per batch item, so a tensor of a
 * batch of N lives at arena + offset * N.
 *
 * Packed weights: a pack is a pipeline run once, at load, on some of the
 * file's weights (a conv's weight with the BatchNorm folded into it, say),
 * whose result the steps read as weight number num_weights + pack index.
 *
 *===----------------------------------------------------------------------===*/
#ifndef NETC_PROGRAM_H
#define NETC_PROGRAM_H

#include "netc/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A compiled pipeline's argv entry point: args are halide_buffer_t pointers,
 * its input tensors, then its weights, then its output. Returns 0 on success. */
typedef int (*netc_pipeline_fn)(void **args);

typedef enum netc_storage {
  NETC_STORAGE_INPUT = 0,  /* the caller's input */
  NETC_STORAGE_OUTPUT = 1, /* the caller's output */
  NETC_STORAGE_ARENA = 2,  /* the arena, at `offset` floats per batch item */
} netc_storage;

typedef enum netc_layout {
  NETC_LAYOUT_NCHW = 0, /* and [N, F]: the last dimension innermost */
  NETC_LAYOUT_NHWC = 1, /* rank 4 only: channels innermost */
} netc_layout;

typedef struct netc_program_tensor {
  int rank;
  int64_t shape[NETC_MAX_RANK]; /* NCHW; shape[0], the batch, is 1 */
  netc_storage storage;         /* where its memory is (views: their owner's) */
  int64_t offset;               /* NETC_STORAGE_ARENA: floats per batch item */
  netc_layout layout;
  /* -1, or the tensor (rank 4, not itself a slice) whose channels
   * [channel_offset, channel_offset + shape[1]) this one is: it has that
   * tensor's memory and strides (a concat's operands, written in place). */
  int slice_of;
  int64_t channel_offset;
} netc_program_tensor;

/* A weight computed at load: pipeline(sources..., result). */
typedef struct netc_program_pack {
  int pipeline;
  int num_sources;
  const int *sources; /* indices into the program's weights (the file's) */
  int rank;
  int64_t shape[NETC_MAX_RANK]; /* the result's, dense, last dimension innermost */
  const char *name;   /* for messages */
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

typedef struct netc_program {
  const char *name; /* the model's C name: messages say "NAME_run: ..." */
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
  int64_t arena_floats_per_sample;
  /* Optional: sets the size of the pipelines' thread pool (threads > 0). */
  int (*set_num_threads)(int threads);
  /* Optional: when set, steps call invoke(invoke_context, pipeline, args)
   * instead of pipelines[pipeline](args) (the JIT). */
  int (*invoke)(void *invoke_context, int pipeline, void **args);
  void *invoke_context;
} netc_program;

/* The weights of a program, loaded. */
typedef struct netc_model netc_model;

/* Maps the safetensors file, checks it strictly against program->expected
 * (every problem reported by key), copies the weights the steps read into
 * aligned memory and computes the packs; the file is closed on return and
 * weights only packs read are not kept. `program` must outlive the model. */
netc_status netc_program_load(const netc_program *program, const char *weights_path,
                              netc_model **model, netc_error *error);
void netc_model_free(netc_model *model);

/* Bytes of arena a batch of `batch` needs (0 for batch < 1). */
size_t netc_program_arena_bytes(const netc_program *program, int64_t batch);

/* Runs every step on `input` ([N, ...] as program->tensors[input], N =
 * input_shape[0]) into `output`. arena: NULL (allocated for the call) or at
 * least netc_program_arena_bytes(N) bytes, 4-byte aligned. */
netc_status netc_program_run(const netc_model *model, const float *input, int input_rank,
                             const int64_t *input_shape, float *output, void *arena,
                             size_t arena_bytes, int threads, netc_error *error);

/* Runs only steps [first, last) over the same buffers, as netc_program_run
 * would run them (for per-step profiles: the arena holds what earlier steps
 * of an earlier run left there). */
netc_status netc_program_run_steps(const netc_model *model, size_t first, size_t last,
                                   const float *input, int input_rank, const int64_t *input_shape,
                                   float *output, void *arena, size_t arena_bytes, int threads,
                                   netc_error *error);

#ifdef __cplusplus
}
#endif

#endif /* NETC_PROGRAM_H */
