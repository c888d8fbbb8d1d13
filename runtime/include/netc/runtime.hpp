//===- runtime.hpp - C++ conveniences over netc's C runtime ------*- C++ -*-===//
//
// What the generated NAME.hpp wrappers share: the exception a failed call
// throws, carrying the call's status and message.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_RUNTIME_HPP
#define NETC_RUNTIME_HPP

#include "netc/runtime.h"

#include <stdexcept>
#include <string>

namespace netc {

/// A failed netc call: what() is "NETC_ERROR_...: message".
class Error : public std::runtime_error {
public:
  Error(netc_status status, const netc_error &error)
      : std::runtime_error(std::string(netc_status_name(status)) + ": " + error.message),
        status_(status) {}
  netc_status status() const noexcept { return status_; }

private:
  netc_status status_;
};

/// Throws netc::Error unless `status` is NETC_OK.
inline void check(netc_status status, const netc_error &error) {
  if (status != NETC_OK)
    throw Error(status, error);
}

} // namespace netc

#endif // NETC_RUNTIME_HPP
