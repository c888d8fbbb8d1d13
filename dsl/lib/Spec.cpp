//===- Spec.cpp - Loading spec files and the model zoo --------------------===//
#include "netc/dsl/Spec.h"

#include "netc/dsl/Parser.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace netc::dsl {

namespace {
Diagnostic fileError(const std::string &path, const std::string &message) {
  Diagnostic diag;
  diag.file = path;
  diag.message = message;
  return diag;
}
} // namespace

std::unique_ptr<Module> parseSpec(const std::string &name, std::string text,
                                  Diagnostic &diag) {
  try {
    return parseModule(std::make_unique<SourceFile>(name, std::move(text)));
  } catch (const DiagnosticError &error) {
    diag = error.diag;
    return nullptr;
  }
}

std::unique_ptr<Module> loadSpec(const std::string &path, Diagnostic &diag) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    diag = fileError(path, "is a directory, not a spec file");
    return nullptr;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diag = fileError(path, std::string("cannot read spec file: ") + std::strerror(errno));
    return nullptr;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    diag = fileError(path, "error while reading the spec file");
    return nullptr;
  }
  return parseSpec(path, text.str(), diag);
}

bool Zoo::load(const std::string &directory, Diagnostic &diag) {
  directory_ = directory;
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto &item : std::filesystem::directory_iterator(directory, ec))
    if (item.path().extension() == ".nn")
      files.push_back(item.path().string());
  if (ec) {
    diag = fileError(directory, "cannot read the model zoo directory: " + ec.message());
    return false;
  }
  std::sort(files.begin(), files.end());
  for (const std::string &file : files) {
    auto module = loadSpec(file, diag);
    if (!module)
      return false;
    modules_.push_back(std::move(module));
  }
  return true;
}

std::vector<Zoo::Entry> Zoo::entries() const {
  std::vector<Entry> out;
  for (const auto &module : modules_)
    for (EntryInfo &info : listEntries(*module))
      out.push_back(Entry{std::move(info), module.get()});
  return out;
}

const Module *Zoo::find(const std::string &name, Diagnostic &diag) const {
  std::vector<const Entry *> matches;
  std::vector<Entry> all = entries();
  std::vector<std::string> names;
  for (const Entry &e : all) {
    names.push_back(e.info.name);
    if (e.info.name == name)
      matches.push_back(&e);
  }
  if (matches.size() == 1)
    return matches[0]->module;
  if (matches.empty()) {
    diag = fileError("", "no net or alias named '" + name + "' in the model zoo (" +
                                 directory_ + ")" + didYouMean(name, names) +
                                 "; 'netc --list' shows them");
    return nullptr;
  }
  std::string files;
  for (const Entry *e : matches)
    files += (files.empty() ? "" : ", ") + e->info.loc.str();
  diag = fileError("", "'" + name + "' is defined more than once in the zoo: " + files);
  return nullptr;
}

} // namespace netc::dsl
