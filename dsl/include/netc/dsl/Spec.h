//===- Spec.h - Loading spec files and the model zoo ------------*- C++ -*-===//
#ifndef NETC_DSL_SPEC_H
#define NETC_DSL_SPEC_H

#include "netc/dsl/AST.h"
#include "netc/dsl/Elaborator.h"

#include <memory>
#include <string>
#include <vector>

namespace netc::dsl {

/// Parses `text` as the spec file `name`. Never throws; on failure returns
/// null and fills `diag`.
std::unique_ptr<Module> parseSpec(const std::string &name, std::string text,
                                  Diagnostic &diag);

/// Reads and parses a spec file. A file that cannot be read is reported as
/// "NAME: error: cannot read ...".
std::unique_ptr<Module> loadSpec(const std::string &path, Diagnostic &diag);

/// The zoo: every `*.nn` file of a directory, in file-name order.
class Zoo {
public:
  /// Loads the directory; the first unreadable or malformed file fails it.
  bool load(const std::string &directory, Diagnostic &diag);

  struct Entry {
    EntryInfo info;
    const Module *module;
  };
  std::vector<Entry> entries() const;
  /// The module defining net or alias `name`; null (with `diag`) when no file
  /// or several files define it.
  const Module *find(const std::string &name, Diagnostic &diag) const;

private:
  std::string directory_;
  std::vector<std::unique_ptr<Module>> modules_;
};

} // namespace netc::dsl

#endif // NETC_DSL_SPEC_H
