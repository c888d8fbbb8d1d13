/*===- device_runs.c - One GPU model, many runs, several threads ----------===*
 *
 *   device_runs-MODEL W.safetensors X.npy OUT_PREFIX
 *
 * What a long-lived caller does to a GPU model's device memory: one load,
 * then runs of X's first 1, then all N, then the first 2 items, each written
 * to OUT_PREFIX{1,N,2}.npy (compared with PyTorch by check_gpu.py); then 4
 * threads at once, each running all N items 5 times, every output equal bit
 * for bit to the single run's. Plain C11 with pthreads; NETC_MODEL as in
 * aot_run.c. Failures print "STATUS_NAME: message" or what differed and exit
 * with status 1.
 *
 *===----------------------------------------------------------------------===*/
#define NETC_STR2(x) #x
#define NETC_STR(x) NETC_STR2(x)
#define NETC_CAT2(a, b) a##b
#define NETC_CAT(a, b) NETC_CAT2(a, b)
#define NETC_FN(suffix) NETC_CAT(NETC_MODEL, suffix)
#include NETC_STR(NETC_MODEL.h)

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_SAMPLE NETC_CAT(NETC_MODEL_UPPER, _OUTPUT_ELEMENTS_PER_SAMPLE)

typedef struct {
  const NETC_FN(_model) * model;
  const netc_array *input;
  const float *expected;
  int failed;
  char message[sizeof(((netc_error *)0)->message) + 64];
} worker;

static size_t run_batch(const NETC_FN(_model) * model, const netc_array *input, int64_t batch,
                        float **output, netc_error *error, netc_status *status) {
  int64_t shape[NETC_MAX_RANK];
  memcpy(shape, input->shape, sizeof(int64_t) * (size_t)input->rank);
  shape[0] = batch;
  size_t count = (size_t)batch * PER_SAMPLE;
  *output = malloc(count * sizeof(float));
  if (!*output) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  *status = NETC_FN(_run)(model, input->data, input->rank, shape, *output, count, NULL, 0, 0, error);
  return count;
}

static void *work(void *arg) {
  worker *w = arg;
  for (int i = 0; i < 5 && !w->failed; ++i) {
    netc_error error = {{0}};
    netc_status status;
    float *output;
    size_t count = run_batch(w->model, w->input, w->input->shape[0], &output, &error, &status);
    if (status != NETC_OK) {
      w->failed = 1;
      snprintf(w->message, sizeof w->message, "%s: %s", netc_status_name(status), error.message);
    } else if (memcmp(output, w->expected, count * sizeof(float)) != 0) {
      w->failed = 1;
      snprintf(w->message, sizeof w->message, "run %d differs from the single run's output", i);
    }
    free(output);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s W.safetensors X.npy OUT_PREFIX\n", argv[0]);
    return 2;
  }
  netc_error error = {{0}};
  NETC_FN(_model) *model = NULL;
  netc_status status = NETC_FN(_load)(argv[1], &model, &error);
  netc_array input = {0};
  if (status == NETC_OK)
    status = netc_npy_read(argv[2], &input, &error);
  if (status != NETC_OK) {
    fprintf(stderr, "%s: %s\n", netc_status_name(status), error.message);
    return 1;
  }
  int64_t n = input.shape[0];
  int64_t batches[3] = {1, n, 2};
  float *all = NULL;
  for (int b = 0; b < 3; ++b) {
    float *output;
    run_batch(model, &input, batches[b], &output, &error, &status);
    if (status == NETC_OK) {
      int64_t shape[] = NETC_CAT(NETC_MODEL_UPPER, _OUTPUT_SHAPE);
      shape[0] = batches[b];
      char path[4096];
      snprintf(path, sizeof path, "%s%lld.npy", argv[3], (long long)batches[b]);
      status = netc_npy_write(path, output, NETC_CAT(NETC_MODEL_UPPER, _OUTPUT_RANK), shape,
                              &error);
    }
    if (status != NETC_OK) {
      fprintf(stderr, "%s: %s\n", netc_status_name(status), error.message);
      return 1;
    }
    if (b == 1)
      all = output;
    else
      free(output);
  }
  worker workers[4];
  pthread_t threads[4];
  for (int t = 0; t < 4; ++t) {
    workers[t] = (worker){model, &input, all, 0, {0}};
    pthread_create(&threads[t], NULL, work, &workers[t]);
  }
  int failed = 0;
  for (int t = 0; t < 4; ++t) {
    pthread_join(threads[t], NULL);
    if (workers[t].failed) {
      fprintf(stderr, "thread %d: %s\n", t, workers[t].message);
      failed = 1;
    }
  }
  free(all);
  netc_array_free(&input);
  NETC_FN(_free)(model);
  if (!failed)
    printf("4 threads x 5 runs of batch %lld: every output equal to the single run's\n",
           (long long)n);
  return failed;
}
