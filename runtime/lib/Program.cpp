//===- Program.cpp - Loading weights for and running a netc_program -------===//
//
// The one interpreter of netc's step tables: generated libraries and the JIT
// both call it. Tensors reach the pipelines as Halide buffers (Buffers.h); a
// GPU program's live on the device (Device.h).
//
//===----------------------------------------------------------------------===//
#include "netc/program.h"

#include "Buffers.h"
#include "Call.h"
#include "Cpu.h"
#include "Device.h"
#include "Error.h"
#include "Weights.h"

#include <HalideRuntime.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

using netc::runtime::Call;
using netc::runtime::describe;
using netc::runtime::DeviceRun;
using netc::runtime::DeviceWeights;
using netc::runtime::elements;
using netc::runtime::elementsPerSample;
using netc::runtime::fail;
using netc::runtime::halideSaid;
using netc::runtime::bytesOf;
using netc::runtime::knownDtype;
using netc::runtime::tensorOffset;

struct netc_model {
  const netc_program *program = nullptr;
  // By step weight index (the file's weights, then the packs), 64-byte
  // aligned; null for a file weight only packs read.
  std::vector<void *> weights;
  // Derived from the tables once, at load, for every run:
  int64_t largestPerSample = 1; // elements per batch item of the largest tensor or arena
  size_t mostOperands = 1;      // buffers of the widest step
  // A GPU program: the same weights on the device (freed before the host's).
  std::unique_ptr<DeviceWeights> deviceWeights;
  ~netc_model() {
    deviceWeights.reset();
    for (void *w : weights)
      std::free(w);
  }
};

namespace {

std::string prefix(const netc_program *program, const char *function) {
  return std::string(program && program->name ? program->name : "netc_program") + "_" + function +
         ": ";
}

/// The tables are generated, but a bad index would be memory corruption, so
/// they are checked once, at load.
bool consistent(const netc_program &p, std::string &why) {
  auto tensorOk = [&](int t) { return t >= 0 && static_cast<size_t>(t) < p.num_tensors; };
  if (!tensorOk(p.input) || !tensorOk(p.output)) {
    why = "the input or output tensor index is out of range";
    return false;
  }
  if (!p.tensors || !p.steps || (!p.pipelines && !p.invoke) || p.arena_bytes_per_sample < 0) {
    why = "a table is missing";
    return false;
  }
  if (!netc_isa_name(p.isa)) {
    why = "the instruction set " + std::to_string(p.isa) + " is none of netc's";
    return false;
  }
  for (size_t t = 0; t < p.num_tensors; ++t) {
    const netc_program_tensor &d = p.tensors[t];
    // The caller's input and output are float32; a GPU program's tensors
    // too (its arena is a float buffer on the device).
    bool ok = d.rank >= 1 && d.rank <= NETC_MAX_RANK && d.offset >= 0 && knownDtype(d.dtype) &&
              d.offset % bytesOf(d.dtype) == 0 &&
              (d.dtype == NETC_DTYPE_F32 ||
               (d.storage == NETC_STORAGE_ARENA && !p.device)) &&
              (d.storage == NETC_STORAGE_INPUT || d.storage == NETC_STORAGE_OUTPUT ||
               d.storage == NETC_STORAGE_ARENA) &&
              (d.layout == NETC_LAYOUT_NCHW ||
               (d.layout == NETC_LAYOUT_NHWC && d.rank == 4 && d.storage == NETC_STORAGE_ARENA));
    for (int i = 0; ok && i < d.rank; ++i)
      ok = d.shape[i] >= 1;
    // An arena tensor lies inside the arena: offset + size <= bytes per item.
    if (ok && d.storage == NETC_STORAGE_ARENA)
      ok = elementsPerSample(d.shape, d.rank) * bytesOf(d.dtype) <=
           p.arena_bytes_per_sample - d.offset;
    // A slice: channels of a rank-4 tensor that is not a slice itself, with
    // the same storage, layout and spatial size.
    if (ok && d.slice_of != -1) {
      ok = tensorOk(d.slice_of) && d.rank == 4;
      const netc_program_tensor *parent = ok ? &p.tensors[d.slice_of] : nullptr;
      ok = ok && parent->rank == 4 && parent->slice_of == -1 && parent->dtype == d.dtype &&
           parent->storage == d.storage && parent->offset == d.offset &&
           parent->layout == d.layout && parent->shape[2] == d.shape[2] &&
           parent->shape[3] == d.shape[3] && d.channel_offset >= 0 &&
           d.channel_offset <= parent->shape[1] - d.shape[1];
    }
    if (!ok) {
      why = "tensor " + std::to_string(t) +
            " has a bad rank, size, element type, storage, layout, arena offset or slice";
      return false;
    }
  }
  if (p.device) {
    const netc_device_api &d = *p.device;
    if (!d.name || !d.device_interface || !d.device_malloc || !d.device_free ||
        !d.copy_to_device || !d.copy_to_host || !d.device_crop || !d.device_release_crop ||
        !d.reuse_device_allocations || !d.device_sync || p.invoke) {
      why = "the device table is incomplete";
      return false;
    }
  }
  for (size_t w = 0; w < p.num_weights; ++w) {
    if (p.weights[w].rank < 0 || p.weights[w].rank > NETC_MAX_RANK) {
      why = "weight " + std::to_string(w) + " has rank " + std::to_string(p.weights[w].rank);
      return false;
    }
  }
  for (size_t k = 0; k < p.num_packs; ++k) {
    const netc_program_pack &pack = p.packs[k];
    bool constant = pack.pipeline == NETC_PACK_CONSTANT;
    bool ok = (constant ? pack.values && pack.num_sources == 0 && pack.dtype == NETC_DTYPE_F32
                        : pack.pipeline >= 0 &&
                              static_cast<size_t>(pack.pipeline) < p.num_pipelines &&
                              (p.invoke || p.pipelines[pack.pipeline])) &&
              pack.num_sources >= 0 && pack.rank >= 1 && pack.rank <= NETC_MAX_RANK &&
              knownDtype(pack.dtype) && (pack.dtype == NETC_DTYPE_F32 || !p.device);
    for (int i = 0; ok && i < pack.num_sources; ++i)
      ok = pack.sources[i] >= 0 && static_cast<size_t>(pack.sources[i]) < p.num_weights;
    for (int i = 0; ok && i < pack.rank; ++i)
      ok = pack.shape[i] >= 1 && pack.shape[i] <= INT32_MAX;
    if (!ok) {
      why = "pack " + std::to_string(k) + " ('" + (pack.name ? pack.name : "") +
            "') refers to a missing pipeline or weight, or has a bad shape or element type";
      return false;
    }
  }
  for (size_t s = 0; s < p.num_steps; ++s) {
    const netc_program_step &step = p.steps[s];
    bool ok = step.pipeline >= 0 && static_cast<size_t>(step.pipeline) < p.num_pipelines &&
              (p.invoke || p.pipelines[step.pipeline]) && tensorOk(step.output) &&
              step.num_inputs >= 0 && step.num_weights >= 0;
    for (int i = 0; ok && i < step.num_inputs; ++i)
      ok = tensorOk(step.inputs[i]);
    for (int i = 0; ok && i < step.num_weights; ++i)
      ok = step.weights[i] >= 0 &&
           static_cast<size_t>(step.weights[i]) < p.num_weights + p.num_packs;
    if (!ok) {
      why = "step " + std::to_string(s) + " ('" + (step.name ? step.name : "") +
            "') refers to a missing pipeline, tensor or weight";
      return false;
    }
  }
  return true;
}

/// 64-byte aligned memory (at least one byte).
void *allocateBytes(int64_t bytes) {
  void *memory = nullptr;
  return posix_memalign(&memory, 64, static_cast<size_t>(bytes > 0 ? bytes : 1)) == 0 ? memory
                                                                                       : nullptr;
}

/// Elements per batch item of the program's largest tensor, or of its
/// arena as floats (on a GPU, one float buffer).
int64_t largestPerSample(const netc_program &p) {
  int64_t largest = std::max<int64_t>(p.arena_bytes_per_sample / 4, 1);
  for (size_t t = 0; t < p.num_tensors; ++t)
    largest = std::max(largest, elementsPerSample(p.tensors[t].shape, p.tensors[t].rank));
  return largest;
}

/// Why the program does not take an input of this shape, or "". Halide
/// indexes with 32-bit integers: every tensor of the batch must fit.
std::string inputProblem(const netc_program &p, int64_t largest, int rank, const int64_t *shape) {
  const netc_program_tensor &in = p.tensors[p.input];
  if (rank != in.rank)
    return "the input has rank " + std::to_string(rank) + ", expected " + std::to_string(in.rank);
  for (int d = 1; d < rank; ++d)
    if (shape[d] != in.shape[d])
      return "input dimension " + std::to_string(d) + " is " + std::to_string(shape[d]) +
             ", expected " + netc::runtime::formatShape(in.shape, in.rank).replace(1, 1, "N");
  if (shape[0] < 1 || shape[0] > INT32_MAX / largest)
    return "batch " + std::to_string(shape[0]) + " is out of range (1 to " +
           std::to_string(INT32_MAX / largest) + "; larger batches overflow 32-bit indexing)";
  return "";
}

/// Runs one of the program's pipelines: args[0] is set to the user context
/// (the call), the buffers follow.
int invokePipeline(const netc_program &p, int pipeline, Call &call, void **args) {
  void *userContext = &call;
  args[0] = &userContext;
  return p.invoke ? p.invoke(p.invoke_context, pipeline, args) : p.pipelines[pipeline](args);
}

/// Runs every pack pipeline once, on the file's weights, into its own
/// aligned buffer (model.weights[num_weights + k]).
netc_status computePacks(netc_model &model, netc_error *error) {
  const netc_program &p = *model.program;
  std::vector<halide_buffer_t> buffers;
  std::vector<halide_dimension_t> dims;
  std::vector<void *> args;
  for (size_t k = 0; k < p.num_packs; ++k) {
    const netc_program_pack &pack = p.packs[k];
    void *result = allocateBytes(elements(pack.shape, pack.rank) * bytesOf(pack.dtype));
    if (!result)
      return fail(error, NETC_ERROR_OUT_OF_MEMORY,
                  prefix(&p, "load") + "cannot allocate the packed weights of '" +
                      (pack.name ? pack.name : "") + "'");
    model.weights[p.num_weights + k] = result;
    if (pack.pipeline == NETC_PACK_CONSTANT) {
      std::memcpy(result, pack.values, static_cast<size_t>(elements(pack.shape, pack.rank)) * 4);
      continue;
    }
    size_t count = static_cast<size_t>(pack.num_sources) + 1;
    buffers.assign(count, halide_buffer_t());
    dims.assign(count * NETC_MAX_RANK, halide_dimension_t());
    args.assign(count + 1, nullptr);
    for (size_t i = 0; i < count; ++i) {
      bool isResult = i + 1 == count;
      const int64_t *shape = isResult ? pack.shape : p.weights[pack.sources[i]].shape;
      int rank = isResult ? pack.rank : p.weights[pack.sources[i]].rank;
      const void *data = isResult ? result : model.weights[pack.sources[i]];
      describe(buffers[i], &dims[i * NETC_MAX_RANK], data, rank, shape, 0, NETC_LAYOUT_NCHW,
               nullptr, isResult ? pack.dtype : NETC_DTYPE_F32);
      args[i + 1] = &buffers[i];
    }
    Call call(netc::runtime::resolveThreads(0));
    if (int rc = invokePipeline(p, pack.pipeline, call, args.data()))
      return fail(error, NETC_ERROR_EXECUTION,
                  prefix(&p, "load") + "packing the weights of '" + (pack.name ? pack.name : "") +
                      "' failed (status " + std::to_string(rc) + ")" +
                      halideSaid(call));
  }
  return NETC_OK;
}

/// Whether the tables can be used with this runtime; else fails `error`.
netc_status usable(const netc_program *program, netc_error *error) {
  // Only the first two fields are read before the ABI is known to match.
  if (program->abi_version != NETC_ABI_VERSION) {
    bool plausible = program->abi_version >= 1 && program->abi_version < 1000;
    return fail(error, NETC_ERROR_VERSION,
                std::string("netc_program_load: the model was generated for runtime ABI ") +
                    (plausible ? std::to_string(program->abi_version) + " (netc " +
                                     (program->netc_version ? program->netc_version : "?") + ")"
                               : "unknown") +
                    ", but this runtime is netc " NETC_VERSION_STRING " with ABI " +
                    std::to_string(NETC_ABI_VERSION) +
                    "; regenerate the library with this netc, or link the runtime of the netc "
                    "that generated it");
  }
  std::string why;
  if (!consistent(*program, why))
    return fail(error, NETC_ERROR_INVALID_ARGUMENT,
                prefix(program, "load") + "inconsistent program tables: " + why);
  // A variant this CPU cannot run would stop at its first unknown instruction.
  netc::runtime::CpuFeatures cpu = netc::runtime::CpuFeatures::detect();
  if (program->isa > cpu.level())
    return fail(error, NETC_ERROR_UNSUPPORTED_CPU,
                prefix(program, "load") + "this variant of the model is for " +
                    netc_isa_name(program->isa) + ", and this CPU lacks " +
                    cpu.lacking(program->isa));
  return NETC_OK;
}

using SafetensorsPtr = std::unique_ptr<netc_safetensors, void (*)(netc_safetensors *)>;

/// The weights from a file (path) or from memory (data, size), with the
/// options applied; null (and `error` set) on failure.
SafetensorsPtr openWeights(const netc_program &program, const char *path, const void *data,
                           size_t size, const netc_load_options *options, netc_status &status,
                           netc_error *error) {
  netc_safetensors *file = nullptr;
  status = path ? netc_safetensors_open(path, &file, error)
                : netc_safetensors_open_memory(
                      data, size, (std::string(program.name) + " weights (memory)").c_str(),
                      &file, error);
  SafetensorsPtr owned(status == NETC_OK ? file : nullptr, netc_safetensors_close);
  if (owned && options && options->strip_prefix) {
    status = netc_safetensors_strip_prefix(owned.get(), options->strip_prefix, error);
    if (status != NETC_OK)
      owned.reset();
  }
  return owned;
}

/// An IEEE half-precision value as float32 (every one is exact).
float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1f) { // Inf, NaN
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) { // normal
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) { // zero
    bits = sign;
  } else { // subnormal: normalize
    int shift = 0;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// A weight as float32, from F32, F16 or BF16 (float32's top half).
void convertToFloat(const netc_tensor_info &info, float *out) {
  const auto *bytes = static_cast<const uint8_t *>(info.data);
  if (std::strcmp(info.dtype, "F32") == 0) {
    std::memcpy(out, info.data, info.bytes); // the mapping may be unaligned
    return;
  }
  size_t count = info.bytes / 2;
  bool brain = std::strcmp(info.dtype, "BF16") == 0;
  for (size_t i = 0; i < count; ++i) {
    uint16_t h;
    std::memcpy(&h, bytes + 2 * i, sizeof h);
    if (brain) {
      uint32_t bits = static_cast<uint32_t>(h) << 16;
      std::memcpy(&out[i], &bits, sizeof(float));
    } else {
      out[i] = halfToFloat(h);
    }
  }
}

netc_status loadFrom(const netc_program *program, const char *path, const void *data,
                     size_t size, const netc_load_options *options, netc_model **out,
                     netc_error *error) {
  if (!program || (!path && !data) || !out)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, prefix(program, "load") + "null argument");
  *out = nullptr;
  netc_status status = usable(program, error);
  if (status != NETC_OK)
    return status;
  netc::runtime::installHalideHandlers(*program);
  SafetensorsPtr closer = openWeights(*program, path, data, size, options, status, error);
  if (!closer)
    return status;
  netc_safetensors *file = closer.get();
  netc::runtime::WeightsReport report =
      netc::runtime::checkWeights(*file, program->expected, program->num_expected);
  if (report.status != NETC_OK)
    return fail(error, report.status,
                report.text(8, std::string(program->name) + "_check_weights"));
  std::unique_ptr<netc_model> model(new (std::nothrow) netc_model);
  if (!model)
    return fail(error, NETC_ERROR_OUT_OF_MEMORY, prefix(program, "load") + "out of memory");
  model->program = program;
  model->largestPerSample = largestPerSample(*program);
  for (size_t s = 0; s < program->num_steps; ++s)
    model->mostOperands =
        std::max(model->mostOperands, static_cast<size_t>(program->steps[s].num_inputs +
                                                          program->steps[s].num_weights + 1));
  // The file's weights a step reads directly are kept; those only packs
  // read are freed once every pack is computed.
  std::vector<bool> readByStep(program->num_weights, false);
  for (size_t s = 0; s < program->num_steps; ++s)
    for (int i = 0; i < program->steps[s].num_weights; ++i)
      if (static_cast<size_t>(program->steps[s].weights[i]) < program->num_weights)
        readByStep[static_cast<size_t>(program->steps[s].weights[i])] = true;
  model->weights.assign(program->num_weights + program->num_packs, nullptr);
  for (size_t i = 0; i < program->num_weights; ++i) {
    const netc_param_spec &spec = program->weights[i];
    netc_tensor_info info;
    bool floating = netc_safetensors_find(file, spec.key, &info) == NETC_OK &&
                    (std::strcmp(info.dtype, "F32") == 0 || std::strcmp(info.dtype, "F16") == 0 ||
                     std::strcmp(info.dtype, "BF16") == 0);
    if (!floating || info.rank != spec.rank ||
        std::memcmp(info.shape, spec.shape, sizeof(int64_t) * spec.rank) != 0)
      return fail(error, NETC_ERROR_INVALID_ARGUMENT,
                  prefix(program, "load") + "weight '" + spec.key +
                      "' is read by the pipelines but is not in the expected list as F32 " +
                      netc::runtime::formatShape(spec.shape, spec.rank));
    int64_t count = elements(info.shape, info.rank);
    float *copy = static_cast<float *>(allocateBytes(count * 4));
    if (!copy)
      return fail(error, NETC_ERROR_OUT_OF_MEMORY,
                  prefix(program, "load") + "cannot allocate " +
                      std::to_string(count * 4) + " bytes for weight '" + spec.key + "'");
    convertToFloat(info, copy);
    model->weights[i] = copy;
  }
  closer.reset();
  status = computePacks(*model, error);
  if (status != NETC_OK)
    return status;
  for (size_t i = 0; i < program->num_weights; ++i)
    if (!readByStep[i]) {
      std::free(model->weights[i]);
      model->weights[i] = nullptr;
    }
  if (program->device) {
    model->deviceWeights.reset(new (std::nothrow) DeviceWeights(*program));
    if (!model->deviceWeights)
      return fail(error, NETC_ERROR_OUT_OF_MEMORY, prefix(program, "load") + "out of memory");
    status = model->deviceWeights->upload(model->weights, error);
    if (status != NETC_OK)
      return status;
  }
  *out = model.release();
  return NETC_OK;
}

} // namespace

extern "C" netc_status netc_program_load(const netc_program *program, const char *weights_path,
                                         netc_model **model, netc_error *error) {
  return netc_program_load_with_options(program, weights_path, nullptr, model, error);
}

extern "C" netc_status netc_program_load_with_options(const netc_program *program,
                                                      const char *weights_path,
                                                      const netc_load_options *options,
                                                      netc_model **model, netc_error *error) {
  if (!weights_path)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, prefix(program, "load") + "null argument");
  return loadFrom(program, weights_path, nullptr, 0, options, model, error);
}

extern "C" netc_status netc_program_load_memory(const netc_program *program, const void *data,
                                                size_t size, const netc_load_options *options,
                                                netc_model **model, netc_error *error) {
  if (!data)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, prefix(program, "load_memory") +
                                                        "null argument");
  return loadFrom(program, nullptr, data, size, options, model, error);
}

extern "C" size_t netc_program_check_weights(const netc_program *program,
                                             const char *weights_path,
                                             const netc_load_options *options, char *report,
                                             size_t capacity) {
  netc_error error{};
  std::string text;
  if (!program || !weights_path) {
    text = prefix(program, "check_weights") + "null argument";
  } else if (usable(program, &error) != NETC_OK) {
    text = error.message;
  } else {
    netc_status status;
    SafetensorsPtr file = openWeights(*program, weights_path, nullptr, 0, options, status, &error);
    if (!file) {
      text = error.message;
    } else {
      netc::runtime::WeightsReport r =
          netc::runtime::checkWeights(*file, program->expected, program->num_expected);
      if (r.status != NETC_OK)
        text = r.text(r.problems.size(), "");
    }
  }
  return netc::runtime::copyReport(text, report, capacity);
}

extern "C" void netc_model_free(netc_model *model) { delete model; }

extern "C" const char *netc_model_isa(const netc_model *model) {
  return model ? netc_isa_name(model->program->isa) : nullptr;
}

extern "C" size_t netc_program_arena_bytes(const netc_program *program, int64_t batch) {
  if (!program || batch < 1 || program->device) // a GPU program's arena is on the device
    return 0;
  return static_cast<size_t>(batch) * static_cast<size_t>(program->arena_bytes_per_sample);
}

extern "C" size_t netc_program_output_shape(const netc_program *program, int input_rank,
                                           const int64_t *input_shape, int64_t *output_shape,
                                           netc_error *error) {
  if (!program || !input_shape || !output_shape) {
    fail(error, NETC_ERROR_INVALID_ARGUMENT, prefix(program, "output_shape") + "null argument");
    return 0;
  }
  if (usable(program, error) != NETC_OK)
    return 0;
  std::string problem = inputProblem(*program, largestPerSample(*program), input_rank,
                                     input_shape);
  if (!problem.empty()) {
    fail(error, NETC_ERROR_INVALID_ARGUMENT, prefix(program, "output_shape") + problem);
    return 0;
  }
  const netc_program_tensor &out = program->tensors[program->output];
  std::copy(out.shape, out.shape + out.rank, output_shape);
  output_shape[0] = input_shape[0];
  return static_cast<size_t>(elements(output_shape, out.rank));
}

extern "C" netc_status netc_program_run(const netc_model *model, const float *input,
                                        int input_rank, const int64_t *input_shape,
                                        float *output, size_t output_capacity, void *arena,
                                        size_t arena_bytes, int threads, netc_error *error) {
  return netc_program_run_steps(model, 0, model ? model->program->num_steps : 0, input,
                                input_rank, input_shape, output, output_capacity, arena,
                                arena_bytes, threads, error);
}

extern "C" netc_status netc_program_run_steps(const netc_model *model, size_t first, size_t last,
                                              const float *input, int input_rank,
                                              const int64_t *input_shape, float *output,
                                              size_t output_capacity, void *arena,
                                              size_t arena_bytes, int threads, netc_error *error) {
  const netc_program *program = model ? model->program : nullptr;
  // Messages are built only on failure: this is every inference's path.
  auto where = [&] { return prefix(program, "run"); };
  if (!model || !input || !output || !input_shape)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, where() + "null argument");
  const netc_program &p = *program;
  if (p.device && first > 0)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT,
                where() + "a GPU model's arena lives on the device for one call: its steps run "
                          "from step 0, not " + std::to_string(first));
  if (first > 0 && !arena)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT,
                where() + "running from step " + std::to_string(first) +
                    " needs the caller's arena, which holds what earlier steps wrote");
  if (first > last || last > p.num_steps)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT,
                where() + "steps [" + std::to_string(first) + ", " + std::to_string(last) +
                    ") are out of range (the program has " + std::to_string(p.num_steps) + ")");
  std::string problem = inputProblem(p, model->largestPerSample, input_rank, input_shape);
  if (!problem.empty())
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, where() + problem);
  int64_t batch = input_shape[0];
  const netc_program_tensor &out = p.tensors[p.output];
  int64_t outputElements = batch * elementsPerSample(out.shape, out.rank);
  if (output_capacity < static_cast<size_t>(outputElements)) {
    int64_t outputShape[NETC_MAX_RANK];
    std::copy(out.shape, out.shape + out.rank, outputShape);
    outputShape[0] = batch;
    return fail(error, NETC_ERROR_INVALID_ARGUMENT,
                where() + "the output buffer holds " + std::to_string(output_capacity) +
                    " floats; the output " + netc::runtime::formatShape(outputShape, out.rank) +
                    " needs " + std::to_string(outputElements));
  }
  int resolvedThreads = netc::runtime::resolveThreads(threads);
  if (resolvedThreads < 0)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT,
                where() + "threads is " + std::to_string(threads) +
                    ", expected 0 (one per CPU the process may use) to " +
                    std::to_string(NETC_MAX_THREADS));
  size_t needed = netc_program_arena_bytes(&p, batch);
  std::unique_ptr<void, void (*)(void *)> owned(nullptr, std::free);
  if (p.device) {
    // The arena is on the device (DeviceRun); a caller's is not used.
  } else if (!arena) {
    owned.reset(std::malloc(needed ? needed : 4));
    if (!owned)
      return fail(error, NETC_ERROR_OUT_OF_MEMORY,
                  where() + "cannot allocate " + std::to_string(needed) + " arena bytes");
    arena = owned.get();
  } else if (arena_bytes < needed) {
    return fail(error, NETC_ERROR_ARENA_TOO_SMALL,
                where() + "the arena has " + std::to_string(arena_bytes) + " bytes, the batch needs " +
                    std::to_string(needed));
  } else if (reinterpret_cast<uintptr_t>(arena) % alignof(float) != 0) {
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, where() + "the arena is not 4-byte aligned");
  }
  Call call(resolvedThreads);
  std::unique_ptr<DeviceRun> device;
  if (p.device) {
    device.reset(new (std::nothrow) DeviceRun(*p.device, &call));
    std::string problem = device ? device->prepare(p, input, output, batch) : "out of memory";
    if (!problem.empty())
      return fail(error, NETC_ERROR_EXECUTION, where() + problem + halideSaid(call));
  }
  size_t most = model->mostOperands;
  std::vector<halide_buffer_t> buffers(most);
  std::vector<halide_dimension_t> dims(most * NETC_MAX_RANK);
  std::vector<void *> args(most + 1); // the user context, then the buffers
  uint8_t *storage[] = {reinterpret_cast<uint8_t *>(const_cast<float *>(input)),
                        reinterpret_cast<uint8_t *>(output), static_cast<uint8_t *>(arena)};
  auto tensorData = [&](int t) {
    return storage[p.tensors[t].storage] + tensorOffset(p, t, batch);
  };
  for (size_t s = first; s < last; ++s) {
    const netc_program_step &step = p.steps[s];
    size_t count = 0;
    auto push = [&](const void *data, int rank, const int64_t *shape, int64_t n,
                    netc_layout layout, const int64_t *strideShape = nullptr,
                    int32_t dtype = NETC_DTYPE_F32) {
      describe(buffers[count], &dims[count * NETC_MAX_RANK], data, rank, shape, n, layout,
               strideShape, dtype);
      args[count + 1] = &buffers[count];
      ++count;
    };
    // A tensor's buffer; a slice has its own extents and its parent's strides.
    auto pushTensor = [&](int t) {
      const netc_program_tensor &d = p.tensors[t];
      if (device) {
        args[++count] = device->tensor(static_cast<size_t>(t));
        return;
      }
      push(tensorData(t), d.rank, d.shape, batch, d.layout,
           d.slice_of != -1 ? p.tensors[d.slice_of].shape : nullptr, d.dtype);
    };
    for (int i = 0; i < step.num_inputs; ++i)
      pushTensor(step.inputs[i]);
    for (int i = 0; i < step.num_weights; ++i) {
      size_t w = static_cast<size_t>(step.weights[i]);
      if (device)
        args[++count] = (*model->deviceWeights)[w];
      else if (w < p.num_weights)
        push(model->weights[w], p.weights[w].rank, p.weights[w].shape, 0, NETC_LAYOUT_NCHW);
      else
        push(model->weights[w], p.packs[w - p.num_weights].rank, p.packs[w - p.num_weights].shape,
             0, NETC_LAYOUT_NCHW, nullptr, p.packs[w - p.num_weights].dtype);
    }
    pushTensor(step.output);
    if (int rc = invokePipeline(p, step.pipeline, call, args.data()))
      return fail(error, NETC_ERROR_EXECUTION,
                  where() + "the pipeline of '" + (step.name ? step.name : "") + "' failed (step " +
                      std::to_string(s) + ", status " + std::to_string(rc) + ")" +
                      halideSaid(call));
  }
  if (device && last == p.num_steps) {
    std::string problem = device->finish();
    if (!problem.empty())
      return fail(error, NETC_ERROR_EXECUTION, where() + problem + halideSaid(call));
  }
  return NETC_OK;
}
