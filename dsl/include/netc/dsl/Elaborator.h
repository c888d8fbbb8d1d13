//===- Elaborator.h - From a parsed spec to a layer graph -------*- C++ -*-===//
//
// Elaboration runs a spec's blocks, loops and conditionals for one entry
// (`resnet(50, groups=32, wpg=4)`), infers every tensor shape, names every
// layer and weight as PyTorch's state_dict does, and reports the first error
// with its location and instantiation trace.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_DSL_ELABORATOR_H
#define NETC_DSL_ELABORATOR_H

#include "netc/dsl/AST.h"
#include "netc/dsl/Graph.h"

#include <optional>
#include <string>
#include <vector>

namespace netc::dsl {

/// Bounds that keep any spec, however hostile, from hanging or exhausting
/// memory; exceeding one is an ordinary located error.
struct Limits {
  int maxCallDepth = 100;            // nested block instantiations
  int64_t maxSteps = 5'000'000;      // expression and statement evaluations
  int64_t maxLayers = 100'000;       // layers in one net
  int64_t maxSequenceLength = 100'000; // elements in one list, tuple, range or string
};

struct ElaborateOptions {
  /// Binds the input's symbolic dimensions (and checks its fixed ones), as
  /// `--input-shape 1,3,224,224` does. Empty: leave them symbolic.
  std::vector<int64_t> inputShape;
  /// What gave inputShape, as messages name it ("--input-shape", or the
  /// input file's "the input x.npy").
  std::string inputShapeSource = "--input-shape";
  Limits limits;
};

/// A net or alias a module offers as an entry point.
struct EntryInfo {
  std::string name;
  std::string signature; // "resnet(depth, groups=1, wpg=64, classes=1000)" or "= resnet(50)"
  SourceLoc loc;
};

/// The nets and aliases of a module, in definition order.
std::vector<EntryInfo> listEntries(const Module &module);

/// The callee name an entry text refers to ("resnet" for "resnet(50)"), or ""
/// when the text does not parse as a name or call.
std::string entryCallee(const std::string &entryText);

/// Evaluates the expression `exprText` in the module's global scope and
/// returns how the language writes the result (`-4`, `[0, 1]`, `'M'`).
/// On failure returns nothing and fills `diag`. Never throws.
std::optional<std::string> evaluate(const Module &module, const std::string &exprText,
                                    Diagnostic &diag);

/// Elaborates `entryText` against `module`. On failure returns nothing and
/// fills `diag`. Never throws.
std::optional<Graph> elaborate(const Module &module, const std::string &entryText,
                               const ElaborateOptions &options, Diagnostic &diag);

} // namespace netc::dsl

#endif // NETC_DSL_ELABORATOR_H
