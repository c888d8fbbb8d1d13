//===- Jit.cpp - Running a lowered Program with Halide's JIT --------------===//
#include "netc/Execution/Jit.h"

#include "netc/runtime.h"

#include <cstring>
#include <memory>

namespace netc {

using lowering::Program;
using lowering::Tensor;

std::vector<ExpectedWeight> expectedWeights(const dsl::Graph &graph) {
  std::vector<ExpectedWeight> out;
  for (const dsl::Weight *w : graph.weights())
    out.push_back(ExpectedWeight{w->key, w->dtype == dsl::DType::F32 ? "F32" : "I64", w->shape});
  return out;
}

namespace {

/// A Halide view of `data` holding an NCHW / NF tensor with `batch` items.
Halide::Buffer<float> view(float *data, const std::vector<int64_t> &shape, int batch) {
  std::vector<int> sizes;
  for (size_t i = shape.size(); i-- > 0;)
    sizes.push_back(i == 0 ? batch : static_cast<int>(shape[i]));
  return Halide::Buffer<float>(data, sizes);
}

} // namespace

bool JitRunner::load(const std::string &weightsPath, const std::vector<ExpectedWeight> &expected,
                     std::string &error) {
  netc_error err{};
  netc_safetensors *file = nullptr;
  if (netc_safetensors_open(weightsPath.c_str(), &file, &err) != NETC_OK) {
    error = err.message;
    return false;
  }
  std::unique_ptr<netc_safetensors, void (*)(netc_safetensors *)> closer(file,
                                                                         netc_safetensors_close);
  std::vector<netc_param_spec> specs;
  for (const ExpectedWeight &w : expected) {
    netc_param_spec spec{};
    spec.key = w.key.c_str();
    spec.dtype = w.dtype.c_str();
    spec.rank = static_cast<int>(w.shape.size());
    for (size_t i = 0; i < w.shape.size() && i < NETC_MAX_RANK; ++i)
      spec.shape[i] = w.shape[i];
    specs.push_back(spec);
  }
  if (netc_safetensors_check(file, specs.data(), specs.size(), &err) != NETC_OK) {
    error = err.message;
    return false;
  }
  weights_.clear();
  for (const lowering::Weight &w : program_.weights) {
    netc_tensor_info info;
    if (netc_safetensors_find(file, w.key.c_str(), &info) != NETC_OK) {
      error = "internal error: weight '" + w.key + "' vanished after the check";
      return false;
    }
    std::vector<int> sizes;
    for (size_t i = w.shape.size(); i-- > 0;)
      sizes.push_back(static_cast<int>(w.shape[i]));
    Halide::Buffer<float> buffer(sizes);
    std::memcpy(buffer.data(), info.data, info.bytes); // the mapping may be unaligned
    weights_.push_back(std::move(buffer));
  }
  try {
    for (lowering::Group &group : program_.groups)
      group.pipeline.compile_jit(Halide::get_host_target());
  } catch (const Halide::Error &e) {
    error = std::string("Halide JIT compilation failed: ") + e.what();
    return false;
  }
  return true;
}

bool JitRunner::run(const float *input, int batch, float *output, std::string &error) {
  if (batch < 1) {
    error = "the batch must be at least 1";
    return false;
  }
  std::vector<float> arena(static_cast<size_t>(program_.arenaPerSample) * batch);
  auto pointer = [&](int t) {
    while (program_.tensors[t].kind == Tensor::Kind::Alias)
      t = program_.tensors[t].aliasOf;
    const Tensor &tensor = program_.tensors[t];
    switch (tensor.kind) {
    case Tensor::Kind::Input: return const_cast<float *>(input);
    case Tensor::Kind::Output: return output;
    default: return arena.data() + tensor.offset * batch;
    }
  };
  try {
    for (const lowering::Step &step : program_.steps) {
      lowering::Group &group = program_.groups[step.group];
      Halide::ParamMap params;
      for (size_t i = 0; i < step.inputs.size(); ++i)
        params.set(group.inputs[i],
                   view(pointer(step.inputs[i]), program_.tensors[step.inputs[i]].shape, batch));
      for (size_t i = 0; i < step.weights.size(); ++i)
        params.set(group.weights[i], weights_[step.weights[i]]);
      Halide::Buffer<float> out =
          view(pointer(step.output), program_.tensors[step.output].shape, batch);
      group.pipeline.realize(out, Halide::get_host_target(), params);
    }
  } catch (const Halide::Error &e) {
    error = std::string("Halide error while running: ") + e.what();
    return false;
  }
  return true;
}

} // namespace netc
