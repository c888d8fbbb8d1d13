//===- Diagnostics.h - Source buffers, locations and errors ------*- C++ -*-===//
//
// Every error netc reports about a spec points at the user's text: a file,
// a 1-based line and column, the source line and a caret, then the
// instantiation trace that led there ("in Bottleneck(planes=64) as 'layer1.0'").
//
//===----------------------------------------------------------------------===//
#ifndef NETC_DSL_DIAGNOSTICS_H
#define NETC_DSL_DIAGNOSTICS_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace netc::dsl {

/// One source buffer (a spec file, or the text of an `--entry` argument).
class SourceFile {
public:
  SourceFile(std::string name, std::string text);

  const std::string &name() const { return name_; }
  std::string_view text() const { return text_; }
  /// The text of 1-based line `line`, without its newline.
  std::string_view line(uint32_t line) const;

private:
  std::string name_;
  std::string text_;
  std::vector<uint32_t> lineStarts_;
};

/// A position in a SourceFile. A default-constructed location is "unknown".
struct SourceLoc {
  const SourceFile *file = nullptr;
  uint32_t line = 0;
  uint32_t col = 0;

  bool valid() const { return file != nullptr; }
  /// "file:line:col", or "<unknown>".
  std::string str() const;
};

/// A note printed under an error, e.g. one frame of the instantiation trace.
struct Note {
  SourceLoc loc;
  std::string message;
};

/// A located error with its trace, self-contained: it copies what it shows
/// from the source, so it outlives the buffers it points into.
/// The DSL reports the first error it finds.
struct Diagnostic {
  std::string file;       // empty when the location is unknown
  uint32_t line = 0;      // 0: the error is about the whole file
  uint32_t col = 0;
  std::string sourceLine; // the text of `line`
  std::string message;
  std::vector<std::string> notes; // "file:line:col: note: ..." lines

  /// "file:line:col", or "file" for a whole-file error, or "netc".
  std::string location() const;

  /// The full text: "file:line:col: error: msg", the line, a caret, the notes.
  std::string render() const;
};

/// Internal exception used to unwind the parser and elaborator on the first
/// error. It never leaves the netc_dsl library: public entry points catch it
/// and hand back a Diagnostic.
struct DiagnosticError {
  Diagnostic diag;
};

[[noreturn]] void throwError(SourceLoc loc, std::string message,
                             std::vector<Note> notes = {});

/// Levenshtein distance, for did-you-mean suggestions.
size_t editDistance(std::string_view a, std::string_view b);

/// The candidate closest to `name`, or "" when none is close enough to suggest.
std::string closestMatch(std::string_view name,
                         const std::vector<std::string> &candidates);

/// "; did you mean 'x'?" or "".
std::string didYouMean(std::string_view name,
                       const std::vector<std::string> &candidates);

} // namespace netc::dsl

#endif // NETC_DSL_DIAGNOSTICS_H
