//===- Safetensors.cpp - Memory-mapped, strictly validated weights --------===//
//
// Layout: an 8-byte little-endian header length n, n bytes of JSON mapping
// each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
// (offsets relative to the bytes after the header), an optional
// "__metadata__" object of strings, then the data.
//
//===----------------------------------------------------------------------===//
#include "Error.h"
#include "Weights.h"

#define JSON_NOEXCEPTION
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <new>

using netc::runtime::closest;
using netc::runtime::fail;
using netc::runtime::formatShape;

struct netc_safetensors {
  std::string name;
  const uint8_t *base = nullptr; // whole file
  size_t size = 0;
  void *mapping = nullptr;       // set when we own an mmap
  struct Tensor {
    std::string name, dtype;
    int rank = 0;
    int64_t shape[NETC_MAX_RANK] = {};
    size_t begin = 0, end = 0; // absolute offsets into base
  };
  std::vector<Tensor> tensors;
  std::map<std::string, size_t> index;
};

namespace {

/// Bytes per element, 0 for an unknown dtype.
size_t dtypeSize(const std::string &dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"U16", 2},  {"U32", 4}, {"U64", 8}, {"BOOL", 1}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

constexpr uint64_t kMaxHeader = 100u << 20; // far above any real model's header

netc_status parse(netc_safetensors &file, netc_error *error) {
  const std::string &name = file.name;
  // What torch.save writes, a zip archive (since PyTorch 1.6) or a pickle,
  // when the bytes do not parse as safetensors (whose first bytes, a header
  // length, may look like either).
  bool zip = file.size >= 4 && std::memcmp(file.base, "PK\x03\x04", 4) == 0;
  bool pickle = file.size >= 2 && file.base[0] == 0x80 && file.base[1] >= 2 && file.base[1] <= 5;
  auto notSafetensors = [&](const std::string &why) {
    if (zip || pickle)
      return fail(error, NETC_ERROR_FORMAT,
                  name + ": this is a PyTorch checkpoint (torch.save's " +
                      (zip ? "zip" : "pickle") +
                      " format), not safetensors; convert it with "
                      "'python3 tools/export_torch.py " + name + " OUT.safetensors'");
    return fail(error, NETC_ERROR_FORMAT, name + ": " + why);
  };
  if (file.size < 8)
    return notSafetensors("not a safetensors file: " + std::to_string(file.size) +
                          " bytes, shorter than the 8-byte header length");
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = headerSize << 8 | file.base[i];
  if (headerSize > kMaxHeader || headerSize > file.size - 8)
    return notSafetensors("header length " + std::to_string(headerSize) + " exceeds the file (" +
                          std::to_string(file.size) +
                          " bytes); the file is truncated or not safetensors");
  const char *text = reinterpret_cast<const char *>(file.base + 8);
  nlohmann::json header = nlohmann::json::parse(text, text + headerSize, nullptr,
                                                /*allow_exceptions=*/false);
  if (header.is_discarded())
    return notSafetensors("the header is not valid JSON");
  if (!header.is_object())
    return notSafetensors("the header is not a JSON object");
  size_t dataStart = 8 + static_cast<size_t>(headerSize);
  size_t dataSize = file.size - dataStart;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string &key = it.key();
    if (key == "__metadata__")
      continue;
    const nlohmann::json &entry = it.value();
    auto bad = [&](const std::string &what) {
      return fail(error, NETC_ERROR_FORMAT, name + ": tensor '" + key + "': " + what);
    };
    if (!entry.is_object())
      return bad("the entry is not an object");
    auto dtype = entry.find("dtype");
    auto shape = entry.find("shape");
    auto offsets = entry.find("data_offsets");
    if (dtype == entry.end() || !dtype->is_string())
      return bad("missing or non-string \"dtype\"");
    if (shape == entry.end() || !shape->is_array())
      return bad("missing or non-array \"shape\"");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2)
      return bad("\"data_offsets\" must be [begin, end]");
    netc_safetensors::Tensor t;
    t.name = key;
    t.dtype = dtype->get<std::string>();
    size_t elementSize = dtypeSize(t.dtype);
    if (elementSize == 0)
      return bad("unknown dtype '" + t.dtype + "'");
    if (shape->size() > NETC_MAX_RANK)
      return bad("rank " + std::to_string(shape->size()) + " exceeds " +
                 std::to_string(NETC_MAX_RANK));
    t.rank = static_cast<int>(shape->size());
    unsigned __int128 elements = 1;
    for (int d = 0; d < t.rank; ++d) {
      const nlohmann::json &dim = (*shape)[static_cast<size_t>(d)];
      if (!dim.is_number_unsigned() && !(dim.is_number_integer() && dim.get<int64_t>() >= 0))
        return bad("shape entries must be non-negative integers");
      uint64_t v = dim.get<uint64_t>();
      if (v > (uint64_t{1} << 40))
        return bad("dimension " + std::to_string(v) + " is implausibly large");
      t.shape[d] = static_cast<int64_t>(v);
      elements *= v;
    }
    uint64_t begin = 0, end = 0;
    for (int i = 0; i < 2; ++i) {
      const nlohmann::json &o = (*offsets)[static_cast<size_t>(i)];
      if (!o.is_number_unsigned() && !(o.is_number_integer() && o.get<int64_t>() >= 0))
        return bad("data_offsets must be non-negative integers");
      (i ? end : begin) = o.get<uint64_t>();
    }
    if (begin > end || end > dataSize)
      return bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] fall outside the " + std::to_string(dataSize) +
                 " data bytes; the file is truncated or corrupt");
    if (elements * elementSize != end - begin)
      return bad("holds " + std::to_string(end - begin) + " bytes but " + t.dtype + " " +
                 formatShape(t.shape, t.rank) + " needs " +
                 std::to_string(static_cast<uint64_t>(elements * elementSize)));
    t.begin = dataStart + begin;
    t.end = dataStart + end;
    file.index[t.name] = file.tensors.size();
    file.tensors.push_back(std::move(t));
  }
  return NETC_OK;
}

void fill(const netc_safetensors &file, const netc_safetensors::Tensor &t, netc_tensor_info *out) {
  out->name = t.name.c_str();
  out->dtype = t.dtype.c_str();
  out->rank = t.rank;
  std::memcpy(out->shape, t.shape, sizeof t.shape);
  out->data = file.base + t.begin;
  out->bytes = t.end - t.begin;
}

std::string describe(const char *dtype, const int64_t *shape, int rank) {
  return std::string(dtype) + " " + formatShape(shape, rank);
}

bool endsWith(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

/// Whether a tensor of dtype `have` may stand for one of `want`: the same,
/// or half precision where float32 is expected (converted at load).
bool convertible(const std::string &have, const char *want) {
  return have == want || (std::strcmp(want, "F32") == 0 && (have == "F16" || have == "BF16"));
}

/// `file`'s index with `prefix` removed from the keys that carry it, as
/// netc_safetensors_strip_prefix would leave it; false when two keys would
/// then be alike.
bool stripped(const netc_safetensors &file, const std::string &prefix, netc_safetensors &out) {
  out.name = file.name;
  out.tensors = file.tensors;
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    std::string &key = out.tensors[i].name;
    if (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0)
      key.erase(0, prefix.size());
    if (!out.index.emplace(key, i).second)
      return false;
  }
  return true;
}

} // namespace

namespace netc::runtime {

WeightsReport checkWeights(const netc_safetensors &file, const netc_param_spec *expected,
                           size_t count) {
  WeightsReport out;
  out.name = file.name;
  auto report = [&](netc_status status, std::string message) {
    if (out.status == NETC_OK)
      out.status = status;
    out.problems.push_back(std::move(message));
  };
  std::map<std::string, const netc_param_spec *> wanted;
  std::vector<std::string> missingNames;
  for (size_t i = 0; i < count; ++i) {
    const netc_param_spec &p = expected[i];
    wanted[p.key] = &p;
    auto it = file.index.find(p.key);
    if (it == file.index.end()) {
      // Checkpoints older than PyTorch 0.4.1 have no BatchNorm counters, and
      // PyTorch loads them; netc never reads the counter.
      if (!endsWith(p.key, "num_batches_tracked"))
        missingNames.push_back(p.key);
      continue;
    }
    const netc_safetensors::Tensor &t = file.tensors[it->second];
    if (!convertible(t.dtype, p.dtype))
      report(NETC_ERROR_DTYPE, "tensor '" + t.name + "' has dtype " + t.dtype + ", expected " +
                                   p.dtype + (std::strcmp(p.dtype, "F32") == 0
                                                  ? std::string(" (or F16, BF16)")
                                                  : std::string()));
    else if (t.rank != p.rank || std::memcmp(t.shape, p.shape, sizeof(int64_t) * p.rank) != 0)
      report(NETC_ERROR_SHAPE, "tensor '" + t.name + "' has shape " +
                                   formatShape(t.shape, t.rank) + ", expected " +
                                   formatShape(p.shape, p.rank));
  }
  for (const std::string &key : missingNames) {
    const netc_param_spec &p = *wanted[key];
    report(NETC_ERROR_MISSING_TENSOR,
           "missing tensor '" + key + "' (" + describe(p.dtype, p.shape, p.rank) + ")");
  }
  std::map<std::string, size_t> prefixVotes; // "module." -> keys it explains
  std::map<std::string, size_t> unexpectedScopes; // "AuxLogits." -> its unexpected keys
  size_t unexpected = 0;
  for (const netc_safetensors::Tensor &t : file.tensors) {
    if (wanted.count(t.name))
      continue;
    ++unexpected;
    size_t dot = t.name.find('.');
    if (dot != std::string::npos) {
      ++unexpectedScopes[t.name.substr(0, dot + 1)];
      if (wanted.count(t.name.substr(dot + 1)))
        ++prefixVotes[t.name.substr(0, dot + 1)];
    }
    std::string message = "unexpected tensor '" + t.name + "' (" +
                          describe(t.dtype.c_str(), t.shape, t.rank) + ")";
    std::string byName = closest(t.name, missingNames);
    if (!byName.empty()) {
      message += "; did you mean '" + byName + "'?";
    } else {
      for (const std::string &key : missingNames) {
        const netc_param_spec &p = *wanted[key];
        if (p.rank == t.rank && std::memcmp(p.shape, t.shape, sizeof(int64_t) * p.rank) == 0) {
          message += "; it has the shape of the missing '" + key + "'";
          break;
        }
      }
    }
    report(NETC_ERROR_UNEXPECTED_TENSOR, message);
  }
  if (out.status == NETC_OK)
    return out;

  // The likely cause first: a prefix on the keys, parts of the network the
  // entry does not have, or another network.
  std::pair<std::string, size_t> prefix{"", 0};
  for (const auto &vote : prefixVotes)
    if (vote.second > prefix.second)
      prefix = vote;
  size_t misfits = out.problems.size() - missingNames.size() - unexpected;
  bool scopesOnly = missingNames.empty() && misfits == 0 && unexpectedScopes.size() <= 3;
  for (const auto &scope : unexpectedScopes) {
    // A whole scope the entry lacks: no expected key lies under it.
    auto at = wanted.lower_bound(scope.first);
    scopesOnly = scopesOnly && (at == wanted.end() ||
                                at->first.compare(0, scope.first.size(), scope.first) != 0);
  }
  size_t inScopes = 0;
  for (const auto &scope : unexpectedScopes)
    inScopes += scope.second;
  scopesOnly = scopesOnly && inScopes == unexpected;
  // A prefix is advised only where stripping it makes the file fit.
  size_t carrying = 0, remaining = 0;
  netc_safetensors without;
  if (prefix.second > 0) {
    for (const netc_safetensors::Tensor &t : file.tensors)
      carrying += t.name.compare(0, prefix.first.size(), prefix.first) == 0;
    remaining = stripped(file, prefix.first, without)
                    ? checkWeights(without, expected, count).problems.size()
                    : SIZE_MAX;
  }
  std::string carry = (carrying == file.tensors.size() ? "all " : "") +
                      std::to_string(carrying) + " of the file's keys carry the prefix '" +
                      prefix.first + "' (as DataParallel saves them)";
  if (prefix.second > 0 && remaining == 0) {
    out.summary = carry + "; strip it: netc_load_options.strip_prefix = \"" + prefix.first +
                  "\" (netc run --strip-prefix " + prefix.first + ")";
  } else if (prefix.second > 0 && carrying == file.tensors.size()) {
    out.summary = carry + ", but with it stripped " +
                  (remaining == SIZE_MAX
                       ? std::string("two keys would be alike")
                       : std::to_string(remaining) +
                             (remaining == 1 ? " problem remains" : " problems remain")) +
                  " (netc run --strip-prefix " + prefix.first + " shows them)";
  } else if (scopesOnly) {
    std::string scopes;
    size_t i = 0;
    for (const auto &scope : unexpectedScopes)
      scopes += (i++ ? (i == unexpectedScopes.size() ? " and '" : ", '") : "'") + scope.first +
                "' (" + std::to_string(scope.second) + ")";
    out.summary = "every expected key is there; the unexpected ones lie under " + scopes +
                  ", " + (unexpectedScopes.size() == 1 ? "a part" : "parts") +
                  " of the network this entry does not have (an auxiliary head, or a "
                  "configuration of the network other than this one)";
  } else if (count > 0 && missingNames.size() + unexpected > 0 &&
             file.tensors.size() == unexpected && !missingNames.empty()) {
    out.summary = "none of the " + std::to_string(missingNames.size()) +
                  " expected keys is in the file, which holds " +
                  std::to_string(file.tensors.size()) +
                  " others: these look like the weights of a different network ('netc "
                  "--entry NAME --check-weights FILE' lists the zoo entries they fit)";
  }
  return out;
}

std::string WeightsReport::text(size_t most, const std::string &fullList) const {
  std::string text = name + ": " + std::to_string(problems.size()) +
                     (problems.size() == 1 ? " problem" : " problems") + " with the weights";
  if (!summary.empty())
    text += "; " + summary;
  text += ":";
  for (size_t i = 0; i < problems.size() && i < most; ++i)
    text += "\n  " + problems[i];
  if (problems.size() > most)
    text += "\n  ... and " + std::to_string(problems.size() - most) +
            " more (" + fullList + " lists them all)";
  return text;
}

} // namespace netc::runtime

extern "C" {

netc_status netc_safetensors_open_memory(const void *data, size_t size, const char *name,
                                         netc_safetensors **out, netc_error *error) {
  if (!out || (!data && size))
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, "netc_safetensors_open_memory: null argument");
  *out = nullptr;
  auto *file = new (std::nothrow) netc_safetensors;
  if (!file)
    return fail(error, NETC_ERROR_OUT_OF_MEMORY, "out of memory");
  file->name = name ? name : "<memory>";
  file->base = static_cast<const uint8_t *>(data);
  file->size = size;
  netc_status status = parse(*file, error);
  if (status != NETC_OK) {
    delete file;
    return status;
  }
  *out = file;
  return NETC_OK;
}

netc_status netc_safetensors_open(const char *path, netc_safetensors **out, netc_error *error) {
  if (!path || !out)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, "netc_safetensors_open: null argument");
  *out = nullptr;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(error, NETC_ERROR_IO, std::string(path) + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(error, NETC_ERROR_IO, std::string(path) + ": not a regular file");
  }
  size_t size = static_cast<size_t>(st.st_size);
  void *mapping = nullptr;
  if (size > 0) {
    mapping = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapping == MAP_FAILED) {
      int e = errno;
      close(fd);
      return fail(error, NETC_ERROR_IO, std::string(path) + ": cannot map: " + std::strerror(e));
    }
  }
  close(fd);
  netc_status status = netc_safetensors_open_memory(mapping, size, path, out, error);
  if (status != NETC_OK) {
    if (mapping)
      munmap(mapping, size);
    return status;
  }
  (*out)->mapping = mapping;
  return NETC_OK;
}

void netc_safetensors_close(netc_safetensors *file) {
  if (!file)
    return;
  if (file->mapping)
    munmap(file->mapping, file->size);
  delete file;
}

size_t netc_safetensors_count(const netc_safetensors *file) {
  return file ? file->tensors.size() : 0;
}

netc_status netc_safetensors_at(const netc_safetensors *file, size_t index,
                                netc_tensor_info *out) {
  if (!file || !out || index >= file->tensors.size())
    return NETC_ERROR_INVALID_ARGUMENT;
  fill(*file, file->tensors[index], out);
  return NETC_OK;
}

netc_status netc_safetensors_find(const netc_safetensors *file, const char *name,
                                  netc_tensor_info *out) {
  if (!file || !name || !out)
    return NETC_ERROR_INVALID_ARGUMENT;
  auto it = file->index.find(name);
  if (it == file->index.end())
    return NETC_ERROR_MISSING_TENSOR;
  fill(*file, file->tensors[it->second], out);
  return NETC_OK;
}

netc_status netc_safetensors_check(const netc_safetensors *file, const netc_param_spec *expected,
                                   size_t count, netc_error *error) {
  if (!file || (!expected && count))
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, "netc_safetensors_check: null argument");
  netc::runtime::WeightsReport report = netc::runtime::checkWeights(*file, expected, count);
  if (report.status == NETC_OK)
    return NETC_OK;
  return fail(error, report.status, report.text(/*most=*/8, "netc_safetensors_report"));
}

size_t netc_safetensors_report(const netc_safetensors *file, const netc_param_spec *expected,
                               size_t count, char *report, size_t capacity) {
  std::string text;
  if (!file || (!expected && count)) {
    text = "netc_safetensors_report: null argument";
  } else {
    netc::runtime::WeightsReport r = netc::runtime::checkWeights(*file, expected, count);
    if (r.status != NETC_OK)
      text = r.text(r.problems.size(), "");
  }
  return netc::runtime::copyReport(text, report, capacity);
}

netc_status netc_safetensors_strip_prefix(netc_safetensors *file, const char *prefix,
                                          netc_error *error) {
  if (!file || !prefix)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, "netc_safetensors_strip_prefix: null argument");
  size_t n = std::strlen(prefix);
  if (n == 0)
    return NETC_OK;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < file->tensors.size(); ++i) {
    std::string &key = file->tensors[i].name;
    if (key.compare(0, n, prefix) == 0 && key.size() > n)
      key.erase(0, n);
    if (!index.emplace(key, i).second)
      return fail(error, NETC_ERROR_FORMAT,
                  file->name + ": with the prefix '" + prefix + "' stripped, two tensors are "
                  "named '" + key + "'");
  }
  file->index = std::move(index);
  return NETC_OK;
}

} // extern "C"
