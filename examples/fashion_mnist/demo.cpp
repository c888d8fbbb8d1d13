//===- demo.cpp - LeNet-5, compiled by netc, on Fashion-MNIST -------------===//
//
// Loads the weights trained by tools/train_lenet.py, classifies the 10,000
// test images through the generated library, and reports accuracy, top-1
// agreement with PyTorch's predictions, and throughput (median of 5 passes).
//
//   fashion-mnist-demo [--weights W.safetensors] [--predictions P] [--data DIR]
//
//===----------------------------------------------------------------------===//
#include "lenet5.hpp"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

/// Reads a gzip-compressed IDX file; false with a message on any problem.
bool readIdx(const std::string &path, uint32_t magic, std::vector<uint8_t> &data,
             std::vector<uint32_t> &dims, std::string &error) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) {
    error = path + ": cannot open";
    return false;
  }
  unsigned char header[16];
  int rank = magic == 2051 ? 3 : 1;
  int headerBytes = 4 + 4 * rank;
  bool ok = gzread(f, header, static_cast<unsigned>(headerBytes)) == headerBytes;
  auto be32 = [&](int at) {
    return uint32_t(header[at]) << 24 | uint32_t(header[at + 1]) << 16 |
           uint32_t(header[at + 2]) << 8 | header[at + 3];
  };
  if (!ok || be32(0) != magic) {
    gzclose(f);
    error = path + ": not an IDX file of the expected kind";
    return false;
  }
  size_t total = 1;
  dims.clear();
  for (int i = 0; i < rank; ++i) {
    dims.push_back(be32(4 + 4 * i));
    total *= dims.back();
  }
  data.resize(total);
  ok = gzread(f, data.data(), static_cast<unsigned>(total)) == static_cast<int>(total);
  gzclose(f);
  if (!ok)
    error = path + ": truncated";
  return ok;
}

} // namespace

int main(int argc, char **argv) {
  std::string weights = NETC_WEIGHTS_DIR "/lenet5_fashion_mnist.safetensors";
  std::string predictionsPath = NETC_WEIGHTS_DIR "/lenet5_fashion_mnist.predictions";
  std::string data = "/usr/share/datasets/fashion-mnist";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--weights" || arg == "--predictions" || arg == "--data") && i + 1 < argc) {
      (arg == "--weights" ? weights : arg == "--predictions" ? predictionsPath : data) = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--weights W.safetensors] [--predictions P] [--data DIR]\n",
                   argv[0]);
      return 2;
    }
  }

  std::vector<uint8_t> pixels, labels;
  std::vector<uint32_t> imageDims, labelDims;
  std::string error;
  if (!readIdx(data + "/t10k-images-idx3-ubyte.gz", 2051, pixels, imageDims, error) ||
      !readIdx(data + "/t10k-labels-idx1-ubyte.gz", 2049, labels, labelDims, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  const int64_t count = imageDims[0];
  if (imageDims[1] != 28 || imageDims[2] != 28 || labelDims[0] != count) {
    std::fprintf(stderr, "error: unexpected Fashion-MNIST dimensions\n");
    return 1;
  }
  std::string predictions;
  std::ifstream(predictionsPath) >> predictions;
  if (static_cast<int64_t>(predictions.size()) != count) {
    std::fprintf(stderr, "error: %s: expected %lld predictions\n", predictionsPath.c_str(),
                 static_cast<long long>(count));
    return 1;
  }

  // The wrapper throws netc::Error, with the status and the runtime's message.
  netc::models::lenet5 model;
  std::vector<float> logits(static_cast<size_t>(count) * 10);
  std::vector<double> seconds;
  const int64_t batch = 250;
  try {
    model.load(weights);
    // The preprocessing the training used: pixel / 255.
    std::vector<float> input(pixels.size());
    for (size_t i = 0; i < pixels.size(); ++i)
      input[i] = pixels[i] / 255.0f;
    for (int pass = 0; pass < 5; ++pass) {
      auto start = std::chrono::steady_clock::now();
      for (int64_t first = 0; first < count; first += batch) {
        int64_t n = std::min(batch, count - first);
        model.run(&input[first * 784], {n, 1, 28, 28}, &logits[first * 10],
                  logits.size() - first * 10);
      }
      seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  } catch (const netc::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  std::sort(seconds.begin(), seconds.end());

  int64_t correct = 0, agree = 0;
  for (int64_t i = 0; i < count; ++i) {
    const float *row = &logits[i * 10];
    int best = static_cast<int>(std::max_element(row, row + 10) - row);
    correct += best == labels[i];
    agree += best == predictions[i] - '0';
  }
  double accuracy = double(correct) / count, agreement = double(agree) / count;
  std::printf("LeNet-5 on the %lld Fashion-MNIST test images (batches of %lld, median of 5 passes)\n",
              static_cast<long long>(count), static_cast<long long>(batch));
  std::printf("accuracy=%.4f agreement=%.4f images_per_s=%.0f\n", accuracy, agreement,
              count / seconds[seconds.size() / 2]);
  return 0;
}
