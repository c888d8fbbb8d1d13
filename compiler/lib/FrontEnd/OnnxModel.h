//===- OnnxModel.h - The ONNX front end's shared internals -------*- C++ -*-===//
#ifndef NETC_FRONTEND_ONNXMODEL_H
#define NETC_FRONTEND_ONNXMODEL_H

#include "netc/FrontEnd/OnnxImport.h"

#include <onnx/onnx_pb.h>

#include <map>
#include <string>
#include <vector>

namespace netc::onnx {

struct Model::Impl {
  std::string path; // as given
  std::string dir;  // where external data files are looked up
  ::onnx::ModelProto proto;
  int opset = 0; // of the default domain
  std::map<std::string, const ::onnx::TensorProto *> initializers;
  /// Where a weight's data is: a tensor of the file (null: a graph input
  /// taken as a weight, whose data comes at load), transposed where the
  /// layer reads the 2-d tensor the other way round (MatMul's B [K, M] as
  /// a linear layer's [M, K]).
  struct WeightSource {
    const ::onnx::TensorProto *proto = nullptr;
    bool transpose = false;
  };
  /// Each weight key of the last import and its data.
  std::map<std::string, WeightSource> weightSources;

  /// ONNX's shape inference over the model, strict; false with its message.
  bool inferShapes(std::string &error);
  /// The tensor's bytes as stored raw: raw_data, or its external file.
  bool rawData(const ::onnx::TensorProto &t, std::string &bytes, std::string &error) const;
  /// Every element, as doubles (any numeric type); false with a message.
  bool readValues(const ::onnx::TensorProto &t, std::vector<double> &out,
                  std::string &error) const;
  /// Every element of a float32 tensor.
  bool readFloats(const ::onnx::TensorProto &t, std::vector<float> &out,
                  std::string &error) const;
};

/// "float32", "int64", ...
const char *dataTypeName(int32_t type);
/// "[2,3]"
std::string formatDims(const std::vector<int64_t> &dims);
int64_t elementCount(const ::onnx::TensorProto &t);

} // namespace netc::onnx

#endif // NETC_FRONTEND_ONNXMODEL_H
