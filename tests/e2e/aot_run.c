/*===- aot_run.c - Runs one netc-generated model on a .npy batch ---------===*
 *
 *   aot_run-MODEL W.safetensors X.npy Y.npy [threads]
 *
 * Plain C, built once per model with NETC_MODEL set to its name (by CMake
 * for the zoo, by the tests' harness for specs of their own), so it also
 * checks that a C program links a generated library. Failures print
 * "STATUS_NAME: message" and exit with status 1.
 *
 *===----------------------------------------------------------------------===*/
#define NETC_STR2(x) #x
#define NETC_STR(x) NETC_STR2(x)
#define NETC_CAT2(a, b) a##b
#define NETC_CAT(a, b) NETC_CAT2(a, b)
#define NETC_FN(suffix) NETC_CAT(NETC_MODEL, suffix)
#include NETC_STR(NETC_MODEL.h)

#include <stdio.h>
#include <stdlib.h>

static int fail_with(netc_status status, const netc_error *error) {
  fprintf(stderr, "%s: %s\n", netc_status_name(status), error->message);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: %s W.safetensors X.npy Y.npy [threads]\n", argv[0]);
    return 2;
  }
  int threads = argc == 5 ? atoi(argv[4]) : 0;
  netc_error error = {{0}};
  NETC_FN(_model) *model = NULL;
  netc_status status = NETC_FN(_load)(argv[1], &model, &error);
  if (status != NETC_OK)
    return fail_with(status, &error);
  netc_array input = {0};
  status = netc_npy_read(argv[2], &input, &error);
  if (status != NETC_OK) {
    NETC_FN(_free)(model);
    return fail_with(status, &error);
  }
  int64_t batch = input.rank > 0 ? input.shape[0] : 0;
  size_t count = (size_t)(batch > 0 ? batch : 0) * NETC_CAT(NETC_MODEL_UPPER, _OUTPUT_ELEMENTS_PER_SAMPLE);
  float *output = malloc(count ? count * sizeof(float) : 4);
  if (!output) {
    netc_array_free(&input);
    NETC_FN(_free)(model);
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  status = NETC_FN(_run)(model, input.data, input.rank, input.shape, output, count, NULL, 0, threads,
                         &error);
  netc_array_free(&input);
  NETC_FN(_free)(model);
  if (status == NETC_OK) {
    int64_t shape[] = NETC_CAT(NETC_MODEL_UPPER, _OUTPUT_SHAPE);
    shape[0] = batch;
    status = netc_npy_write(argv[3], output, NETC_CAT(NETC_MODEL_UPPER, _OUTPUT_RANK), shape,
                            &error);
  }
  free(output);
  return status == NETC_OK ? 0 : fail_with(status, &error);
}
