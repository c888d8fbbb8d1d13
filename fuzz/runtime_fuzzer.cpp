//===- runtime_fuzzer.cpp - libFuzzer target for the weight and array readers -===//
//
// The first byte picks the reader: even -> safetensors (then a strict check
// against a small fixed model, the full report, a walk over every tensor,
// and the same after stripping a key prefix), odd -> .npy.
// Every malformed input must end in a status and a message.
//
//===----------------------------------------------------------------------===//
#include "netc/runtime.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  netc_error error;
  const uint8_t *body = data + 1;
  size_t bodySize = size - 1;
  if (data[0] % 2 == 0) {
    netc_safetensors *file = nullptr;
    if (netc_safetensors_open_memory(body, bodySize, "fuzz", &file, &error) != NETC_OK)
      return 0;
    static const netc_param_spec spec[] = {{"w", "F32", 2, {2, 2}}, {"b", "F32", 1, {2}},
                                           {"n", "I64", 0, {}}};
    for (int pass = 0; pass < 2; ++pass) {
      (void)netc_safetensors_check(file, spec, 3, &error);
      char report[256];
      size_t needed = netc_safetensors_report(file, spec, 3, report, sizeof report);
      if (needed < 1 || std::strlen(report) + 1 > needed)
        __builtin_trap(); // the report's size is what it says
      volatile uint8_t sink = 0;
      for (size_t i = 0; i < netc_safetensors_count(file); ++i) {
        netc_tensor_info info;
        if (netc_safetensors_at(file, i, &info) == NETC_OK && info.bytes)
          sink ^= static_cast<const uint8_t *>(info.data)[info.bytes - 1];
      }
      if (pass == 0 && netc_safetensors_strip_prefix(file, "module.", &error) != NETC_OK)
        break;
    }
    netc_safetensors_close(file);
  } else {
    netc_array array;
    if (netc_npy_parse(body, bodySize, "fuzz", &array, &error) == NETC_OK)
      netc_array_free(&array);
  }
  return 0;
}
