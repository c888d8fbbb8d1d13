//===- Device.h - GPU programs' device memory --------------------*- C++
//-*-===//
//
// A GPU program (netc_program::device) keeps everything on the device: its
// weights are copied there once, at load (DeviceWeights); each run copies
// the input in, allocates the arena there, gives every tensor a crop of its
// storage (DeviceRun), and copies the output back. The steps' pipelines get
// device-only buffers, so none of them can touch host memory.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_RUNTIME_DEVICE_H
#define NETC_RUNTIME_DEVICE_H

#include "netc/program.h"

#include "Call.h"

#include <HalideRuntime.h>

#include <string>
#include <vector>

namespace netc::runtime {

/// What the Halide runtime reported during `call`, as ": message", or "".
std::string halideSaid(Call &call);

/// A GPU model's weights on the device, by step weight index (the file's
/// weights, then the packs).
class DeviceWeights {
public:
  explicit DeviceWeights(const netc_program &program) : program_(program) {}
  ~DeviceWeights();
  DeviceWeights(const DeviceWeights &) = delete;
  DeviceWeights &operator=(const DeviceWeights &) = delete;

  /// Copies every non-null weights[w] (host memory; null: read by no step)
  /// to the device. NETC_ERROR_NO_DEVICE when the device cannot allocate
  /// even a few bytes (no driver, no GPU).
  netc_status upload(const std::vector<void *> &weights, netc_error *error);
  /// The device buffer of weight `w`, which pipelines only read.
  halide_buffer_t *operator[](size_t w) { return &buffers_[w]; }

private:
  const netc_program &program_;
  std::vector<halide_buffer_t> buffers_;
  std::vector<halide_dimension_t> dims_;
};

/// One run's device memory: the input, output and arena (1-d, indexed by
/// netc_storage), and each tensor as a crop of its storage. Released on
/// every exit path.
class DeviceRun {
public:
  DeviceRun(const netc_device_api &api, void *userContext) : api_(api), userContext_(userContext) {}
  ~DeviceRun();
  DeviceRun(const DeviceRun &) = delete;
  DeviceRun &operator=(const DeviceRun &) = delete;

  /// Allocates the three storages (the input copied in) and crops every
  /// tensor of `p` from them; returns "" or what failed.
  std::string prepare(const netc_program &p, const float *input, float *output, int64_t batch);
  /// Tensor `t`'s buffer, for the steps.
  halide_buffer_t *tensor(size_t t) { return &tensors_[t]; }
  /// Copies the output back to the caller's memory (waiting for the
  /// device); returns "" or what failed.
  std::string finish();

private:
  const netc_device_api &api_;
  void *userContext_;
  halide_buffer_t bases_[3] = {};
  halide_dimension_t baseDims_[3] = {};
  std::vector<halide_buffer_t> tensors_;
  std::vector<halide_dimension_t> dims_;
  bool finished_ = false;
};

} // namespace netc::runtime

#endif // NETC_RUNTIME_DEVICE_H
