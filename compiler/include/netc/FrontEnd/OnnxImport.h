//===- OnnxImport.h - ONNX models as netc layer graphs ------------*- C++ -*-===//
//
// netc's second front end. An ONNX file is read with libonnx (protobuf
// model, checker, shape inference) and converted node by node, one
// conversion per ONNX op, into the same layer graph the spec elaborator
// builds (netc/dsl/Graph.h); from there BuildNN makes the nn dialect as for
// a spec. The initializers the layers read become the model's weights,
// keyed by their names in the graph.
//
// Plain C++17 with exceptions (libonnx reports through them): no MLIR here.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_FRONTEND_ONNXIMPORT_H
#define NETC_FRONTEND_ONNXIMPORT_H

#include "netc/dsl/Graph.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace netc::onnx {

/// The ONNX opsets (default domain) netc converts.
constexpr int kMinOpset = 7;
constexpr int kMaxOpset = 17;

/// An ONNX model, read and checked, with its initializers' data at hand.
class Model {
public:
  /// Reads `path` and runs ONNX's checker; null with a message naming the
  /// file when it is missing, truncated, corrupt, invalid, or of an opset
  /// netc does not know.
  static std::unique_ptr<Model> load(const std::string &path, std::string &error);
  /// The same for a model's bytes; `path` names it in messages and places
  /// its external data.
  static std::unique_ptr<Model> parse(const std::string &bytes, const std::string &path,
                                      std::string &error);
  ~Model();

  /// The network as a layer graph for `inputShape` (N,C,H,W: binds the
  /// input's symbolic sizes; the batch stays dynamic). Every problem is
  /// reported at once in `error` (each node by name, the unsupported ops
  /// counted), and then nothing is returned.
  std::optional<dsl::Graph> import(const std::vector<int64_t> &inputShape, std::string &error);

  /// Writes the weights `graph` (from import) reads as a safetensors file,
  /// by their keys, atomically; false with a message naming the tensor.
  bool writeWeights(const dsl::Graph &graph, const std::string &path, std::string &error);

  struct Impl;

private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Whether `path` names an ONNX file (by its extension).
bool isOnnxPath(const std::string &path);

/// A C identifier for the library of the model at `path`, from the file's
/// name ("models/resnet18.onnx": "resnet18"; "2-layer net.onnx":
/// "m_2_layer_net").
std::string defaultName(const std::string &path);

} // namespace netc::onnx

#endif // NETC_FRONTEND_ONNXIMPORT_H
