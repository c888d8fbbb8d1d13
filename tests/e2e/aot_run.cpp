//===- aot_run.cpp - Runs one netc-generated model on a .npy batch --------===//
//
//   aot_run-MODEL W.safetensors X.npy Y.npy [threads]
//
// Built once per model with NETC_MODEL set to its name. Failures print
// "STATUS_NAME: message" and exit with status 1.
//
//===----------------------------------------------------------------------===//
#define NETC_STR2(x) #x
#define NETC_STR(x) NETC_STR2(x)
#define NETC_CAT2(a, b) a##b
#define NETC_CAT(a, b) NETC_CAT2(a, b)
#define NETC_FN(suffix) NETC_CAT(NETC_MODEL, suffix)
#include NETC_STR(NETC_MODEL.h)

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {
int failWith(netc_status status, const netc_error &error) {
  std::fprintf(stderr, "%s: %s\n", netc_status_name(status), error.message);
  return 1;
}
} // namespace

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: %s W.safetensors X.npy Y.npy [threads]\n", argv[0]);
    return 2;
  }
  int threads = argc == 5 ? std::atoi(argv[4]) : 0;
  netc_error error{};
  NETC_FN(_model) *model = nullptr;
  netc_status status = NETC_FN(_load)(argv[1], &model, &error);
  if (status != NETC_OK)
    return failWith(status, error);
  netc_array input{};
  status = netc_npy_read(argv[2], &input, &error);
  if (status != NETC_OK) {
    NETC_FN(_free)(model);
    return failWith(status, error);
  }
  int64_t batch = input.rank > 0 ? input.shape[0] : 0;
  std::vector<float> output(static_cast<size_t>(batch > 0 ? batch : 0) *
                            NETC_CAT(NETC_MODEL_UPPER, _OUTPUT_ELEMENTS_PER_SAMPLE));
  status = NETC_FN(_run)(model, input.data, input.rank, input.shape, output.data(), nullptr, 0,
                         threads, &error);
  netc_array_free(&input);
  NETC_FN(_free)(model);
  if (status != NETC_OK)
    return failWith(status, error);
  int64_t shape[] = NETC_CAT(NETC_MODEL_UPPER, _OUTPUT_SHAPE);
  shape[0] = batch;
  status = netc_npy_write(argv[3], output.data(), NETC_CAT(NETC_MODEL_UPPER, _OUTPUT_RANK), shape,
                          &error);
  return status == NETC_OK ? 0 : failWith(status, error);
}
