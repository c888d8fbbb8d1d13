//===- Npy.cpp - float32 .npy arrays in and out ---------------------------===//
//
// A .npy file: "\x93NUMPY", version (1|2|3).0, a little-endian header length
// (2 bytes in version 1, 4 after), an ASCII Python dict such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 28, 28), }
// padded with spaces and a newline, then the raw data.
//
//===----------------------------------------------------------------------===//
#include "Error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

using netc::runtime::fail;
using netc::runtime::formatShape;

namespace {

/// Reads the value after `'key':` in the header dict; returns its start.
size_t findKey(const std::string &header, const char *key) {
  std::string quoted = std::string("'") + key + "'";
  size_t at = header.find(quoted);
  if (at == std::string::npos)
    return std::string::npos;
  at = header.find(':', at + quoted.size());
  if (at == std::string::npos)
    return std::string::npos;
  ++at;
  while (at < header.size() && header[at] == ' ')
    ++at;
  return at;
}

netc_status parseHeader(const std::string &name, const std::string &header, netc_array *out,
                        netc_error *error) {
  auto bad = [&](const std::string &what) {
    return fail(error, NETC_ERROR_FORMAT, name + ": " + what);
  };
  size_t descr = findKey(header, "descr");
  if (descr == std::string::npos)
    return bad("the .npy header has no 'descr'");
  if (header.compare(descr, 6, "'<f4'") != 0 && header.compare(descr, 5, "'<f4'") != 0) {
    size_t end = header.find('\'', descr + 1);
    std::string dtype = end == std::string::npos ? "?" : header.substr(descr, end - descr + 1);
    return fail(error, NETC_ERROR_DTYPE,
                name + ": the array's dtype is " + dtype + "; netc reads float32 ('<f4') only");
  }
  size_t fortran = findKey(header, "fortran_order");
  if (fortran == std::string::npos)
    return bad("the .npy header has no 'fortran_order'");
  if (header.compare(fortran, 4, "True") == 0)
    return bad("the array is in Fortran order; save it in C order (np.ascontiguousarray)");
  if (header.compare(fortran, 5, "False") != 0)
    return bad("malformed 'fortran_order' in the .npy header");
  size_t shape = findKey(header, "shape");
  if (shape == std::string::npos || shape >= header.size() || header[shape] != '(')
    return bad("the .npy header has no 'shape' tuple");
  size_t i = shape + 1;
  out->rank = 0;
  while (true) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ','))
      ++i;
    if (i >= header.size())
      return bad("unterminated 'shape' in the .npy header");
    if (header[i] == ')')
      break;
    if (header[i] < '0' || header[i] > '9')
      return bad("malformed 'shape' in the .npy header");
    if (out->rank == NETC_MAX_RANK)
      return bad("the array has more than " + std::to_string(NETC_MAX_RANK) + " dimensions");
    int64_t v = 0;
    while (i < header.size() && header[i] >= '0' && header[i] <= '9') {
      if (v > (int64_t{1} << 40))
        return bad("a dimension of the array is implausibly large");
      v = v * 10 + (header[i++] - '0');
    }
    if (i < header.size() && header[i] == 'L')
      ++i; // Python 2 long
    out->shape[out->rank++] = v;
  }
  return NETC_OK;
}

} // namespace

extern "C" {

netc_status netc_npy_parse(const void *data, size_t size, const char *name, netc_array *out,
                           netc_error *error) {
  std::string label = name ? name : "<memory>";
  if (!out || (!data && size))
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, "netc_npy_parse: null argument");
  *out = netc_array{};
  const auto *bytes = static_cast<const uint8_t *>(data);
  if (size < 10 || std::memcmp(bytes, "\x93NUMPY", 6) != 0)
    return fail(error, NETC_ERROR_FORMAT, label + ": not a .npy file (bad magic)");
  uint8_t major = bytes[6];
  size_t headerLen, offset;
  if (major == 1) {
    headerLen = bytes[8] | (size_t{bytes[9]} << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12)
      return fail(error, NETC_ERROR_FORMAT, label + ": truncated .npy header");
    headerLen = bytes[8] | (size_t{bytes[9]} << 8) | (size_t{bytes[10]} << 16) |
                (size_t{bytes[11]} << 24);
    offset = 12;
  } else {
    return fail(error, NETC_ERROR_FORMAT,
                label + ": unsupported .npy version " + std::to_string(major));
  }
  if (headerLen > size - offset)
    return fail(error, NETC_ERROR_FORMAT, label + ": truncated .npy header");
  std::string header(reinterpret_cast<const char *>(bytes + offset), headerLen);
  netc_array result{};
  netc_status status = parseHeader(label, header, &result, error);
  if (status != NETC_OK)
    return status;
  unsigned __int128 elements = 1;
  for (int d = 0; d < result.rank; ++d)
    elements *= static_cast<uint64_t>(result.shape[d]);
  size_t dataOffset = offset + headerLen;
  if (elements * 4 != size - dataOffset)
    return fail(error, NETC_ERROR_FORMAT,
                label + ": the array " + formatShape(result.shape, result.rank) + " needs " +
                    std::to_string(static_cast<uint64_t>(elements * 4)) + " data bytes, the file has " +
                    std::to_string(size - dataOffset));
  size_t count = static_cast<size_t>(elements);
  result.data = static_cast<float *>(std::malloc(count ? count * sizeof(float) : 1));
  if (!result.data)
    return fail(error, NETC_ERROR_OUT_OF_MEMORY, label + ": out of memory");
  std::memcpy(result.data, bytes + dataOffset, count * sizeof(float));
  *out = result;
  return NETC_OK;
}

netc_status netc_npy_read(const char *path, netc_array *out, netc_error *error) {
  if (!path || !out)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, "netc_npy_read: null argument");
  FILE *f = std::fopen(path, "rb");
  if (!f)
    return fail(error, NETC_ERROR_IO, std::string(path) + ": cannot open: " + std::strerror(errno));
  std::string bytes;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0)
    bytes.append(buffer, n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed)
    return fail(error, NETC_ERROR_IO, std::string(path) + ": read error");
  return netc_npy_parse(bytes.data(), bytes.size(), path, out, error);
}

netc_status netc_npy_write(const char *path, const float *data, int rank, const int64_t *shape,
                           netc_error *error) {
  if (!path || rank < 0 || rank > NETC_MAX_RANK || (rank && !shape))
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, "netc_npy_write: bad arguments");
  std::string dims;
  size_t count = 1;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] < 0)
      return fail(error, NETC_ERROR_INVALID_ARGUMENT, "netc_npy_write: negative dimension");
    dims += std::to_string(shape[d]) + (rank == 1 || d + 1 < rank ? "," : "");
    count *= static_cast<size_t>(shape[d]);
  }
  if (count && !data)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, "netc_npy_write: null data");
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY\x01";
  bytes += '\0';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char *>(data), count * sizeof(float));

  // Write a sibling temporary and rename it: readers never see half a file.
  std::string tmp = std::string(path) + ".tmp" + std::to_string(getpid());
  FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    return fail(error, NETC_ERROR_IO, tmp + ": cannot create: " + std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    return fail(error, NETC_ERROR_IO, std::string(path) + ": cannot write: " + std::strerror(e));
  }
  return NETC_OK;
}

void netc_array_free(netc_array *array) {
  if (!array)
    return;
  std::free(array->data);
  array->data = nullptr;
}

} // extern "C"
