//===- OnnxModel.cpp - Reading ONNX files and their tensors ---------------===//
//
// The file side of the ONNX front end: parse, opset and checker, tensor
// data (inline, raw or in external files) and the safetensors export of the
// weights. The conversion of the graph lives in OnnxImport.cpp.
//
//===----------------------------------------------------------------------===//
#include "OnnxModel.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace netc::onnx {

using ::onnx::TensorProto;

namespace {

/// The first line of a libonnx exception's message (they run on with
/// context lines that repeat the model).
std::string firstLine(const char *what) {
  std::string s(what);
  size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

} // namespace

const char *dataTypeName(int32_t type) {
  switch (type) {
  case TensorProto::FLOAT: return "float32";
  case TensorProto::UINT8: return "uint8";
  case TensorProto::INT8: return "int8";
  case TensorProto::UINT16: return "uint16";
  case TensorProto::INT16: return "int16";
  case TensorProto::INT32: return "int32";
  case TensorProto::INT64: return "int64";
  case TensorProto::STRING: return "string";
  case TensorProto::BOOL: return "bool";
  case TensorProto::FLOAT16: return "float16";
  case TensorProto::DOUBLE: return "float64";
  case TensorProto::UINT32: return "uint32";
  case TensorProto::UINT64: return "uint64";
  case TensorProto::BFLOAT16: return "bfloat16";
  default: return "an unknown data type";
  }
}

std::string formatDims(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

std::unique_ptr<Model> Model::load(const std::string &path, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open the ONNX file: " + std::strerror(errno);
    return nullptr;
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  return parse(bytes.str(), path, error);
}

std::unique_ptr<Model> Model::parse(const std::string &data, const std::string &path,
                                    std::string &error) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->dir = directoryOf(path);
  if (data.empty() || !impl->proto.ParseFromString(data)) {
    error = path + ": not an ONNX model (" +
            (data.empty() ? std::string("the file is empty")
                          : "its " + std::to_string(data.size()) +
                                " bytes do not parse as an ONNX ModelProto; is it truncated?") +
            ")";
    return nullptr;
  }
  const ::onnx::ModelProto &proto = impl->proto;
  if (!proto.has_graph() || proto.graph().node_size() == 0) {
    error = path + ": not an ONNX model (no graph, or a graph without nodes)";
    return nullptr;
  }
  for (const ::onnx::OperatorSetIdProto &set : proto.opset_import())
    if (set.domain().empty() || set.domain() == "ai.onnx")
      impl->opset = static_cast<int>(set.version());
  if (impl->opset == 0) {
    error = path + ": the model imports no opset of the default ONNX domain";
    return nullptr;
  }
  // Older opsets pass here; the conversions take each op where its
  // definition is opset 7's (OnnxImport.cpp).
  if (impl->opset > kMaxOpset) {
    error = path + ": the model uses opset " + std::to_string(impl->opset) +
            ", newer than netc knows (opsets " + std::to_string(kMinOpset) + " to " +
            std::to_string(kMaxOpset) + "); export it with an opset in that range "
            "(torch.onnx.export(..., opset_version=" + std::to_string(kMaxOpset) + "))";
    return nullptr;
  }
  // External data first, for netc's own message.
  bool external = false;
  for (const TensorProto &t : proto.graph().initializer()) {
    if (t.data_location() != TensorProto::EXTERNAL)
      continue;
    external = true;
    std::string location;
    for (const ::onnx::StringStringEntryProto &kv : t.external_data())
      if (kv.key() == "location")
        location = kv.value();
    std::string file = impl->dir + "/" + location;
    if (location.empty() || location.find("..") != std::string::npos || location[0] == '/' ||
        !std::ifstream(file)) {
      error = path + ": initializer '" + t.name() + "' keeps its data in the external file '" +
              location + "', which " +
              (location.empty() ? std::string("is not named")
               : location.find("..") != std::string::npos || location[0] == '/'
                   ? std::string("lies outside the model's directory")
                   : "cannot be opened (" + file + ": " + std::strerror(errno) + ")") +
              "; keep the data files next to the model";
      return nullptr;
    }
  }
  try {
    // A model with external data is checked by its path, so that the
    // checker finds the data next to it (libonnx 1.12 takes the model's
    // directory no other way).
    if (external)
      ::onnx::checker::check_model(path);
    else
      ::onnx::checker::check_model(proto);
  } catch (const std::exception &e) {
    error = path + ": not a valid ONNX model: " + firstLine(e.what());
    return nullptr;
  }
  for (const TensorProto &t : proto.graph().initializer())
    impl->initializers[t.name()] = &t;
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

bool Model::Impl::inferShapes(std::string &error) {
  // Strict: a tensor whose shape or type does not fit its use is an error,
  // named by its node. Run on a graph netc has converted, whose attributes
  // and ranks its conversions checked: libonnx 1.12's inference crashes on
  // some malformed nodes (a Conv of a 2-d input) rather than reporting
  // them. The weights' data are set aside meanwhile, so that nothing large
  // is copied; small initializers keep theirs, which inference reads as
  // values (a Slice's starts and ends, a Reshape's shape).
  ::onnx::GraphProto &graph = *proto.mutable_graph();
  constexpr size_t kSmall = 4096; // bytes: shape arithmetic is a few int64s
  std::vector<std::string> data(static_cast<size_t>(graph.initializer_size()));
  for (int i = 0; i < graph.initializer_size(); ++i)
    if (graph.initializer(i).raw_data().size() > kSmall)
      data[i].swap(*graph.mutable_initializer(i)->mutable_raw_data());
  bool ok = true;
  try {
    ::onnx::shape_inference::InferShapes(proto, ::onnx::OpSchemaRegistry::Instance(),
                                        ::onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception &e) {
    error = path + ": ONNX shape inference fails: " + firstLine(e.what());
    ok = false;
  }
  for (int i = 0; i < graph.initializer_size(); ++i)
    if (!data[i].empty())
      data[i].swap(*graph.mutable_initializer(i)->mutable_raw_data());
  return ok;
}
Model::~Model() = default;

bool isOnnxPath(const std::string &path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

std::string defaultName(const std::string &path) {
  std::string base = path;
  size_t slash = base.rfind('/');
  if (slash != std::string::npos)
    base = base.substr(slash + 1);
  base = base.substr(0, base.size() - 5); // ".onnx"
  std::string name;
  for (char ch : base)
    name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  while (name.find("__") != std::string::npos)
    name.replace(name.find("__"), 2, "_");
  while (!name.empty() && name.back() == '_')
    name.pop_back();
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) || name[0] == '_')
    name = "m_" + name;
  return name;
}

//===----------------------------------------------------------------------===//
// Tensor data
//===----------------------------------------------------------------------===//

namespace {

size_t elementSize(int32_t type) {
  switch (type) {
  case TensorProto::FLOAT: case TensorProto::INT32: case TensorProto::UINT32: return 4;
  case TensorProto::INT64: case TensorProto::UINT64: case TensorProto::DOUBLE: return 8;
  case TensorProto::INT16: case TensorProto::UINT16: case TensorProto::FLOAT16:
  case TensorProto::BFLOAT16: return 2;
  case TensorProto::INT8: case TensorProto::UINT8: case TensorProto::BOOL: return 1;
  default: return 0;
  }
}

} // namespace

int64_t elementCount(const TensorProto &t) {
  int64_t n = 1;
  for (int64_t d : t.dims())
    n *= d;
  return n;
}

bool Model::Impl::rawData(const TensorProto &t, std::string &bytes, std::string &error) const {
  std::string what = "tensor '" + t.name() + "'";
  if (t.data_location() != TensorProto::EXTERNAL) {
    bytes = t.raw_data();
    return true;
  }
  std::string location;
  int64_t offset = 0, length = -1;
  for (const ::onnx::StringStringEntryProto &kv : t.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset")
      offset = std::atoll(kv.value().c_str());
    else if (kv.key() == "length")
      length = std::atoll(kv.value().c_str());
  }
  std::string file = dir + "/" + location;
  std::ifstream in(file, std::ios::binary);
  if (location.empty() || !in) {
    error = path + ": " + what + " keeps its data in the external file '" + location +
            "', which " + (location.empty() ? "is not named" : "cannot be opened (" + file +
                                                                  ": " + std::strerror(errno) +
                                                                  ")") +
            "; keep the data files next to the model";
    return false;
  }
  in.seekg(0, std::ios::end);
  int64_t size = in.tellg();
  if (length < 0)
    length = size - offset;
  if (offset < 0 || offset + length > size) {
    error = path + ": " + what + " reads bytes " + std::to_string(offset) + " to " +
            std::to_string(offset + length) + " of '" + location + "', which has " +
            std::to_string(size) + " (is the data file truncated?)";
    return false;
  }
  bytes.resize(static_cast<size_t>(length));
  in.seekg(offset);
  in.read(bytes.data(), length);
  return true;
}

bool Model::Impl::readValues(const TensorProto &t, std::vector<double> &out,
                             std::string &error) const {
  std::string what = path + ": tensor '" + t.name() + "'";
  int64_t count = elementCount(t);
  int32_t type = t.data_type();
  auto sizeError = [&](int64_t got) {
    error = what + " holds " + std::to_string(got) + " values but its shape " +
            formatDims({t.dims().begin(), t.dims().end()}) + " needs " + std::to_string(count);
    return false;
  };
  bool raw = t.data_location() == TensorProto::EXTERNAL || t.has_raw_data();
  out.clear();
  if (raw) {
    std::string bytes;
    if (!rawData(t, bytes, error))
      return false;
    size_t size = elementSize(type);
    if (size == 0 || type == TensorProto::FLOAT16 || type == TensorProto::BFLOAT16) {
      error = what + " is of type " + dataTypeName(type) + ", which netc does not read";
      return false;
    }
    if (bytes.size() != static_cast<size_t>(count) * size)
      return sizeError(static_cast<int64_t>(bytes.size() / size));
    out.resize(static_cast<size_t>(count));
    const char *p = bytes.data();
    for (int64_t i = 0; i < count; ++i, p += size) {
      switch (type) {
      case TensorProto::FLOAT: { float v; std::memcpy(&v, p, 4); out[i] = v; break; }
      case TensorProto::DOUBLE: { double v; std::memcpy(&v, p, 8); out[i] = v; break; }
      case TensorProto::INT64: { int64_t v; std::memcpy(&v, p, 8); out[i] = double(v); break; }
      case TensorProto::UINT64: { uint64_t v; std::memcpy(&v, p, 8); out[i] = double(v); break; }
      case TensorProto::INT32: { int32_t v; std::memcpy(&v, p, 4); out[i] = v; break; }
      case TensorProto::UINT32: { uint32_t v; std::memcpy(&v, p, 4); out[i] = v; break; }
      case TensorProto::INT16: { int16_t v; std::memcpy(&v, p, 2); out[i] = v; break; }
      case TensorProto::UINT16: { uint16_t v; std::memcpy(&v, p, 2); out[i] = v; break; }
      case TensorProto::INT8: out[i] = static_cast<int8_t>(*p); break;
      default: out[i] = static_cast<uint8_t>(*p); break; // UINT8, BOOL
      }
    }
    return true;
  }
  switch (type) {
  case TensorProto::FLOAT:
    out.assign(t.float_data().begin(), t.float_data().end());
    break;
  case TensorProto::DOUBLE:
    out.assign(t.double_data().begin(), t.double_data().end());
    break;
  case TensorProto::INT64:
    for (int64_t v : t.int64_data())
      out.push_back(static_cast<double>(v));
    break;
  case TensorProto::UINT64: case TensorProto::UINT32:
    for (uint64_t v : t.uint64_data())
      out.push_back(static_cast<double>(v));
    break;
  case TensorProto::INT32: case TensorProto::INT16: case TensorProto::INT8:
  case TensorProto::UINT16: case TensorProto::UINT8: case TensorProto::BOOL:
    for (int32_t v : t.int32_data())
      out.push_back(v);
    break;
  default:
    error = what + " is of type " + dataTypeName(type) + ", which netc does not read";
    return false;
  }
  if (static_cast<int64_t>(out.size()) != count)
    return sizeError(static_cast<int64_t>(out.size()));
  return true;
}

bool Model::Impl::readFloats(const TensorProto &t, std::vector<float> &out,
                             std::string &error) const {
  if (t.data_type() != TensorProto::FLOAT) {
    error = path + ": tensor '" + t.name() + "' is " + dataTypeName(t.data_type()) +
            "; netc's weights are float32";
    return false;
  }
  std::vector<double> values;
  if (!readValues(t, values, error))
    return false;
  out.assign(values.begin(), values.end());
  return true;
}

//===----------------------------------------------------------------------===//
// The weights as safetensors
//===----------------------------------------------------------------------===//

bool Model::writeWeights(const dsl::Graph &graph, const std::string &path, std::string &error) {
  const Impl &impl = *impl_;
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::vector<std::string> data;
  size_t offset = 0;
  for (const dsl::Weight *w : graph.weights()) {
    if (w->dtype == dsl::DType::I64) {
      // BatchNorm's num_batches_tracked, which the graph does not hold:
      // written as 0 (inference never reads it).
      size_t bytes = sizeof(int64_t);
      for (int64_t d : w->shape)
        bytes *= static_cast<size_t>(d);
      header[w->key] = {{"dtype", "I64"}, {"shape", w->shape},
                        {"data_offsets", {offset, offset + bytes}}};
      offset += bytes;
      data.emplace_back(bytes, '\0');
      continue;
    }
    auto it = impl.weightSources.find(w->key);
    if (it == impl.weightSources.end() || !it->second.proto) {
      error = "weight '" + w->key + "' is an input of the ONNX graph, not an initializer: "
              "its value comes from the weights file at load, and the model holds none to "
              "write";
      return false;
    }
    std::vector<float> values;
    const TensorProto &t = *it->second.proto;
    if (!impl.readFloats(t, values, error))
      return false;
    if (it->second.transpose) { // [K, M] as [M, K]
      int64_t rows = t.dims(0), cols = t.dims(1);
      std::vector<float> transposed(values.size());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          transposed[c * rows + r] = values[r * cols + c];
      values.swap(transposed);
    }
    size_t bytes = values.size() * sizeof(float);
    header[w->key] = {{"dtype", "F32"}, {"shape", w->shape}, {"data_offsets", {offset,
                                                                                offset + bytes}}};
    offset += bytes;
    data.emplace_back(reinterpret_cast<const char *>(values.data()), bytes);
  }
  std::string text = header.dump();
  while ((text.size() + 8) % 8 != 0)
    text += ' ';
  std::string temp = path + ".tmpXXXXXX";
  int fd = mkstemp(temp.data());
  if (fd < 0) {
    error = path + ": cannot write the weights: " + std::strerror(errno);
    return false;
  }
  FILE *f = fdopen(fd, "wb");
  uint64_t length = text.size();
  unsigned char le[8];
  for (int i = 0; i < 8; ++i)
    le[i] = static_cast<unsigned char>(length >> (8 * i));
  bool ok = f && std::fwrite(le, 1, 8, f) == 8 &&
            std::fwrite(text.data(), 1, text.size(), f) == text.size();
  for (const std::string &bytes : data)
    ok = ok && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = f && std::fclose(f) == 0 && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    error = path + ": cannot write the weights: " + std::strerror(errno);
    std::remove(temp.c_str());
    return false;
  }
  return true;
}

} // namespace netc::onnx
