//===- SafetensorsWriter.h - Weights files for the runtime's tests -*- C++ -*-===//
#ifndef NETC_TESTS_SAFETENSORS_WRITER_H
#define NETC_TESTS_SAFETENSORS_WRITER_H

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace netc::test {

struct TensorBytes {
  std::string key, dtype; // dtype as safetensors spells it: "F32", "BF16", ...
  std::vector<int64_t> shape;
  std::string bytes;      // little-endian elements
};

/// The safetensors image of `tensors`, in their order.
inline std::string safetensorsImage(const std::vector<TensorBytes> &tensors) {
  std::string header = "{", data;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorBytes &t = tensors[i];
    std::string shape;
    for (size_t d = 0; d < t.shape.size(); ++d)
      shape += (d ? "," : "") + std::to_string(t.shape[d]);
    header += std::string(i ? "," : "") + "\"" + t.key + "\":{\"dtype\":\"" + t.dtype +
              "\",\"shape\":[" + shape + "],\"data_offsets\":[" + std::to_string(data.size()) +
              "," + std::to_string(data.size() + t.bytes.size()) + "]}";
    data += t.bytes;
  }
  header += "}";
  std::string image(8, '\0');
  for (int b = 0; b < 8; ++b)
    image[static_cast<size_t>(b)] = static_cast<char>((header.size() >> (8 * b)) & 0xff);
  return image + header + data;
}

inline bool writeSafetensors(const std::string &path, const std::vector<TensorBytes> &tensors) {
  std::ofstream out(path, std::ios::binary);
  out << safetensorsImage(tensors);
  return static_cast<bool>(out);
}

} // namespace netc::test

#endif // NETC_TESTS_SAFETENSORS_WRITER_H
