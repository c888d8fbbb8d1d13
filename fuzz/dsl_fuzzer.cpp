//===- dsl_fuzzer.cpp - libFuzzer target for lexer, parser, elaborator ----===//
//
// The input is a spec. A first line `#! ENTRY` (a comment to the language)
// names the entry to elaborate, e.g. `#! resnet(18)`; otherwise every net
// and alias of the spec is elaborated. Any crash, hang, leak or sanitizer
// report is a bug: every malformed input must end in a Diagnostic.
//
//===----------------------------------------------------------------------===//
#include "netc/dsl/Elaborator.h"
#include "netc/dsl/Spec.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace netc::dsl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  Diagnostic diag;
  auto module = parseSpec("fuzz.nn", text, diag);
  if (!module) {
    (void)diag.render();
    return 0;
  }
  ElaborateOptions options;
  // Smaller bounds than the defaults keep each input fast; the bounds
  // themselves are what is being exercised.
  options.limits.maxSteps = 200'000;
  options.limits.maxLayers = 5'000;
  options.limits.maxSequenceLength = 10'000;

  std::vector<std::string> entries;
  if (text.rfind("#! ", 0) == 0) {
    entries.push_back(text.substr(3, text.find('\n') - 3));
  } else {
    for (const EntryInfo &e : listEntries(*module))
      entries.push_back(e.name);
  }
  if (entries.size() > 8)
    entries.resize(8);
  for (const std::string &entry : entries) {
    auto graph = elaborate(*module, entry, options, diag);
    if (!graph)
      (void)diag.render();
    else
      (void)graph->weights().size();
    options.inputShape = {2, 3, 37, 41}; // second pass: bound spatial sizes
    graph = elaborate(*module, entry, options, diag);
    options.inputShape.clear();
  }
  return 0;
}
