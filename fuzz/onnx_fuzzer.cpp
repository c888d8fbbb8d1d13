//===- onnx_fuzzer.cpp - libFuzzer target for the ONNX front end ----------===//
//
// The input is an ONNX file's bytes: parsed, checked (libonnx's checker and
// shape inference) and converted to a layer graph, at the model's own sizes
// and with an input shape bound. Any crash, hang, leak or sanitizer report
// is a bug: every malformed model must end in an error message.
//
//===----------------------------------------------------------------------===//
#include "netc/FrontEnd/OnnxImport.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  auto model = netc::onnx::Model::parse(std::string(reinterpret_cast<const char *>(data), size),
                                        "fuzz.onnx", error);
  if (!model)
    return 0;
  for (const std::vector<int64_t> &shape : {std::vector<int64_t>{}, {2, 3, 8, 8}}) {
    std::optional<netc::dsl::Graph> graph = model->import(shape, error);
    if (graph)
      (void)graph->weights().size();
  }
  return 0;
}
