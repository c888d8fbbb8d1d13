//===- ProgramTables.h - A Program in the runtime's table form ---*- C++ -*-===//
//
// The runtime's interpreter (netc_program_run, runtime/include/netc/program.h)
// runs a network from constant tables. ProgramTables builds those tables
// once from a lowered Program: the JIT runs them in memory and the code
// generator prints them as C, so both execute the same description.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_LOWERING_PROGRAMTABLES_H
#define NETC_LOWERING_PROGRAMTABLES_H

#include "netc/Lowering/Program.h"
#include "netc/program.h"

#include <string>
#include <vector>

namespace netc::lowering {

/// The runtime's description of one tensor; `key` and `dtype` are borrowed.
netc_param_spec paramSpec(const char *key, const char *dtype, const std::vector<int64_t> &shape);
/// The runtime's name for an element type.
netc_dtype dtypeOf(DType dtype);

/// Owns the storage the `netc_program` view points into; not copyable.
class ProgramTables {
public:
  explicit ProgramTables(const Program &program);
  ProgramTables(const ProgramTables &) = delete;
  ProgramTables &operator=(const ProgramTables &) = delete;

  /// The view: pipelines, set_num_threads and invoke are left null.
  netc_program program{};

  std::vector<netc_param_spec> expected; // the checkpoint manifest
  std::vector<netc_param_spec> weights;  // what the pipelines read
  std::vector<netc_program_tensor> tensors;
  std::vector<netc_program_step> steps;
  std::vector<netc_program_pack> packs;
  /// Step operands and pack sources: steps[i].inputs and .weights and
  /// packs[k].sources point into this.
  std::vector<int> operands;
  std::vector<size_t> inputsAt, weightsAt, sourcesAt; // offsets into `operands`

private:
  std::vector<std::string> strings_; // keys and step names (stable storage)
};

} // namespace netc::lowering

#endif // NETC_LOWERING_PROGRAMTABLES_H
