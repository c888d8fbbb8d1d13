//===- concurrency.cpp - Two models, four callers, four thread counts -----===//
//
// Loads LeNet-5 (trained weights) and ResNet-18 (random weights this test
// writes from the model's own tensor list), computes every reference output
// on one thread, then runs four callers at once, each with its own arenas
// and its own thread count (1, 2, 3 and 4: netc's pool serves them all, no
// call changes another's), each alternating between the two models. Every
// output must equal its reference bit for bit. Also checks the arena and
// output-capacity contracts. Built twice: as is, and with ThreadSanitizer
// (netc-concurrency-tsan), which must report no race.
//
//   concurrency LENET5_WEIGHTS.safetensors SCRATCH_DIR
//
//===----------------------------------------------------------------------===//
#include "lenet5.h"
#include "resnet18.h"

#include "SafetensorsWriter.h"
#include "netc/program.h"

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

/// A safetensors file holding every tensor `program` expects, random.
bool writeRandomWeights(const netc_program &program, const std::string &path) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> value(-0.05f, 0.05f);
  std::vector<netc::test::TensorBytes> tensors;
  for (size_t i = 0; i < program.num_expected; ++i) {
    const netc_param_spec &spec = program.expected[i];
    netc::test::TensorBytes t{spec.key, spec.dtype, {spec.shape, spec.shape + spec.rank}, {}};
    size_t count = 1;
    for (int64_t d : t.shape)
      count *= static_cast<size_t>(d);
    bool f32 = t.dtype == "F32";
    for (size_t k = 0; k < count; ++k) {
      if (f32) {
        // A BatchNorm's variance must stay positive.
        float v = t.key.find("running_var") != std::string::npos ? 1.0f + value(rng) : value(rng);
        t.bytes.append(reinterpret_cast<const char *>(&v), sizeof v);
      } else {
        int64_t v = 0;
        t.bytes.append(reinterpret_cast<const char *>(&v), sizeof v);
      }
    }
    tensors.push_back(std::move(t));
  }
  return netc::test::writeSafetensors(path, tensors);
}

struct Case {
  const char *name;
  netc_status (*run)(const void *model, const float *input, const int64_t *shape, float *output,
                     size_t capacity, void *arena, size_t arenaBytes, int threads,
                     netc_error *error);
  const void *model;
  size_t (*arenaBytes)(int64_t batch);
  std::vector<int64_t> shape; // the batch's
  std::vector<float> input, reference;
};

netc_status runLenet(const void *model, const float *input, const int64_t *shape, float *output,
                     size_t capacity, void *arena, size_t arenaBytes, int threads,
                     netc_error *error) {
  return lenet5_run(static_cast<const lenet5_model *>(model), input, 4, shape, output, capacity,
                    arena, arenaBytes, threads, error);
}

netc_status runResnet(const void *model, const float *input, const int64_t *shape, float *output,
                      size_t capacity, void *arena, size_t arenaBytes, int threads,
                      netc_error *error) {
  return resnet18_run(static_cast<const resnet18_model *>(model), input, 4, shape, output,
                      capacity, arena, arenaBytes, threads, error);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s LENET5_WEIGHTS.safetensors SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  netc_error error{};
  lenet5_model *lenet = nullptr;
  resnet18_model *resnet = nullptr;
  std::string resnetWeights = std::string(argv[2]) + "/resnet18_random.safetensors";
  if (!writeRandomWeights(*resnet18_program(), resnetWeights)) {
    std::fprintf(stderr, "cannot write %s\n", resnetWeights.c_str());
    return 1;
  }
  if (lenet5_load(argv[1], &lenet, &error) != NETC_OK ||
      resnet18_load(resnetWeights.c_str(), &resnet, &error) != NETC_OK) {
    std::fprintf(stderr, "load: %s\n", error.message);
    return 1;
  }

  std::mt19937 rng(7);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::vector<Case> cases = {
      {"lenet5", runLenet, lenet, lenet5_arena_bytes, {3, 1, 28, 28}, {}, {}},
      {"resnet18", runResnet, resnet, resnet18_arena_bytes, {2, 3, 67, 83}, {}, {}}};
  for (Case &c : cases) {
    size_t in = 1;
    for (int64_t d : c.shape)
      in *= static_cast<size_t>(d);
    c.input.resize(in);
    for (float &v : c.input)
      v = pixel(rng);
    int64_t outShape[NETC_MAX_RANK];
    size_t outElements = c.run == runLenet
                      ? lenet5_output_shape(4, c.shape.data(), outShape, nullptr)
                      : resnet18_output_shape(4, c.shape.data(), outShape, nullptr);
    c.reference.resize(outElements);
    if (c.run(c.model, c.input.data(), c.shape.data(), c.reference.data(), c.reference.size(),
              nullptr, 0, 1, &error) != NETC_OK) {
      std::fprintf(stderr, "%s: run: %s\n", c.name, error.message);
      return 1;
    }
  }

  // The contracts: an arena or output one float too small is refused,
  // exactly enough works.
  Case &lenetCase = cases[0];
  std::vector<float> out(lenetCase.reference.size());
  size_t needed = lenet5_arena_bytes(lenetCase.shape[0]);
  std::vector<char> small(needed - 1);
  if (runLenet(lenet, lenetCase.input.data(), lenetCase.shape.data(), out.data(), out.size(),
               small.data(), small.size(), 0, &error) != NETC_ERROR_ARENA_TOO_SMALL ||
      runLenet(lenet, lenetCase.input.data(), lenetCase.shape.data(), out.data(), out.size() - 1,
               nullptr, 0, 0, &error) != NETC_ERROR_INVALID_ARGUMENT) {
    std::fprintf(stderr, "FAILED: a short arena or output buffer was accepted\n");
    return 1;
  }

  const int callers = 4, rounds = 6;
  std::vector<int> mismatches(callers, 0);
  std::vector<std::string> messages(callers);
  std::vector<std::thread> pool;
  for (int t = 0; t < callers; ++t)
    pool.emplace_back([&, t] {
      int threads = t + 1;
      netc_error err{};
      for (int r = 0; r < rounds; ++r) {
        Case &c = cases[static_cast<size_t>(r + t) % cases.size()];
        std::vector<float> arena(c.arenaBytes(c.shape[0]) / sizeof(float) + 1);
        std::vector<float> result(c.reference.size());
        netc_status status = c.run(c.model, c.input.data(), c.shape.data(), result.data(),
                                   result.size(), arena.data(), arena.size() * sizeof(float),
                                   threads, &err);
        if (status != NETC_OK) {
          messages[static_cast<size_t>(t)] = err.message;
          ++mismatches[static_cast<size_t>(t)];
        } else if (std::memcmp(result.data(), c.reference.data(),
                               result.size() * sizeof(float)) != 0) {
          size_t i = 0;
          while (std::memcmp(&result[i], &c.reference[i], sizeof(float)) == 0)
            ++i;
          messages[static_cast<size_t>(t)] = std::string(c.name) + ": element " +
                                             std::to_string(i) + " is " +
                                             std::to_string(result[i]) + ", expected " +
                                             std::to_string(c.reference[i]);
          ++mismatches[static_cast<size_t>(t)];
        }
      }
    });
  for (std::thread &th : pool)
    th.join();
  lenet5_free(lenet);
  resnet18_free(resnet);
  std::remove(resnetWeights.c_str());
  int failed = 0;
  for (int t = 0; t < callers; ++t)
    if (mismatches[static_cast<size_t>(t)]) {
      std::fprintf(stderr, "FAILED: caller %d (%d threads): %d of %d runs wrong; %s\n", t, t + 1,
                   mismatches[static_cast<size_t>(t)], rounds,
                   messages[static_cast<size_t>(t)].c_str());
      failed = 1;
    }
  if (!failed)
    std::printf("%d callers (1-%d threads each) x %d runs over lenet5 and resnet18: all outputs "
                "equal the single-threaded reference\n",
                callers, callers, rounds);
  return failed;
}
