//===- ProgramTables.cpp - A Program in the runtime's table form ----------===//
#include "netc/Lowering/ProgramTables.h"

#include <algorithm>

namespace netc::lowering {

netc_param_spec paramSpec(const char *key, const char *dtype, const std::vector<int64_t> &shape) {
  netc_param_spec s{};
  s.key = key;
  s.dtype = dtype;
  s.rank = static_cast<int>(std::min<size_t>(shape.size(), NETC_MAX_RANK));
  std::copy(shape.begin(), shape.begin() + s.rank, s.shape);
  return s;
}

netc_dtype dtypeOf(DType dtype) {
  switch (dtype) {
  case DType::BF16: return NETC_DTYPE_BF16;
  case DType::I8: return NETC_DTYPE_I8;
  case DType::U8: return NETC_DTYPE_U8;
  case DType::I32: return NETC_DTYPE_I32;
  case DType::F32: return NETC_DTYPE_F32;
  }
  return NETC_DTYPE_F32;
}

ProgramTables::ProgramTables(const Program &p) {
  // Strings first, so the pointers into them stay valid.
  strings_.reserve(p.checkpoint.size() * 2 + p.weights.size() + p.steps.size() +
                   p.packs.size() + 1);
  strings_.push_back(p.name);
  for (const CheckpointEntry &e : p.checkpoint) {
    strings_.push_back(e.key);
    strings_.push_back(e.dtype);
  }
  for (const Weight &w : p.weights)
    strings_.push_back(w.key);
  for (const Step &s : p.steps)
    strings_.push_back(s.name);
  for (const Pack &k : p.packs)
    strings_.push_back(k.name);
  size_t next = 1;
  for (const CheckpointEntry &e : p.checkpoint) {
    const char *key = strings_[next++].c_str();
    const char *dtype = strings_[next++].c_str();
    expected.push_back(paramSpec(key, dtype, e.shape));
  }
  for (const Weight &w : p.weights)
    weights.push_back(paramSpec(strings_[next++].c_str(), "F32", w.shape));

  for (size_t t = 0; t < p.tensors.size(); ++t) {
    const Tensor &owner = p.tensors[static_cast<size_t>(p.ownerOf(static_cast<int>(t)))];
    netc_program_tensor d{};
    d.rank = static_cast<int>(std::min<size_t>(p.tensors[t].shape.size(), NETC_MAX_RANK));
    std::copy(p.tensors[t].shape.begin(), p.tensors[t].shape.begin() + d.rank, d.shape);
    d.storage = owner.kind == Tensor::Kind::Input    ? NETC_STORAGE_INPUT
                : owner.kind == Tensor::Kind::Output ? NETC_STORAGE_OUTPUT
                                                     : NETC_STORAGE_ARENA;
    d.dtype = dtypeOf(owner.dtype);
    d.offset = owner.offset;
    d.layout = owner.layout == Layout::NHWC && d.rank == 4 ? NETC_LAYOUT_NHWC : NETC_LAYOUT_NCHW;
    d.slice_of = p.tensors[t].slice ? p.tensors[t].aliasOf : -1;
    d.channel_offset = p.tensors[t].channelOffset;
    tensors.push_back(d);
  }

  for (const Step &s : p.steps) {
    inputsAt.push_back(operands.size());
    operands.insert(operands.end(), s.inputs.begin(), s.inputs.end());
    weightsAt.push_back(operands.size());
    operands.insert(operands.end(), s.weights.begin(), s.weights.end());
  }
  for (const Pack &k : p.packs) {
    sourcesAt.push_back(operands.size());
    operands.insert(operands.end(), k.sources.begin(), k.sources.end());
  }
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const Step &s = p.steps[i];
    netc_program_step d{};
    d.pipeline = s.group;
    d.num_inputs = static_cast<int>(s.inputs.size());
    d.inputs = operands.data() + inputsAt[i];
    d.num_weights = static_cast<int>(s.weights.size());
    d.weights = operands.data() + weightsAt[i];
    d.output = s.output;
    d.name = strings_[next++].c_str();
    steps.push_back(d);
  }
  for (size_t i = 0; i < p.packs.size(); ++i) {
    const Pack &k = p.packs[i];
    netc_program_pack d{};
    d.pipeline = k.group;
    d.num_sources = static_cast<int>(k.sources.size());
    d.sources = operands.data() + sourcesAt[i];
    d.dtype = dtypeOf(k.dtype);
    d.rank = static_cast<int>(std::min<size_t>(k.shape.size(), NETC_MAX_RANK));
    std::copy(k.shape.begin(), k.shape.begin() + d.rank, d.shape);
    d.name = strings_[next++].c_str();
    d.values = k.group == Group::PackUse::kConstantPack ? k.values.data() : nullptr;
    if (k.group == Group::PackUse::kConstantPack)
      d.pipeline = NETC_PACK_CONSTANT;
    packs.push_back(d);
  }

  program.abi_version = NETC_ABI_VERSION;
  program.netc_version = NETC_VERSION_STRING;
  program.name = strings_[0].c_str();
  program.isa = p.isa;
  program.expected = expected.data();
  program.num_expected = expected.size();
  program.weights = weights.data();
  program.num_weights = weights.size();
  program.packs = packs.empty() ? nullptr : packs.data();
  program.num_packs = packs.size();
  program.tensors = tensors.data();
  program.num_tensors = tensors.size();
  program.steps = steps.data();
  program.num_steps = steps.size();
  program.num_pipelines = p.groups.size();
  program.input = p.input;
  program.output = p.output;
  program.arena_bytes_per_sample = p.arenaBytesPerSample;
}

} // namespace netc::lowering
