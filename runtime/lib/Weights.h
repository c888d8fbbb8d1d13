//===- Weights.h - Checking a weights file against a model -------*- C++ -*-===//
#ifndef NETC_RUNTIME_WEIGHTS_H
#define NETC_RUNTIME_WEIGHTS_H

#include "netc/runtime.h"

#include <string>
#include <vector>

namespace netc::runtime {

/// Every problem of a weights file against the tensors a model expects,
/// and the likely cause when one explains them (a key prefix, another
/// network).
struct WeightsReport {
  netc_status status = NETC_OK; // that of the first problem
  std::string name;             // the file's
  std::string summary;          // the likely cause, or ""
  std::vector<std::string> problems;

  /// "FILE: N problems with the weights; SUMMARY:" and the first `most`
  /// problems, one a line; past them, a line saying how many more and
  /// `fullList`, the call that lists them all.
  std::string text(size_t most, const std::string &fullList) const;
};

/// Strictly matches `file` against `expected`: missing, unexpected,
/// misshaped and wrongly typed tensors by key (F16 and BF16 stand for F32;
/// a missing BatchNorm num_batches_tracked is no problem).
WeightsReport checkWeights(const netc_safetensors &file, const netc_param_spec *expected,
                           size_t count);

} // namespace netc::runtime

#endif // NETC_RUNTIME_WEIGHTS_H
