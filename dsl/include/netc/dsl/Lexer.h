//===- Lexer.h - Tokens of the netc network language ------------*- C++ -*-===//
#ifndef NETC_DSL_LEXER_H
#define NETC_DSL_LEXER_H

#include "netc/dsl/Diagnostics.h"

#include <string>
#include <vector>

namespace netc::dsl {

enum class Tok {
  Eof,
  Newline, // statement separator; collapsed, and skipped inside ( ) [ ] and maps
  Ident,
  Int,
  Float,
  String,
  // Keywords.
  KwBlock, KwInline, KwNet, KwLet, KwAlias, KwFor, KwIn, KwIf, KwElse,
  KwAssert, KwTrue, KwFalse, KwSeq, KwCat, KwAdd, KwMul, KwSide,
  // Punctuation and operators.
  LParen, RParen, LBracket, RBracket, LBrace, RBrace,
  Comma, Colon, Semicolon, Dot, DotDot, Question, Assign,
  Plus, Minus, Star, Slash, Percent, Shl, Shr,
  Eq, Ne, Lt, Le, Gt, Ge, AndAnd, OrOr, Bang,
};

/// How a token is spelled in messages: "'('", "identifier", "end of file".
std::string describe(Tok kind);

struct Token {
  Tok kind = Tok::Eof;
  SourceLoc loc;
  std::string text;   // identifier name, string contents, or number spelling
  int64_t intValue = 0;
  double floatValue = 0;
  bool spaceBefore = false; // whitespace or line start precedes the token
};

/// Splits a whole SourceFile into tokens. Throws DiagnosticError on the first
/// malformed token (unterminated string, stray character, huge literal).
std::vector<Token> lex(const SourceFile &file);

} // namespace netc::dsl

#endif // NETC_DSL_LEXER_H
