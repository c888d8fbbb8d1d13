//===- Error.h - Reporting failures through netc_error -----------*- C++ -*-===//
#ifndef NETC_RUNTIME_ERROR_H
#define NETC_RUNTIME_ERROR_H

#include "netc/runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace netc::runtime {

/// Copies `message` into `error` (when given) and returns `status`.
netc_status fail(netc_error *error, netc_status status, const std::string &message);

/// Copies `text` into the caller's `buffer` of `capacity` bytes (cut to
/// fit, NUL-terminated when capacity > 0); returns the bytes all of it
/// needs, NUL included.
size_t copyReport(const std::string &text, char *buffer, size_t capacity);

/// "[6,1,5,5]"
std::string formatShape(const int64_t *shape, int rank);

/// The candidate within a small edit distance of `name`, or "".
std::string closest(const std::string &name, const std::vector<std::string> &candidates);

} // namespace netc::runtime

#endif // NETC_RUNTIME_ERROR_H
