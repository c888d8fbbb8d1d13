/* Runs the netc-compiled `tiny` network from plain C.
 *   classify WEIGHTS.safetensors INPUT.npy OUTPUT.npy */
#include "tiny.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s WEIGHTS.safetensors INPUT.npy OUTPUT.npy\n", argv[0]);
    return 2;
  }
  netc_error error;
  tiny_model *model = NULL;
  netc_array input = {0};
  netc_status status = tiny_load(argv[1], &model, &error);
  if (status == NETC_OK)
    status = netc_npy_read(argv[2], &input, &error);
  float *output = NULL;
  if (status == NETC_OK) {
    output = malloc((size_t)input.shape[0] * TINY_OUTPUT_ELEMENTS_PER_SAMPLE * sizeof(float));
    size_t capacity = (size_t)input.shape[0] * TINY_OUTPUT_ELEMENTS_PER_SAMPLE;
    status = tiny_run(model, input.data, input.rank, input.shape, output, capacity, NULL, 0, 0,
                      &error);
  }
  if (status == NETC_OK) {
    int64_t shape[] = TINY_OUTPUT_SHAPE;
    shape[0] = input.shape[0];
    status = netc_npy_write(argv[3], output, TINY_OUTPUT_RANK, shape, &error);
  }
  if (status != NETC_OK)
    fprintf(stderr, "%s: %s\n", netc_status_name(status), error.message);
  free(output);
  netc_array_free(&input);
  tiny_free(model);
  return status == NETC_OK ? 0 : 1;
}
