//===- RuntimeTest.cpp - safetensors and .npy readers ---------------------===//
#include "netc/runtime.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

/// Builds a safetensors file: header JSON (given verbatim) + data bytes.
std::string safetensors(const std::string &header, const std::string &data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string floats(std::initializer_list<float> values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.begin(), out.size());
  return out;
}

/// A valid file: w (F32 [2,2]) then step (I64 []).
std::string goodFile() {
  std::string header =
      R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("step":{"dtype":"I64","shape":[],"data_offsets":[16,24]}})";
  return safetensors(header, floats({1, 2, 3, 4}) + std::string(8, '\0'));
}

struct Opened {
  netc_status status;
  std::string message;
  netc_safetensors *file = nullptr;
  ~Opened() { netc_safetensors_close(file); }
};

void open(const std::string &bytes, Opened &o) {
  netc_error error{};
  o.status = netc_safetensors_open_memory(bytes.data(), bytes.size(), "w.safetensors", &o.file, &error);
  o.message = error.message;
}

TEST(Safetensors, ReadsTensorsAndMetadataIsSkipped) {
  std::string bytes = goodFile();
  Opened o;
  open(bytes, o);
  ASSERT_EQ(o.status, NETC_OK) << o.message;
  EXPECT_EQ(netc_safetensors_count(o.file), 2u);
  netc_tensor_info info;
  ASSERT_EQ(netc_safetensors_find(o.file, "w", &info), NETC_OK);
  EXPECT_STREQ(info.dtype, "F32");
  ASSERT_EQ(info.rank, 2);
  EXPECT_EQ(info.shape[0], 2);
  EXPECT_EQ(info.bytes, 16u);
  float values[4];
  std::memcpy(values, info.data, 16);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(values[i], float(i + 1)) << "index " << i;
  EXPECT_EQ(netc_safetensors_find(o.file, "nope", &info), NETC_ERROR_MISSING_TENSOR);
}

TEST(Safetensors, RejectsMalformedFilesWithMessages) {
  struct Case {
    std::string bytes;
    const char *message;
  };
  std::string good = goodFile();
  std::vector<Case> cases = {
      {"abc", "w.safetensors: not a safetensors file: 3 bytes, shorter than the 8-byte header length"},
      {good.substr(0, 20), "w.safetensors: header length 145 exceeds the file (20 bytes); the file is truncated or not safetensors"},
      {good.substr(0, good.size() - 4), "w.safetensors: tensor 'step': data_offsets [16, 24] fall outside the 20 data bytes; the file is truncated or corrupt"},
      {safetensors("{nope", ""), "w.safetensors: the header is not valid JSON"},
      {safetensors("[1,2]", ""), "w.safetensors: the header is not a JSON object"},
      {safetensors(R"({"a":3})", ""), "w.safetensors: tensor 'a': the entry is not an object"},
      {safetensors(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", "xxxx"), "w.safetensors: tensor 'a': missing or non-string \"dtype\""},
      {safetensors(R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", "xxxx"), "w.safetensors: tensor 'a': unknown dtype 'F33'"},
      {safetensors(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "xxxx"), "w.safetensors: tensor 'a': shape entries must be non-negative integers"},
      {safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", "xxxx"), "w.safetensors: tensor 'a': \"data_offsets\" must be [begin, end]"},
      {safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "xxxx"), "w.safetensors: tensor 'a': holds 4 bytes but F32 [2] needs 8"},
      {safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", "xxxx"), "w.safetensors: tensor 'a': data_offsets [4, 0] fall outside the 4 data bytes; the file is truncated or corrupt"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Opened o;
    open(cases[i].bytes, o);
    EXPECT_EQ(o.status, NETC_ERROR_FORMAT) << "case " << i;
    EXPECT_EQ(o.message, cases[i].message) << "case " << i;
    EXPECT_EQ(o.file, nullptr) << "case " << i;
  }
}

TEST(Safetensors, StrictCheckReportsEveryProblemByKey) {
  std::string header =
      R"({"conv.wieght":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("fc.bias":{"dtype":"I32","shape":[2],"data_offsets":[16,24]},)"
      R"("fc.weight":{"dtype":"F32","shape":[3],"data_offsets":[24,36]},)"
      R"("extra":{"dtype":"F32","shape":[5],"data_offsets":[36,56]}})";
  std::string bytes = safetensors(header, std::string(56, '\0'));
  Opened o;
  open(bytes, o);
  ASSERT_EQ(o.status, NETC_OK) << o.message;
  netc_param_spec spec[] = {
      {"conv.weight", "F32", 2, {2, 2}},
      {"fc.weight", "F32", 2, {2, 3}},
      {"fc.bias", "F32", 1, {2}},
      {"head.weight", "F32", 1, {5}},
  };
  netc_error error{};
  EXPECT_EQ(netc_safetensors_check(o.file, spec, 4, &error), NETC_ERROR_SHAPE);
  EXPECT_STREQ(error.message,
               "w.safetensors: 6 problems with the weights:\n"
               "  tensor 'fc.weight' has shape [3], expected [2,3]\n"
               "  tensor 'fc.bias' has dtype I32, expected F32 (or F16, BF16)\n"
               "  missing tensor 'conv.weight' (F32 [2,2])\n"
               "  missing tensor 'head.weight' (F32 [5])\n"
               "  unexpected tensor 'conv.wieght' (F32 [2,2]); did you mean 'conv.weight'?\n"
               "  unexpected tensor 'extra' (F32 [5]); it has the shape of the missing 'head.weight'");
  netc_param_spec exact[] = {
      {"conv.wieght", "F32", 2, {2, 2}}, {"fc.bias", "I32", 1, {2}},
      {"fc.weight", "F32", 1, {3}}, {"extra", "F32", 1, {5}}};
  EXPECT_EQ(netc_safetensors_check(o.file, exact, 4, &error), NETC_OK) << error.message;
}

std::string tempPath(const char *name) {
  return std::string(::testing::TempDir()) + "/netc-runtime-" + name;
}

TEST(Safetensors, OpensFilesByPath) {
  std::string path = tempPath("w.safetensors");
  std::string bytes = goodFile();
  FILE *f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  netc_safetensors *file = nullptr;
  netc_error error{};
  ASSERT_EQ(netc_safetensors_open(path.c_str(), &file, &error), NETC_OK) << error.message;
  EXPECT_EQ(netc_safetensors_count(file), 2u);
  netc_safetensors_close(file);
  EXPECT_EQ(netc_safetensors_open("/nonexistent/w.safetensors", &file, &error), NETC_ERROR_IO);
  EXPECT_STREQ(error.message, "/nonexistent/w.safetensors: cannot open: No such file or directory");
  EXPECT_EQ(netc_safetensors_open("/", &file, &error), NETC_ERROR_IO);
  EXPECT_STREQ(error.message, "/: not a regular file");
}

TEST(Npy, WriteThenReadRoundTrips) {
  std::string path = tempPath("x.npy");
  float data[6] = {0.5f, -1, 2, 3.25f, 4, 1e-20f};
  int64_t shape[3] = {1, 2, 3};
  netc_error error{};
  ASSERT_EQ(netc_npy_write(path.c_str(), data, 3, shape, &error), NETC_OK) << error.message;
  netc_array array{};
  ASSERT_EQ(netc_npy_read(path.c_str(), &array, &error), NETC_OK) << error.message;
  ASSERT_EQ(array.rank, 3);
  EXPECT_EQ(array.shape[2], 3);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(array.data[i], data[i]) << "index " << i;
  netc_array_free(&array);
}

std::string npy(const std::string &dict, size_t dataBytes, char major = 1) {
  std::string out = "\x93NUMPY";
  out += major;
  out += '\0';
  std::string header = dict + "\n";
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  if (major != 1)
    out += std::string(2, '\0');
  return out + header + std::string(dataBytes, '\0');
}

TEST(Npy, RejectsMalformedArrays) {
  struct Case {
    std::string bytes;
    netc_status status;
    const char *message;
  };
  std::vector<Case> cases = {
      {"not numpy!", NETC_ERROR_FORMAT, "x.npy: not a .npy file (bad magic)"},
      {npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16), NETC_ERROR_DTYPE,
       "x.npy: the array's dtype is '<f8'; netc reads float32 ('<f4') only"},
      {npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8), NETC_ERROR_FORMAT,
       "x.npy: the array is in Fortran order; save it in C order (np.ascontiguousarray)"},
      {npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20), NETC_ERROR_FORMAT,
       "x.npy: the array [2,3] needs 24 data bytes, the file has 20"},
      {npy("{'descr': '<f4', 'fortran_order': False, }", 4), NETC_ERROR_FORMAT,
       "x.npy: the .npy header has no 'shape' tuple"},
      {npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", 8), NETC_ERROR_FORMAT,
       "x.npy: malformed 'shape' in the .npy header"},
      {npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8, 9), NETC_ERROR_FORMAT,
       "x.npy: unsupported .npy version 9"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    netc_array array{};
    netc_error error{};
    EXPECT_EQ(netc_npy_parse(cases[i].bytes.data(), cases[i].bytes.size(), "x.npy", &array, &error),
              cases[i].status)
        << "case " << i;
    EXPECT_STREQ(error.message, cases[i].message) << "case " << i;
    EXPECT_EQ(array.data, nullptr) << "case " << i;
  }
  netc_array array{};
  std::string v2 = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, 2);
  netc_error error{};
  ASSERT_EQ(netc_npy_parse(v2.data(), v2.size(), "x.npy", &array, &error), NETC_OK) << error.message;
  EXPECT_EQ(array.rank, 0);
  netc_array_free(&array);
}

} // namespace
