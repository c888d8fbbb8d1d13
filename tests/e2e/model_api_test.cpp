//===- model_api_test.cpp - The generated library's API contracts ---------===//
//
// Through a real generated library (LeNet-5 and its trained weights):
// versions, the ABI check at load, thread counts, the output capacity and
// shape functions, Halide errors routed into netc_error (nothing on
// stderr), and the C++ wrapper.   netc-model-api-tests (WEIGHTS env var)
//
//===----------------------------------------------------------------------===//
#include "lenet5.hpp"
#include "lenet5_embedded.h"

#include "SafetensorsWriter.h"
#include "netc/program.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <utility>
#include <string>
#include <vector>

namespace {

std::string weightsPath() {
  const char *path = std::getenv("NETC_LENET5_WEIGHTS");
  return path ? path : "";
}

using netc::test::TensorBytes;

/// The trained weights, tensor by tensor, as the file holds them.
std::vector<TensorBytes> trainedTensors() {
  std::vector<TensorBytes> tensors;
  netc_safetensors *file = nullptr;
  netc_error error{};
  if (netc_safetensors_open(weightsPath().c_str(), &file, &error) != NETC_OK) {
    ADD_FAILURE() << error.message;
    return tensors;
  }
  for (size_t i = 0; i < netc_safetensors_count(file); ++i) {
    netc_tensor_info info;
    netc_safetensors_at(file, i, &info);
    tensors.push_back({info.name, info.dtype, {info.shape, info.shape + info.rank},
                       std::string(static_cast<const char *>(info.data), info.bytes)});
  }
  netc_safetensors_close(file);
  return tensors;
}

/// Loads `path` into lenet5 and runs the batch `input` ([batch,1,28,28])
/// into `output` (batch * 10 floats).
void loadAndRun(const std::string &path, const std::vector<float> &input, int64_t batch,
                std::vector<float> &output) {
  netc_error error{};
  lenet5_model *model = nullptr;
  ASSERT_EQ(lenet5_load(path.c_str(), &model, &error), NETC_OK) << error.message;
  int64_t shape[] = {batch, 1, 28, 28};
  netc_status status = lenet5_run(model, input.data(), 4, shape, output.data(), output.size(),
                                  nullptr, 0, 0, &error);
  lenet5_free(model);
  ASSERT_EQ(status, NETC_OK) << error.message;
}

/// A scratch file that is removed when the test ends.
struct ScratchFile {
  std::string path;
  explicit ScratchFile(const std::string &name)
      : path(std::string(::testing::TempDir()) + "netc_" + std::to_string(getpid()) + "_" + name) {}
  ~ScratchFile() { std::remove(path.c_str()); }
};

std::vector<float> batchOf(int64_t n) {
  std::vector<float> input(static_cast<size_t>(n) * 784);
  for (size_t i = 0; i < input.size(); ++i)
    input[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f;
  return input;
}

class ModelApi : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(weightsPath().empty()) << "set NETC_LENET5_WEIGHTS";
    netc_error error{};
    ASSERT_EQ(lenet5_load(weightsPath().c_str(), &model_, &error), NETC_OK) << error.message;
  }
  void TearDown() override { lenet5_free(model_); }

  netc_status run(const std::vector<float> &input, int64_t batch, std::vector<float> &output,
                  size_t capacity, int threads, netc_error &error) {
    int64_t shape[] = {batch, 1, 28, 28};
    return lenet5_run(model_, input.data(), 4, shape, output.data(), capacity, nullptr, 0,
                      threads, &error);
  }

  lenet5_model *model_ = nullptr;
};

TEST(Versions, HeaderLibraryAndRuntimeAgree) {
  EXPECT_STREQ(netc_runtime_version(), NETC_VERSION_STRING);
  EXPECT_EQ(netc_runtime_abi_version(), NETC_ABI_VERSION);
  EXPECT_STREQ(LENET5_NETC_VERSION, NETC_VERSION_STRING);
  EXPECT_EQ(LENET5_NETC_ABI_VERSION, NETC_ABI_VERSION);
  EXPECT_EQ(lenet5_program()->abi_version, NETC_ABI_VERSION);
  EXPECT_STREQ(lenet5_program()->netc_version, NETC_VERSION_STRING);
}

TEST(Versions, StatusValuesAreFixed) {
  // Appended only: a caller compiled against an older header reads the same.
  EXPECT_EQ(NETC_OK, 0);
  EXPECT_EQ(NETC_ERROR_IO, 1);
  EXPECT_EQ(NETC_ERROR_INVALID_ARGUMENT, 7);
  EXPECT_EQ(NETC_ERROR_EXECUTION, 10);
  EXPECT_EQ(NETC_ERROR_VERSION, 11);
  EXPECT_EQ(NETC_ERROR_NO_DEVICE, 12);
  EXPECT_EQ(NETC_ERROR_UNSUPPORTED_CPU, 13);
  for (int s = 0; s <= NETC_ERROR_UNSUPPORTED_CPU; ++s)
    EXPECT_STRNE(netc_status_name(static_cast<netc_status>(s)), "NETC_ERROR_UNKNOWN") << s;
  EXPECT_STREQ(netc_status_name(static_cast<netc_status>(14)), "NETC_ERROR_UNKNOWN");
}

TEST(Variants, TheLibrarySaysWhichItRunsAndTakesACap) {
  // lenet5 is built with the variant this CPU runs (ISA host).
  netc_error error{};
  lenet5_model *model = nullptr;
  ASSERT_EQ(lenet5_load(weightsPath().c_str(), &model, &error), NETC_OK) << error.message;
  const char *isa = lenet5_isa(model);
  ASSERT_NE(isa, nullptr);
  EXPECT_EQ(netc_isa_named(isa), lenet5_program()->isa);
  EXPECT_LE(netc_isa_named(isa), static_cast<int>(netc_cpu_isa()));
  lenet5_free(model);
  EXPECT_EQ(lenet5_isa(nullptr), nullptr);
  // A cap that names no level is refused by name, and nothing is loaded.
  netc_load_options options{};
  options.isa = "avx3";
  model = nullptr;
  EXPECT_EQ(lenet5_load_with_options(weightsPath().c_str(), &options, &model, &error),
            NETC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(model, nullptr);
  EXPECT_STREQ(error.message, "lenet5_load: the load option isa is 'avx3', which is not one of "
                              "avx2, avx512, avx512-vnni, avx512-amx");
}

TEST(Variants, TablesOfAnUnknownOrMissingInstructionSetAreRefused) {
  netc_program other = *lenet5_program();
  other.isa = NETC_ISA_COUNT;
  netc_model *model = nullptr;
  netc_error error{};
  EXPECT_EQ(netc_program_load(&other, weightsPath().c_str(), &model, &error),
            NETC_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.message).find("the instruction set " + std::to_string(NETC_ISA_COUNT) +
                                             " is none of netc's"),
            std::string::npos)
      << error.message;
  // Tables for more than this CPU has (where it lacks a level) stop at load.
  if (netc_cpu_isa() < NETC_ISA_AVX512_AMX) {
    other.isa = NETC_ISA_AVX512_AMX;
    EXPECT_EQ(netc_program_load(&other, weightsPath().c_str(), &model, &error),
              NETC_ERROR_UNSUPPORTED_CPU);
    EXPECT_NE(std::string(error.message).find("this variant of the model is for avx512-amx"),
              std::string::npos)
        << error.message;
  } else {
    std::printf("this CPU runs every level: the refusal of a variant it lacks is tested by "
                "the unit tests' CPUs (Isa.*)\n");
  }
  EXPECT_EQ(model, nullptr);
}

TEST(Versions, LoadRefusesAnotherAbi) {
  netc_program other = *lenet5_program();
  other.abi_version = NETC_ABI_VERSION + 98;
  other.netc_version = "9.9.9";
  netc_model *model = nullptr;
  netc_error error{};
  EXPECT_EQ(netc_program_load(&other, weightsPath().c_str(), &model, &error), NETC_ERROR_VERSION);
  EXPECT_EQ(model, nullptr);
  std::string message = error.message;
  EXPECT_NE(message.find("runtime ABI " + std::to_string(NETC_ABI_VERSION + 98) +
                         " (netc 9.9.9)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("regenerate the library"), std::string::npos) << message;
}

TEST(Versions, LoadRefusesAnIncompleteDeviceTable) {
  netc_program other = *lenet5_program();
  netc_device_api device{}; // a GPU program whose table lacks its functions
  device.name = "CUDA";
  other.device = &device;
  netc_model *model = nullptr;
  netc_error error{};
  EXPECT_EQ(netc_program_load(&other, weightsPath().c_str(), &model, &error),
            NETC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(model, nullptr);
  EXPECT_NE(std::string(error.message).find("the device table is incomplete"), std::string::npos)
      << error.message;
}

TEST_F(ModelApi, EveryThreadCountGivesTheSameBits) {
  std::vector<float> input = batchOf(5), reference(50), output(50);
  netc_error error{};
  ASSERT_EQ(run(input, 5, reference, reference.size(), 1, error), NETC_OK) << error.message;
  for (int threads : {0, 2, 3, 7, 64}) {
    ASSERT_EQ(run(input, 5, output, output.size(), threads, error), NETC_OK) << error.message;
    for (size_t i = 0; i < output.size(); ++i)
      ASSERT_EQ(output[i], reference[i]) << "threads " << threads << ", element " << i;
  }
}

TEST_F(ModelApi, BadThreadCountsAreRefused) {
  std::vector<float> input = batchOf(1), output(10);
  for (int threads : {-1, -100, 1025, 1 << 30}) {
    netc_error error{};
    EXPECT_EQ(run(input, 1, output, output.size(), threads, error), NETC_ERROR_INVALID_ARGUMENT)
        << threads;
    EXPECT_NE(std::string(error.message).find("threads is " + std::to_string(threads)),
              std::string::npos)
        << error.message;
  }
}

TEST_F(ModelApi, OutputCapacityIsChecked) {
  std::vector<float> input = batchOf(4), output(40);
  netc_error error{};
  EXPECT_EQ(run(input, 4, output, 39, 0, error), NETC_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(error.message,
               "lenet5_run: the output buffer holds 39 floats; the output [4,10] needs 40");
  EXPECT_EQ(run(input, 4, output, 40, 0, error), NETC_OK) << error.message;
}

TEST(OutputShape, FollowsTheBatch) {
  int64_t in[] = {6, 1, 28, 28}, out[LENET5_OUTPUT_RANK] = {};
  netc_error error{};
  EXPECT_EQ(lenet5_output_shape(4, in, out, &error), 60u) << error.message;
  EXPECT_EQ(out[0], 6);
  EXPECT_EQ(out[1], 10);
  EXPECT_EQ(lenet5_output_shape(4, in, out, nullptr), 60u);
}

// A shape the model does not take gets the message the run would give.
TEST(OutputShape, SaysWhatTheRunSays) {
  int64_t out[LENET5_OUTPUT_RANK] = {};
  netc_error error{};
  int64_t wrong[] = {6, 1, 32, 28};
  EXPECT_EQ(lenet5_output_shape(4, wrong, out, &error), 0u);
  EXPECT_STREQ(error.message, "lenet5_output_shape: input dimension 2 is 32, expected [N,1,28,28]");
  EXPECT_EQ(lenet5_output_shape(3, wrong, out, &error), 0u);
  EXPECT_STREQ(error.message, "lenet5_output_shape: the input has rank 3, expected 4");
  int64_t tooBig[] = {int64_t(1) << 40, 1, 28, 28};
  EXPECT_EQ(lenet5_output_shape(4, tooBig, out, &error), 0u);
  EXPECT_NE(std::string(error.message).find("lenet5_output_shape: batch 1099511627776 is out of "
                                            "range (1 to "),
            std::string::npos)
      << error.message;
  EXPECT_EQ(lenet5_output_shape(4, nullptr, out, &error), 0u);
  EXPECT_STREQ(error.message, "lenet5_output_shape: null argument");
  EXPECT_EQ(lenet5_output_shape(4, wrong, out, nullptr), 0u);
}

TEST_F(ModelApi, BatchesThatOverflow32BitIndexingAreRefused) {
  std::vector<float> input = batchOf(1), output(10);
  netc_error error{};
  EXPECT_EQ(run(input, int64_t(1) << 31, output, output.size(), 0, error),
            NETC_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.message).find("overflow 32-bit indexing"), std::string::npos)
      << error.message;
}

// Element types are data in the tables: the caller's input and output must
// be float32, every type one the runtime knows, and an arena tensor must
// fit the arena in bytes and start at a multiple of its element's size.
TEST_F(ModelApi, TablesWithBadElementTypesAreRefused) {
  const netc_program &real = *lenet5_program();
  auto refused = [&](const char *what, auto change) {
    std::vector<netc_program_tensor> tensors(real.tensors, real.tensors + real.num_tensors);
    netc_program broken = real;
    change(tensors, broken);
    broken.tensors = tensors.data();
    netc_model *model = nullptr;
    netc_error error{};
    EXPECT_EQ(netc_program_load(&broken, weightsPath().c_str(), &model, &error),
              NETC_ERROR_INVALID_ARGUMENT)
        << what;
    EXPECT_NE(std::string(error.message).find("inconsistent program tables"), std::string::npos)
        << what << ": " << error.message;
    netc_model_free(model);
  };
  size_t in = static_cast<size_t>(real.input), arena = 0;
  while (arena < real.num_tensors && real.tensors[arena].storage != NETC_STORAGE_ARENA)
    ++arena;
  ASSERT_LT(arena, real.num_tensors);
  refused("a BF16 input", [&](auto &t, auto &) { t[in].dtype = NETC_DTYPE_BF16; });
  refused("an unknown type", [&](auto &t, auto &) { t[arena].dtype = 9; });
  refused("a tensor past the arena's end",
          [&](auto &t, auto &p) { t[arena].offset = p.arena_bytes_per_sample - 4; });
  refused("a misaligned offset", [&](auto &t, auto &) { t[arena].offset += 2; });
  // The same tensor as BF16 at an even offset fits: half the bytes.
  std::vector<netc_program_tensor> tensors(real.tensors, real.tensors + real.num_tensors);
  tensors[arena].dtype = NETC_DTYPE_BF16;
  netc_program halved = real;
  halved.tensors = tensors.data();
  netc_model *model = nullptr;
  netc_error error{};
  EXPECT_EQ(netc_program_load(&halved, weightsPath().c_str(), &model, &error), NETC_OK)
      << error.message;
  netc_model_free(model);
}

TEST_F(ModelApi, HalideErrorsReachTheCallerNotStderr) {
  // Tables whose output tensor is one class short: the pipeline's own
  // checks of its output buffer fail inside the Halide runtime.
  const netc_program &real = *lenet5_program();
  std::vector<netc_program_tensor> tensors(real.tensors, real.tensors + real.num_tensors);
  tensors[static_cast<size_t>(real.output)].shape[1] -= 1;
  netc_program broken = real;
  broken.tensors = tensors.data();
  netc_model *model = nullptr;
  netc_error error{};
  ASSERT_EQ(netc_program_load(&broken, weightsPath().c_str(), &model, &error), NETC_OK)
      << error.message;
  std::vector<float> input = batchOf(2), output(20);
  int64_t shape[] = {2, 1, 28, 28};
  testing::internal::CaptureStderr();
  netc_status status = netc_program_run(model, input.data(), 4, shape, output.data(),
                                        output.size(), nullptr, 0, 2, &error);
  std::string stderrText = testing::internal::GetCapturedStderr();
  netc_model_free(model);
  EXPECT_EQ(status, NETC_ERROR_EXECUTION);
  std::string message = error.message;
  EXPECT_NE(message.find("lenet5_run: the pipeline of 'classifier.4' failed"), std::string::npos)
      << message;
  // Halide's own words follow, naming the buffer and the constraint.
  EXPECT_NE(message.find("failed (step"), std::string::npos) << message;
  EXPECT_NE(message.find("): "), std::string::npos) << message;
  EXPECT_EQ(stderrText, "");
}

TEST_F(ModelApi, CppWrapperOwnsItsArenaAndThrows) {
  netc::models::lenet5 wrapper(weightsPath());
  ASSERT_TRUE(wrapper.loaded());
  std::vector<float> input = batchOf(3), reference(30);
  netc_error error{};
  ASSERT_EQ(run(input, 3, reference, reference.size(), 0, error), NETC_OK) << error.message;
  std::vector<float> output = wrapper.run(input.data(), {3, 1, 28, 28});
  ASSERT_EQ(output.size(), 30u);
  for (size_t i = 0; i < output.size(); ++i)
    ASSERT_EQ(output[i], reference[i]) << "element " << i;
  EXPECT_EQ(netc::models::lenet5::output_shape({3, 1, 28, 28}), (std::vector<int64_t>{3, 10}));
  try {
    netc::models::lenet5::output_shape({3, 1, 28, 27});
    FAIL() << "a wrong input shape did not throw";
  } catch (const netc::Error &e) {
    EXPECT_STREQ(e.what(), "NETC_ERROR_INVALID_ARGUMENT: lenet5_output_shape: input dimension 3 "
                           "is 27, expected [N,1,28,28]");
  }

  try {
    wrapper.run(input.data(), {3, 1, 32, 28});
    FAIL() << "a wrong input shape did not throw";
  } catch (const netc::Error &e) {
    EXPECT_EQ(e.status(), NETC_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("input dimension 2 is 32"), std::string::npos)
        << e.what();
  }
  try {
    netc::models::lenet5 missing("/nonexistent/w.safetensors");
    FAIL() << "a missing weights file did not throw";
  } catch (const netc::Error &e) {
    EXPECT_EQ(e.status(), NETC_ERROR_IO);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/w.safetensors"), std::string::npos)
        << e.what();
  }
  // A failed load keeps the weights loaded before.
  EXPECT_THROW(wrapper.load("/nonexistent/w.safetensors"), netc::Error);
  EXPECT_TRUE(wrapper.loaded());
  EXPECT_EQ(wrapper.run(input.data(), {3, 1, 28, 28}), reference);
}

TEST_F(ModelApi, KeyPrefixIsExplainedAndStripped) {
  std::vector<TensorBytes> tensors = trainedTensors();
  for (TensorBytes &t : tensors)
    t.key = "module." + t.key;
  ScratchFile file("prefixed.safetensors");
  ASSERT_TRUE(netc::test::writeSafetensors(file.path, tensors));
  lenet5_model *model = nullptr;
  netc_error error{};
  EXPECT_EQ(lenet5_load(file.path.c_str(), &model, &error), NETC_ERROR_MISSING_TENSOR);
  std::string message = error.message;
  EXPECT_NE(message.find("20 problems with the weights; all 10 of the file's keys carry the "
                         "prefix 'module.' (as DataParallel saves them); strip it: "
                         "netc_load_options.strip_prefix = \"module.\""),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("... and 12 more (lenet5_check_weights lists them all)"),
            std::string::npos)
      << message;

  // The whole list: every problem, one a line, the summary first.
  size_t needed = lenet5_check_weights(file.path.c_str(), nullptr, nullptr, 0);
  std::vector<char> report(needed);
  EXPECT_EQ(lenet5_check_weights(file.path.c_str(), nullptr, report.data(), report.size()),
            needed);
  std::string full(report.data());
  EXPECT_EQ(full.size() + 1, needed);
  EXPECT_NE(full.find("carry the prefix 'module.'"), std::string::npos) << full;
  for (const TensorBytes &t : tensors)
    EXPECT_NE(full.find("unexpected tensor '" + t.key + "'"), std::string::npos) << t.key;
  EXPECT_EQ(full.find("more ("), std::string::npos) << full;

  netc_load_options options{};
  options.strip_prefix = "module.";
  EXPECT_EQ(lenet5_check_weights(file.path.c_str(), &options, report.data(), report.size()), 1u);
  ASSERT_EQ(lenet5_load_with_options(file.path.c_str(), &options, &model, &error), NETC_OK)
      << error.message;
  std::vector<float> input = batchOf(2), stripped(20), reference(20);
  int64_t shape[] = {2, 1, 28, 28};
  ASSERT_EQ(lenet5_run(model, input.data(), 4, shape, stripped.data(), 20, nullptr, 0, 0, &error),
            NETC_OK);
  lenet5_free(model);
  ASSERT_EQ(run(input, 2, reference, 20, 0, error), NETC_OK);
  EXPECT_EQ(stripped, reference);
}

TEST_F(ModelApi, AnotherNetworksWeightsAreNamedAsSuch) {
  ScratchFile file("other.safetensors");
  ASSERT_TRUE(netc::test::writeSafetensors(
      file.path, {{"encoder.weight", "F32", {2, 2}, std::string(16, '\0')},
                  {"decoder.weight", "F32", {2}, std::string(8, '\0')}}));
  lenet5_model *model = nullptr;
  netc_error error{};
  EXPECT_EQ(lenet5_load(file.path.c_str(), &model, &error), NETC_ERROR_MISSING_TENSOR);
  EXPECT_NE(std::string(error.message)
                .find("none of the 10 expected keys is in the file, which holds 2 others: these "
                      "look like the weights of a different network"),
            std::string::npos)
      << error.message;
}

TEST_F(ModelApi, PyTorchCheckpointsAreRecognized) {
  ScratchFile zip("checkpoint.pth"), pickle("old.pth");
  std::ofstream(zip.path, std::ios::binary) << std::string("PK\x03\x04rest of a zip", 17);
  std::ofstream(pickle.path, std::ios::binary) << std::string("\x80\x02}q\x00", 5);
  for (const ScratchFile *f : {&zip, &pickle}) {
    lenet5_model *model = nullptr;
    netc_error error{};
    EXPECT_EQ(lenet5_load(f->path.c_str(), &model, &error), NETC_ERROR_FORMAT);
    EXPECT_NE(std::string(error.message)
                  .find("this is a PyTorch checkpoint (torch.save's " +
                        std::string(f == &zip ? "zip" : "pickle") +
                        " format), not safetensors; convert it with 'python3 "
                        "tools/export_torch.py " + f->path + " OUT.safetensors'"),
              std::string::npos)
        << error.message;
  }
  // A safetensors header of 640 bytes starts with 0x80 0x02, as a pickle
  // does: it is still read as safetensors.
  std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  header.resize(640, ' ');
  std::string image = std::string("\x80\x02\0\0\0\0\0\0", 8) + header + std::string(4, '\0');
  netc_safetensors *file = nullptr;
  netc_error error{};
  EXPECT_EQ(netc_safetensors_open_memory(image.data(), image.size(), "padded", &file, &error),
            NETC_OK)
      << error.message;
  netc_safetensors_close(file);
}

TEST_F(ModelApi, HalfPrecisionWeightsAreConvertedAtLoad) {
  // BF16 is float32's top half: the trained weights in BF16 must give what
  // float32 weights truncated the same way give, bit for bit.
  std::vector<TensorBytes> bf16 = trainedTensors(), truncated = bf16;
  for (size_t i = 0; i < bf16.size(); ++i) {
    std::string half, full;
    for (size_t k = 0; k + 4 <= bf16[i].bytes.size(); k += 4) {
      half += bf16[i].bytes.substr(k + 2, 2);
      full += std::string(2, '\0') + bf16[i].bytes.substr(k + 2, 2);
    }
    bf16[i].dtype = "BF16";
    bf16[i].bytes = half;
    truncated[i].bytes = full;
  }
  ScratchFile a("bf16.safetensors"), b("truncated.safetensors");
  ASSERT_TRUE(netc::test::writeSafetensors(a.path, bf16));
  ASSERT_TRUE(netc::test::writeSafetensors(b.path, truncated));
  std::vector<float> input = batchOf(3), fromBf16(30), fromF32(30);
  ASSERT_NO_FATAL_FAILURE(loadAndRun(a.path, input, 3, fromBf16));
  ASSERT_NO_FATAL_FAILURE(loadAndRun(b.path, input, 3, fromF32));
  EXPECT_EQ(fromBf16, fromF32);

  // F16, through lenet5's first bias (6 values), every kind of value: 1, -2,
  // 0.5, 65504 (the largest), 2^-24 (the smallest subnormal), -0; then
  // infinities and NaN, whose outputs must match float32's bit for bit too.
  const std::vector<std::pair<std::vector<uint16_t>, std::vector<float>>> biases = {
      {{0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000},
       {1.0f, -2.0f, 0.5f, 65504.0f, 5.9604645e-8f, -0.0f}},
      {{0x7c00, 0xfc00, 0x7e00, 0x3c00, 0x3c00, 0x3c00},
       {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
        std::numeric_limits<float>::quiet_NaN(), 1.0f, 1.0f, 1.0f}}};
  for (const auto &[halves, floats] : biases) {
    std::vector<TensorBytes> f16 = trainedTensors(), f32 = trainedTensors();
    for (size_t i = 0; i < f16.size(); ++i)
      if (f16[i].key == "features.0.bias") {
        f16[i].dtype = "F16";
        f16[i].bytes.assign(reinterpret_cast<const char *>(halves.data()), 12);
        f32[i].bytes.assign(reinterpret_cast<const char *>(floats.data()), 24);
      }
    ScratchFile c("f16.safetensors"), d("f32.safetensors");
    ASSERT_TRUE(netc::test::writeSafetensors(c.path, f16));
    ASSERT_TRUE(netc::test::writeSafetensors(d.path, f32));
    std::vector<float> fromF16(30), fromExact(30);
    ASSERT_NO_FATAL_FAILURE(loadAndRun(c.path, input, 3, fromF16));
    ASSERT_NO_FATAL_FAILURE(loadAndRun(d.path, input, 3, fromExact));
    EXPECT_EQ(std::memcmp(fromF16.data(), fromExact.data(), 30 * sizeof(float)), 0)
        << "F16 bias " << floats[0] << ", " << floats[1] << ", ...";
  }
}

TEST(Weights, StrippingThatMergesTwoKeysIsRefused) {
  std::string image = netc::test::safetensorsImage(
      {{"module.w", "F32", {1}, std::string(4, '\0')}, {"w", "F32", {1}, std::string(4, '\0')}});
  netc_safetensors *file = nullptr;
  netc_error error{};
  ASSERT_EQ(netc_safetensors_open_memory(image.data(), image.size(), "merged", &file, &error),
            NETC_OK);
  EXPECT_EQ(netc_safetensors_strip_prefix(file, "module.", &error), NETC_ERROR_FORMAT);
  EXPECT_STREQ(error.message,
               "merged: with the prefix 'module.' stripped, two tensors are named 'w'");
  netc_safetensors_close(file);
}

TEST_F(ModelApi, BadImagesInMemoryAreRefused) {
  lenet5_model *model = nullptr;
  netc_error error{};
  const char garbage[] = "not a safetensors image at all";
  EXPECT_EQ(lenet5_load_memory(garbage, sizeof garbage, nullptr, &model, &error),
            NETC_ERROR_FORMAT);
  EXPECT_NE(std::string(error.message).find("lenet5 weights (memory): header length"),
            std::string::npos)
      << error.message;
  EXPECT_EQ(model, nullptr);
  EXPECT_EQ(lenet5_load_memory(nullptr, 10, nullptr, &model, &error),
            NETC_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(error.message, "lenet5_load_memory: null argument");
  // A caller-sized report: cut to the buffer, NUL-terminated, the size it needs returned.
  char small[16];
  size_t needed = lenet5_check_weights("/nonexistent.safetensors", nullptr, small, sizeof small);
  EXPECT_GT(needed, sizeof small);
  EXPECT_EQ(std::strlen(small), sizeof small - 1);
  EXPECT_EQ(std::string(small), std::string("/nonexistent.safetensors").substr(0, 15));
}

TEST(Weights, MissingBatchNormCountersAreAccepted) {
  // Checkpoints older than PyTorch 0.4.1 have no num_batches_tracked.
  netc_param_spec expected[] = {{"bn.weight", "F32", 1, {2}},
                                {"bn.num_batches_tracked", "I64", 0, {}}};
  std::string image = netc::test::safetensorsImage({{"bn.weight", "F32", {2}, std::string(8, '\0')}});
  netc_safetensors *file = nullptr;
  netc_error error{};
  ASSERT_EQ(netc_safetensors_open_memory(image.data(), image.size(), "old", &file, &error),
            NETC_OK);
  EXPECT_EQ(netc_safetensors_check(file, expected, 2, &error), NETC_OK) << error.message;
  netc_safetensors_close(file);
}

TEST_F(ModelApi, EmbeddedWeightsNeedNoFile) {
  std::vector<float> input = batchOf(2), reference(20), output(20);
  int64_t shape[] = {2, 1, 28, 28};
  netc_error error{};
  ASSERT_EQ(run(input, 2, reference, 20, 0, error), NETC_OK);
  lenet5_embedded_model *model = nullptr;
  ASSERT_EQ(lenet5_embedded_load_embedded(nullptr, &model, &error), NETC_OK) << error.message;
  ASSERT_EQ(lenet5_embedded_run(model, input.data(), 4, shape, output.data(), 20, nullptr, 0, 0,
                                &error),
            NETC_OK);
  lenet5_embedded_free(model);
  EXPECT_EQ(output, reference);
}

TEST_F(ModelApi, LoadsFromMemoryAndOutlivesItsFile) {
  std::ifstream in(weightsPath(), std::ios::binary);
  std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> input = batchOf(2), reference(20), output(20);
  int64_t shape[] = {2, 1, 28, 28};
  netc_error error{};
  ASSERT_EQ(run(input, 2, reference, 20, 0, error), NETC_OK);

  lenet5_model *fromMemory = nullptr;
  ASSERT_EQ(lenet5_load_memory(image.data(), image.size(), nullptr, &fromMemory, &error), NETC_OK)
      << error.message;
  std::fill(image.begin(), image.end(), '\xff'); // the image is not needed after the call
  ASSERT_EQ(lenet5_run(fromMemory, input.data(), 4, shape, output.data(), 20, nullptr, 0, 0,
                       &error),
            NETC_OK);
  lenet5_free(fromMemory);
  EXPECT_EQ(output, reference);

  // A file truncated, then deleted, after the load changes nothing.
  ScratchFile copy("copy.safetensors");
  std::ifstream again(weightsPath(), std::ios::binary);
  std::ofstream(copy.path, std::ios::binary) << again.rdbuf();
  lenet5_model *model = nullptr;
  ASSERT_EQ(lenet5_load(copy.path.c_str(), &model, &error), NETC_OK) << error.message;
  ASSERT_EQ(truncate(copy.path.c_str(), 0), 0);
  ASSERT_EQ(std::remove(copy.path.c_str()), 0);
  std::fill(output.begin(), output.end(), 0.0f);
  ASSERT_EQ(lenet5_run(model, input.data(), 4, shape, output.data(), 20, nullptr, 0, 0, &error),
            NETC_OK);
  lenet5_free(model);
  EXPECT_EQ(output, reference);
}

} // namespace
