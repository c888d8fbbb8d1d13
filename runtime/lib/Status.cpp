//===- Status.cpp - Status names and error messages -----------------------===//
#include "Error.h"

#include "netc/Support/EditDistance.h"

#include <algorithm>
#include <cstring>

extern "C" const char *netc_status_name(netc_status status) {
  switch (status) {
  case NETC_OK: return "NETC_OK";
  case NETC_ERROR_IO: return "NETC_ERROR_IO";
  case NETC_ERROR_FORMAT: return "NETC_ERROR_FORMAT";
  case NETC_ERROR_MISSING_TENSOR: return "NETC_ERROR_MISSING_TENSOR";
  case NETC_ERROR_UNEXPECTED_TENSOR: return "NETC_ERROR_UNEXPECTED_TENSOR";
  case NETC_ERROR_SHAPE: return "NETC_ERROR_SHAPE";
  case NETC_ERROR_DTYPE: return "NETC_ERROR_DTYPE";
  case NETC_ERROR_INVALID_ARGUMENT: return "NETC_ERROR_INVALID_ARGUMENT";
  case NETC_ERROR_OUT_OF_MEMORY: return "NETC_ERROR_OUT_OF_MEMORY";
  case NETC_ERROR_ARENA_TOO_SMALL: return "NETC_ERROR_ARENA_TOO_SMALL";
  case NETC_ERROR_EXECUTION: return "NETC_ERROR_EXECUTION";
  case NETC_ERROR_VERSION: return "NETC_ERROR_VERSION";
  case NETC_ERROR_NO_DEVICE: return "NETC_ERROR_NO_DEVICE";
  case NETC_ERROR_UNSUPPORTED_CPU: return "NETC_ERROR_UNSUPPORTED_CPU";
  }
  return "NETC_ERROR_UNKNOWN";
}

extern "C" const char *netc_runtime_version(void) { return NETC_VERSION_STRING; }

extern "C" int netc_runtime_abi_version(void) { return NETC_ABI_VERSION; }

namespace netc::runtime {

netc_status fail(netc_error *error, netc_status status, const std::string &message) {
  if (error) {
    size_t n = std::min(message.size(), sizeof(error->message) - 1);
    std::memcpy(error->message, message.data(), n);
    error->message[n] = '\0';
  }
  return status;
}

size_t copyReport(const std::string &text, char *buffer, size_t capacity) {
  if (buffer && capacity > 0) {
    size_t n = std::min(text.size(), capacity - 1);
    std::memcpy(buffer, text.data(), n);
    buffer[n] = '\0';
  }
  return text.size() + 1;
}

std::string formatShape(const int64_t *shape, int rank) {
  std::string out = "[";
  for (int i = 0; i < rank; ++i)
    out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

std::string closest(const std::string &name, const std::vector<std::string> &candidates) {
  size_t limit = std::max<size_t>(1, name.size() / 4);
  std::string best;
  size_t bestDistance = limit + 1;
  for (const std::string &c : candidates) {
    size_t d = editDistance(name, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= limit ? best : std::string();
}

} // namespace netc::runtime
