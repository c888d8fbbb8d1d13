//===- Parser.cpp - The parser's entry points ------------------------------===//
//
// The parser itself is ParserImpl.h (tokens), ParseStatements.cpp and
// ParseExpressions.cpp.
//
//===----------------------------------------------------------------------===//
#include "ParserImpl.h"

namespace netc::dsl {

const char *spelling(BinOp op) {
  switch (op) {
  case BinOp::Add: return "+";
  case BinOp::Sub: return "-";
  case BinOp::Mul: return "*";
  case BinOp::Div: return "/";
  case BinOp::Mod: return "%";
  case BinOp::Shl: return "<<";
  case BinOp::Shr: return ">>";
  case BinOp::Eq: return "==";
  case BinOp::Ne: return "!=";
  case BinOp::Lt: return "<";
  case BinOp::Le: return "<=";
  case BinOp::Gt: return ">";
  case BinOp::Ge: return ">=";
  case BinOp::And: return "&&";
  case BinOp::Or: return "||";
  case BinOp::Range: return "..";
  }
  return "?";
}

std::unique_ptr<Module> parseModule(std::unique_ptr<SourceFile> source) {
  auto module = std::make_unique<Module>();
  module->source = std::move(source);
  Parser(lex(*module->source)).parseModule(*module);
  return module;
}

ExprPtr parseStandaloneExpr(const SourceFile &source) {
  return Parser(lex(source)).parseWholeExpr();
}

} // namespace netc::dsl
