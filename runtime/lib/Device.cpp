//===- Device.cpp - GPU programs' device memory
//----------------------------===//
#include "Device.h"

#include "Buffers.h"
#include "Error.h"

namespace netc::runtime {

std::string halideSaid(Call &call) {
  return call.halideMessage.empty() ? "" : ": " + call.halideMessage;
}

DeviceWeights::~DeviceWeights() {
  Call call(1);
  for (halide_buffer_t &b : buffers_)
    if (b.device)
      program_.device->device_free(&call, &b);
}

netc_status DeviceWeights::upload(const std::vector<void *> &weights, netc_error *error) {
  const netc_program &p = program_;
  const netc_device_api &api = *p.device;
  std::string where = std::string(p.name) + "_load: ";
  Call call(1);
  // Freed device memory goes to Halide's cache, so the per-run buffers
  // cost no driver allocation after the first run.
  api.reuse_device_allocations(&call, true);
  const halide_device_interface_t *device = api.device_interface();
  halide_buffer_t probe;
  halide_dimension_t probeDim;
  int64_t one = 1;
  describe(probe, &probeDim, nullptr, 1, &one, 0);
  if (api.device_malloc(&call, &probe, device) != 0)
    return fail(error, NETC_ERROR_NO_DEVICE,
                where + "no usable " + api.name +
                    " device (this library runs on the GPU; is "
                    "the driver installed and a device present?)" +
                    halideSaid(call));
  api.device_free(&call, &probe);
  buffers_.assign(weights.size(), halide_buffer_t());
  dims_.assign(weights.size() * NETC_MAX_RANK, halide_dimension_t());
  for (size_t w = 0; w < weights.size(); ++w) {
    if (!weights[w])
      continue;
    bool file = w < p.num_weights;
    const int64_t *shape = file ? p.weights[w].shape : p.packs[w - p.num_weights].shape;
    int rank = file ? p.weights[w].rank : p.packs[w - p.num_weights].rank;
    halide_buffer_t &b = buffers_[w];
    describe(b, &dims_[w * NETC_MAX_RANK], weights[w], rank, shape, 0);
    b.flags |= halide_buffer_flag_host_dirty;
    if (api.copy_to_device(&call, &b, device) != 0)
      return fail(error, NETC_ERROR_EXECUTION,
                  where + "copying " +
                      (file ? "weight '" + std::string(p.weights[w].key) + "'"
                            : "the packed weights of '" +
                                  std::string(p.packs[w - p.num_weights].name) + "'") +
                      " to the " + api.name + " device failed" + halideSaid(call));
  }
  return NETC_OK;
}

DeviceRun::~DeviceRun() {
  // After a failure, work queued before it may still be running: wait for
  // it before the memory goes back (and before the caller moves on).
  for (halide_buffer_t &b : bases_)
    if (!finished_ && b.device) {
      api_.device_sync(userContext_, &b);
      break;
    }
  for (halide_buffer_t &t : tensors_)
    if (t.device)
      api_.device_release_crop(userContext_, &t);
  for (halide_buffer_t &b : bases_)
    if (b.device)
      api_.device_free(userContext_, &b);
}

std::string DeviceRun::prepare(const netc_program &p, const float *input, float *output,
                               int64_t batch) {
  const halide_device_interface_t *device = api_.device_interface();
  const netc_program_tensor &in = p.tensors[p.input], &out = p.tensors[p.output];
  int64_t extents[3] = {batch * elementsPerSample(in.shape, in.rank),
                        batch * elementsPerSample(out.shape, out.rank),
                        batch * p.arena_bytes_per_sample / 4}; // floats: F32 only on a GPU
  void *hosts[3] = {const_cast<float *>(input), output, nullptr};
  static const char *what[3] = {"the input", "the output", "the arena"};
  for (int s = 0; s < 3; ++s) {
    if (extents[s] == 0)
      continue;
    describe(bases_[s], &baseDims_[s], hosts[s], 1, &extents[s], 0);
    int rc;
    if (s == NETC_STORAGE_INPUT) {
      bases_[s].flags |= halide_buffer_flag_host_dirty;
      rc = api_.copy_to_device(userContext_, &bases_[s], device);
    } else {
      rc = api_.device_malloc(userContext_, &bases_[s], device);
    }
    if (rc != 0)
      return std::string(s == NETC_STORAGE_INPUT ? "copying " : "allocating ") + what[s] + " (" +
             std::to_string(extents[s] * 4) + " bytes) on the " + api_.name + " device failed";
  }
  tensors_.assign(p.num_tensors, halide_buffer_t());
  dims_.assign(p.num_tensors * NETC_MAX_RANK, halide_dimension_t());
  for (size_t t = 0; t < p.num_tensors; ++t) {
    const netc_program_tensor &d = p.tensors[t];
    int64_t offset = tensorOffset(p, static_cast<int>(t), batch) / 4; // floats (F32 only)
    halide_buffer_t &b = tensors_[t];
    describe(b, &dims_[t * NETC_MAX_RANK], nullptr, d.rank, d.shape, batch, d.layout,
             d.slice_of != -1 ? p.tensors[d.slice_of].shape : nullptr);
    // Halide's crop takes its offset from the crop's mins, in a source of
    // the same rank: the storage as (offset along dimension 0, the rest 0).
    halide_dimension_t sourceDims[NETC_MAX_RANK] = {};
    halide_buffer_t source = bases_[d.storage];
    source.dimensions = d.rank;
    source.dim = sourceDims;
    sourceDims[0] = baseDims_[d.storage];
    for (int i = 1; i < d.rank; ++i)
      sourceDims[i].extent = 1;
    b.dim[0].min = static_cast<int32_t>(offset);
    int rc = api_.device_crop(userContext_, &source, &b);
    b.dim[0].min = 0;
    if (rc != 0)
      return "describing tensor " + std::to_string(t) + " on the " + api_.name + " device failed";
  }
  return "";
}

std::string DeviceRun::finish() {
  halide_buffer_t &result = bases_[NETC_STORAGE_OUTPUT];
  result.flags |= halide_buffer_flag_device_dirty;
  if (api_.copy_to_host(userContext_, &result) != 0)
    return std::string("copying the output from the ") + api_.name + " device failed";
  finished_ = true;
  return "";
}

} // namespace netc::runtime
