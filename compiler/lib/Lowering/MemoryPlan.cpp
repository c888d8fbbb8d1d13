//===- MemoryPlan.cpp - The static memory plan ------------------------------===//
//
// Every arena tensor gets an offset (in bytes per batch item) that no other
// tensor alive at the same time overlaps. A tensor is alive from the step
// that writes it to the last step that reads it or any view of it; a step's
// inputs and output are alive together. First fit, in definition order;
// offsets are multiples of 64 bytes (256 on a GPU).
//
//===----------------------------------------------------------------------===//
#include "netc/Lowering/Program.h"

#include <algorithm>

namespace netc::lowering {

void planMemory(Program &p) {
  size_t count = p.tensors.size();
  std::vector<int> first(count, -1), last(count, -1);
  for (size_t s = 0; s < p.steps.size(); ++s) {
    const Step &step = p.steps[s];
    int out = p.ownerOf(step.output);
    if (first[out] < 0)
      first[out] = static_cast<int>(s);
    last[out] = std::max(last[out], static_cast<int>(s));
    for (int in : step.inputs)
      last[p.ownerOf(in)] = static_cast<int>(s);
  }
  struct Block {
    int64_t offset, size;
    int last;
  };
  std::vector<Block> live;
  int64_t peak = 0;
  for (size_t s = 0; s < p.steps.size(); ++s) {
    int t = p.ownerOf(p.steps[s].output);
    Tensor &tensor = p.tensors[static_cast<size_t>(t)];
    if (tensor.kind != Tensor::Kind::Arena || first[t] != static_cast<int>(s))
      continue;
    // Blocks whose last reader ran before this step are free again.
    live.erase(std::remove_if(live.begin(), live.end(),
                              [&](const Block &b) { return b.last < static_cast<int>(s); }),
               live.end());
    std::sort(live.begin(), live.end(),
              [](const Block &a, const Block &b) { return a.offset < b.offset; });
    // Sizes in whole 64-byte lines, so every offset (times any batch) is
    // 64-byte aligned from the arena's start; on a GPU 256 bytes, which
    // OpenCL needs of a buffer's offset (pocl: 128) and CUDA's coalescing likes.
    int64_t line = p.deviceApi.empty() ? 64 : 256;
    int64_t size = (tensor.bytesPerSample() + line - 1) / line * line;
    int64_t offset = 0;
    for (const Block &b : live) {
      if (offset + size <= b.offset)
        break;
      offset = std::max(offset, b.offset + b.size);
    }
    tensor.offset = offset;
    live.push_back(Block{offset, size, last[t]});
    peak = std::max(peak, offset + size);
  }
  p.arenaBytesPerSample = peak;
}

} // namespace netc::lowering
