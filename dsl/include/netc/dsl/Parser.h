//===- Parser.h - Recursive-descent parser for spec files -------*- C++ -*-===//
#ifndef NETC_DSL_PARSER_H
#define NETC_DSL_PARSER_H

#include "netc/dsl/AST.h"

namespace netc::dsl {

/// Parses a whole spec file. Throws DiagnosticError on the first syntax error.
/// The returned module takes ownership of `source`.
std::unique_ptr<Module> parseModule(std::unique_ptr<SourceFile> source);

/// Parses one expression spanning the whole of `source` (an `--entry` text).
ExprPtr parseStandaloneExpr(const SourceFile &source);

/// Deepest nesting of brackets, blocks and operators the parser accepts;
/// deeper input gets an error instead of exhausting the stack.
constexpr int kMaxNesting = 200;

} // namespace netc::dsl

#endif // NETC_DSL_PARSER_H
