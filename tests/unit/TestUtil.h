//===- TestUtil.h - Helpers for the DSL unit tests -------------*- C++ -*-===//
#ifndef NETC_TESTS_UNIT_TESTUTIL_H
#define NETC_TESTS_UNIT_TESTUTIL_H

#include "netc/dsl/Elaborator.h"
#include "netc/dsl/Spec.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace netc::dsl::test {

/// Parses and elaborates a spec; holds either the graph or the diagnostic.
struct Elaborated {
  std::unique_ptr<Module> module;
  std::optional<Graph> graph;
  Diagnostic diag;

  bool ok() const { return graph.has_value(); }
  /// "file:line:col: error: message" (the first line of the rendering).
  std::string error() const { return diag.location() + ": error: " + diag.message; }
};

inline Elaborated elaborateSpec(const std::string &text, const std::string &entry,
                                std::vector<int64_t> inputShape = {}) {
  Elaborated result;
  result.module = parseSpec("t.nn", text, result.diag);
  if (!result.module)
    return result;
  ElaborateOptions options;
  options.inputShape = std::move(inputShape);
  result.graph = elaborate(*result.module, entry, options, result.diag);
  return result;
}

/// Evaluates `expr` in a spec with the given globals; "error: ..." on failure.
inline std::string evalIn(const std::string &globals, const std::string &expr) {
  Diagnostic diag;
  auto module = parseSpec("t.nn", globals, diag);
  if (!module)
    return "error: " + diag.message;
  std::optional<std::string> value = evaluate(*module, expr, diag);
  return value ? *value : "error: " + diag.message;
}

inline std::string eval(const std::string &expr) { return evalIn("", expr); }

/// Keys of a graph as `KEY DTYPE [shape]` lines, joined by newlines.
inline std::string keyLines(const Graph &graph) {
  std::string out;
  for (const Weight *w : graph.weights()) {
    out += w->key + " " + dtypeName(w->dtype) + " [";
    for (size_t i = 0; i < w->shape.size(); ++i)
      out += (i ? "," : "") + std::to_string(w->shape[i]);
    out += "]\n";
  }
  return out;
}

} // namespace netc::dsl::test

#endif // NETC_TESTS_UNIT_TESTUTIL_H
