//===- Diagnostics.cpp ----------------------------------------------------===//
#include "netc/dsl/Diagnostics.h"

#include "netc/Support/EditDistance.h"

#include <algorithm>

namespace netc::dsl {

SourceFile::SourceFile(std::string name, std::string text)
    : name_(std::move(name)), text_(std::move(text)) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n')
      lineStarts_.push_back(static_cast<uint32_t>(i + 1));
}

std::string_view SourceFile::line(uint32_t line) const {
  if (line == 0 || line > lineStarts_.size())
    return {};
  size_t begin = lineStarts_[line - 1];
  size_t end = text_.find('\n', begin);
  if (end == std::string::npos)
    end = text_.size();
  std::string_view result(text_.data() + begin, end - begin);
  if (!result.empty() && result.back() == '\r')
    result.remove_suffix(1);
  return result;
}

std::string SourceLoc::str() const {
  if (!file)
    return "<unknown>";
  return file->name() + ":" + std::to_string(line) + ":" + std::to_string(col);
}

std::string Diagnostic::location() const {
  if (file.empty())
    return "netc";
  if (line == 0)
    return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

std::string Diagnostic::render() const {
  std::string out = location() + ": error: " + message + "\n";
  if (line != 0) {
    out += sourceLine + "\n";
    // Keep tabs so the caret lines up under the same glyph.
    for (uint32_t i = 1; i < col && i - 1 < sourceLine.size(); ++i)
      out += sourceLine[i - 1] == '\t' ? '\t' : ' ';
    out += "^\n";
  }
  for (const std::string &note : notes)
    out += note + "\n";
  return out;
}

void throwError(SourceLoc loc, std::string message, std::vector<Note> notes) {
  Diagnostic diag;
  if (loc.valid()) {
    diag.file = loc.file->name();
    diag.line = loc.line;
    diag.col = loc.col;
    diag.sourceLine = std::string(loc.file->line(loc.line));
  }
  diag.message = std::move(message);
  for (const Note &note : notes)
    diag.notes.push_back(note.loc.str() + ": note: " + note.message);
  throw DiagnosticError{std::move(diag)};
}

size_t editDistance(std::string_view a, std::string_view b) { return netc::editDistance(a, b); }

std::string closestMatch(std::string_view name,
                         const std::vector<std::string> &candidates) {
  // Allow roughly one edit per three characters, at least one.
  size_t limit = std::max<size_t>(1, name.size() / 3);
  std::string best;
  size_t bestDistance = limit + 1;
  for (const std::string &candidate : candidates) {
    size_t d = editDistance(name, candidate);
    if (d < bestDistance || (d == bestDistance && candidate < best)) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= limit ? best : std::string();
}

std::string didYouMean(std::string_view name,
                       const std::vector<std::string> &candidates) {
  std::string best = closestMatch(name, candidates);
  return best.empty() ? std::string() : "; did you mean '" + best + "'?";
}

} // namespace netc::dsl
