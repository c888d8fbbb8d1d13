/*===- aot_run.c - Runs one netc-generated model on a .npy batch ---------===*
 *
 *   aot_run-MODEL W.safetensors X.npy Y.npy [threads [seconds]]
 *
 * Plain C, built once per model with NETC_MODEL set to its name (by CMake
 * for the zoo, by the tests' harness for specs of their own, by
 * tools/cuda_check.sh for the device check), so it also checks that a C
 * program links a generated library. With `seconds`, after the run that
 * writes Y it runs the model again and again for at least that long (and
 * 3 runs) and prints "runs=K median_ms=M": each run is what a caller pays
 * (on a GPU: the input copied in, every step, the output copied back).
 * It prints "isa=NAME", the code variant the library chose for this CPU
 * (NETC_ISA caps it). Failures print "STATUS_NAME: message" and exit with
 * status 1.
 *
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 199309L
#define NETC_STR2(x) #x
#define NETC_STR(x) NETC_STR2(x)
#define NETC_CAT2(a, b) a##b
#define NETC_CAT(a, b) NETC_CAT2(a, b)
#define NETC_FN(suffix) NETC_CAT(NETC_MODEL, suffix)
#include NETC_STR(NETC_MODEL.h)

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int fail_with(netc_status status, const netc_error *error) {
  fprintf(stderr, "%s: %s\n", netc_status_name(status), error->message);
  return 1;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Runs the model for at least `seconds` (and 3 runs); prints the median. */
static netc_status time_runs(const NETC_FN(_model) *model, const netc_array *input, float *output,
                             size_t count, int threads, double seconds, netc_error *error) {
  size_t capacity = 1 << 16, runs = 0;
  double *times = malloc(capacity * sizeof(double));
  if (!times) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  netc_status status = NETC_OK;
  double start = now_ms();
  while (status == NETC_OK && runs < capacity && (runs < 3 || now_ms() - start < seconds * 1e3)) {
    double t0 = now_ms();
    status = NETC_FN(_run)(model, input->data, input->rank, input->shape, output, count, NULL, 0,
                           threads, error);
    times[runs++] = now_ms() - t0;
  }
  if (status == NETC_OK) {
    qsort(times, runs, sizeof(double), by_value);
    printf("runs=%zu median_ms=%.4f\n", runs, times[runs / 2]);
  }
  free(times);
  return status;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 6) {
    fprintf(stderr, "usage: %s W.safetensors X.npy Y.npy [threads [seconds]]\n", argv[0]);
    return 2;
  }
  int threads = argc >= 5 ? atoi(argv[4]) : 0;
  double seconds = argc == 6 ? atof(argv[5]) : 0;
  netc_error error = {{0}};
  NETC_FN(_model) *model = NULL;
  netc_status status = NETC_FN(_load)(argv[1], &model, &error);
  if (status != NETC_OK)
    return fail_with(status, &error);
  printf("isa=%s\n", NETC_FN(_isa)(model));
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
  if (status == NETC_OK) {
    int64_t shape[] = NETC_CAT(NETC_MODEL_UPPER, _OUTPUT_SHAPE);
    shape[0] = batch;
    status = netc_npy_write(argv[3], output, NETC_CAT(NETC_MODEL_UPPER, _OUTPUT_RANK), shape,
                            &error);
  }
  if (status == NETC_OK && seconds > 0)
    status = time_runs(model, &input, output, count, threads, seconds, &error);
  netc_array_free(&input);
  NETC_FN(_free)(model);
  free(output);
  return status == NETC_OK ? 0 : fail_with(status, &error);
}
