//===- ParserImpl.h - The recursive-descent parser's class ------*- C++ -*-===//
//
// Newlines end statements, except inside ( ), [ ] and map braces, where they
// are ignored. Statements on one line are separated by ';'. A statement that
// ends in '}' needs no separator. Token access lives here; declarations and
// statements in ParseStatements.cpp, expressions in ParseExpressions.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_DSL_LIB_PARSERIMPL_H
#define NETC_DSL_LIB_PARSERIMPL_H

#include "netc/dsl/Lexer.h"
#include "netc/dsl/Parser.h"

#include <memory>
#include <string>
#include <vector>

namespace netc::dsl {

class Parser {
public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  void parseModule(Module &module) {
    skipNewlines();
    while (peek().kind != Tok::Eof) {
      module.decls.push_back(parseDecl());
      endStatement("declaration");
    }
  }

  ExprPtr parseWholeExpr() {
    skipNewlines();
    ExprPtr e = parseExpr();
    skipNewlines();
    if (peek().kind != Tok::Eof)
      unexpected("after the expression");
    return e;
  }

private:
  //===--- Token access ---------------------------------------------------===//

  /// The next token; newlines are invisible inside brackets.
  const Token &peek(size_t ahead = 0) {
    size_t i = index_;
    while (true) {
      if (bracketDepth_ > 0)
        while (tokens_[i].kind == Tok::Newline)
          ++i;
      if (ahead == 0 || tokens_[i].kind == Tok::Eof)
        return tokens_[i];
      --ahead;
      ++i;
    }
  }
  Token take() {
    const Token &t = peek();
    size_t at = static_cast<size_t>(&t - tokens_.data());
    index_ = t.kind == Tok::Eof ? at : at + 1;
    lastWasBrace_ = t.kind == Tok::RBrace;
    return t;
  }
  bool accept(Tok kind) {
    if (peek().kind != kind)
      return false;
    take();
    return true;
  }
  Token expect(Tok kind, const char *context) {
    if (peek().kind != kind)
      unexpected(std::string(context), describe(kind));
    return take();
  }
  void skipNewlines() {
    while (tokens_[index_].kind == Tok::Newline)
      ++index_;
  }

  [[noreturn]] void unexpected(const std::string &context,
                               const std::string &wanted = "") {
    const Token &t = peek();
    std::string got = describe(t.kind);
    if (t.kind == Tok::Ident)
      got = "'" + t.text + "'";
    std::string message = wanted.empty() ? "unexpected " + got + " " + context
                                         : "expected " + wanted + " " +
                                               context + ", found " + got;
    throwError(t.loc, message);
  }

  /// RAII guard for recursion depth and bracket (newline-insensitive) depth.
  struct Nest {
    Parser &p;
    int brackets;
    Nest(Parser &p, SourceLoc loc, int brackets = 0) : p(p), brackets(brackets) {
      if (++p.nesting_ > kMaxNesting)
        throwError(loc, "nesting is too deep (more than " +
                            std::to_string(kMaxNesting) + " levels)");
      p.bracketDepth_ += brackets;
    }
    ~Nest() {
      --p.nesting_;
      p.bracketDepth_ -= brackets;
    }
  };

  /// Body braces re-enable newline separators even inside brackets.
  struct StatementMode {
    Parser &p;
    int saved;
    explicit StatementMode(Parser &p) : p(p), saved(p.bracketDepth_) {
      p.bracketDepth_ = 0;
    }
    ~StatementMode() { p.bracketDepth_ = saved; }
  };

  void endStatement(const char *what) {
    Tok k = peek().kind;
    if (k == Tok::Newline || k == Tok::Semicolon) {
      take();
      while (peek().kind == Tok::Newline || peek().kind == Tok::Semicolon)
        take();
      return;
    }
    if (k == Tok::Eof || k == Tok::RBrace || lastWasBrace_)
      return;
    unexpected(std::string("after ") + what +
               "; separate statements with a newline or ';'");
  }

  //===--- Declarations ---------------------------------------------------===//

  std::unique_ptr<Decl> parseDecl();
  /// After '(': `name [= default], ...)`.
  std::vector<Param> parseParams();
  /// After '(': `x: f32[N,3,H,W], ...)`.
  std::vector<InputDecl> parseInputs();
  Pattern parsePattern();

  //===--- Statements -----------------------------------------------------===//

  Body parseBody(const char *what);
  StmtPtr parseStmt();
  StmtPtr parseIf();
  /// `name:` or a computed label such as `layer{s+1}:`; pieces are adjacent.
  Label parseLabel();
  /// Whether a keyword here opens a label (`block:`, `seq{i}:`).
  bool keywordLabelAhead();
  StmtPtr parseLayer(Label label);
  /// After '(': `expr, name=expr, ...)`.
  std::vector<Arg> parseArgs();

  //===--- Expressions ----------------------------------------------------===//

  ExprPtr parseExpr();
  /// Binary operators by precedence level, loosest first.
  static int precedence(Tok kind, BinOp &op);
  ExprPtr parseBinary(int minLevel);
  ExprPtr parseUnary();
  ExprPtr parsePostfix(ExprPtr base);
  ExprPtr parsePrimary();

  std::vector<Token> tokens_;
  size_t index_ = 0;
  int bracketDepth_ = 0;
  int nesting_ = 0;
  bool lastWasBrace_ = false;
  std::vector<SourceLoc> openBodies_; // '{' of each body being parsed
};

} // namespace netc::dsl

#endif // NETC_DSL_LIB_PARSERIMPL_H
