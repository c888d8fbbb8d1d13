//===- Parser.cpp - Recursive-descent parser -------------------------------===//
//
// Newlines end statements, except inside ( ), [ ] and map braces, where they
// are ignored. Statements on one line are separated by ';'. A statement that
// ends in '}' needs no separator.
//
//===----------------------------------------------------------------------===//
#include "netc/dsl/Parser.h"

#include "netc/dsl/Lexer.h"

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

namespace {

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

  std::unique_ptr<Decl> parseDecl() {
    const Token &t = peek();
    switch (t.kind) {
    case Tok::KwBlock:
    case Tok::KwInline: {
      Decl::Kind kind = t.kind == Tok::KwBlock ? Decl::Kind::Block : Decl::Kind::Inline;
      auto decl = std::make_unique<Decl>(kind, take().loc);
      decl->name = expect(Tok::Ident, "for the block name").text;
      expect(Tok::LParen, "after the block name");
      decl->params = parseParams();
      decl->body = parseBody("block body");
      return decl;
    }
    case Tok::KwNet: {
      auto decl = std::make_unique<Decl>(Decl::Kind::Net, take().loc);
      decl->name = expect(Tok::Ident, "for the net name").text;
      expect(Tok::LParen, "after the net name");
      // `net f(params) (x: f32[...])` or, without parameters, `net f(x: f32[...])`.
      if (peek().kind == Tok::Ident && peek(1).kind == Tok::Colon) {
        decl->inputs = parseInputs();
      } else {
        decl->params = parseParams();
        skipNewlines(); // the input declaration may start the next line
        expect(Tok::LParen, "for the net's input declaration, as in (x: f32[N,3,H,W])");
        decl->inputs = parseInputs();
      }
      decl->body = parseBody("net body");
      return decl;
    }
    case Tok::KwLet: {
      auto decl = std::make_unique<Decl>(Decl::Kind::Let, take().loc);
      decl->pattern = parsePattern();
      expect(Tok::Assign, "after the let pattern");
      decl->value = parseExpr();
      return decl;
    }
    case Tok::KwAlias: {
      auto decl = std::make_unique<Decl>(Decl::Kind::Alias, take().loc);
      decl->name = expect(Tok::Ident, "for the alias name").text;
      expect(Tok::Assign, "after the alias name");
      decl->value = parseExpr();
      return decl;
    }
    default:
      unexpected("at top level; expected 'block', 'inline', 'net', 'let' or 'alias'");
    }
  }

  /// After '(': `name [= default], ...)`.
  std::vector<Param> parseParams() {
    Nest nest(*this, peek().loc, 1);
    std::vector<Param> params;
    while (peek().kind != Tok::RParen) {
      Param p;
      Token name = expect(Tok::Ident, "for a parameter name");
      p.name = name.text;
      p.loc = name.loc;
      if (accept(Tok::Assign))
        p.defaultValue = parseExpr();
      for (const Param &other : params)
        if (other.name == p.name)
          throwError(p.loc, "duplicate parameter '" + p.name + "'");
      params.push_back(std::move(p));
      if (!accept(Tok::Comma))
        break;
    }
    expect(Tok::RParen, "to close the parameter list");
    return params;
  }

  /// After '(': `x: f32[N,3,H,W], ...)`.
  std::vector<InputDecl> parseInputs() {
    Nest nest(*this, peek().loc, 1);
    std::vector<InputDecl> inputs;
    while (peek().kind != Tok::RParen) {
      InputDecl in;
      Token name = expect(Tok::Ident, "for an input name");
      in.name = name.text;
      in.loc = name.loc;
      expect(Tok::Colon, "after the input name");
      Token dtype = expect(Tok::Ident, "for the input's element type (f32)");
      in.dtype = dtype.text;
      in.dtypeLoc = dtype.loc;
      expect(Tok::LBracket, "after the input's element type");
      {
        Nest dims(*this, peek().loc, 1);
        while (peek().kind != Tok::RBracket) {
          in.dims.push_back(parseExpr());
          if (!accept(Tok::Comma))
            break;
        }
        expect(Tok::RBracket, "to close the input shape");
      }
      inputs.push_back(std::move(in));
      if (!accept(Tok::Comma))
        break;
    }
    expect(Tok::RParen, "to close the input declaration");
    return inputs;
  }

  Pattern parsePattern() {
    Pattern p;
    p.loc = peek().loc;
    if (accept(Tok::LParen)) {
      Nest nest(*this, p.loc, 1);
      p.isTuple = true;
      while (peek().kind != Tok::RParen) {
        p.elements.push_back(parsePattern());
        if (!accept(Tok::Comma))
          break;
      }
      expect(Tok::RParen, "to close the tuple pattern");
      return p;
    }
    p.name = expect(Tok::Ident, "for a name to bind").text;
    return p;
  }

  //===--- Statements -----------------------------------------------------===//

  Body parseBody(const char *what) {
    StatementMode mode(*this);
    Token open = expect(Tok::LBrace, (std::string("to open the ") + what).c_str());
    Nest nest(*this, open.loc);
    openBodies_.push_back(open.loc);
    Body body;
    skipNewlines();
    while (peek().kind != Tok::RBrace) {
      if (peek().kind == Tok::Eof)
        throwError(open.loc, std::string("unterminated ") + what +
                                 ": this '{' is never closed");
      body.push_back(parseStmt());
      endStatement("statement");
    }
    take();
    openBodies_.pop_back();
    return body;
  }

  StmtPtr parseStmt() {
    const Token &t = peek();
    SourceLoc loc = t.loc;
    switch (t.kind) {
    case Tok::KwLet: {
      take();
      auto s = std::make_unique<Stmt>(Stmt::Kind::Let, loc);
      s->pattern = parsePattern();
      expect(Tok::Assign, "after the let pattern");
      s->value = parseExpr();
      return s;
    }
    case Tok::KwAssert: {
      take();
      auto s = std::make_unique<Stmt>(Stmt::Kind::Assert, loc);
      s->value = parseExpr();
      if (accept(Tok::Comma))
        s->message = parseExpr();
      return s;
    }
    case Tok::KwFor: {
      take();
      auto s = std::make_unique<Stmt>(Stmt::Kind::For, loc);
      s->pattern = parsePattern();
      expect(Tok::KwIn, "after the loop variable");
      s->value = parseExpr();
      s->body = parseBody("loop body");
      return s;
    }
    case Tok::KwIf:
      return parseIf();
    case Tok::KwElse:
      throwError(loc, "'else' without a matching 'if'");
    case Tok::KwNet:
    case Tok::KwBlock:
    case Tok::KwInline:
    case Tok::KwAlias:
      throwError(loc, describe(t.kind) + " declarations belong at top level",
                 {Note{openBodies_.back(), "is a '}' missing? This body is still open"}});
    default:
      break;
    }
    Label label = parseLabel();
    return parseLayer(std::move(label));
  }

  StmtPtr parseIf() {
    Token kw = take();
    auto s = std::make_unique<Stmt>(Stmt::Kind::If, kw.loc);
    s->value = parseExpr();
    s->body = parseBody("'if' body");
    // `else` may start the next line.
    size_t save = index_;
    skipNewlines();
    if (peek().kind == Tok::KwElse) {
      take();
      s->hasElse = true;
      if (peek().kind == Tok::KwIf)
        s->elseBody.push_back(parseIf());
      else
        s->elseBody = parseBody("'else' body");
    } else {
      index_ = save;
      lastWasBrace_ = true;
    }
    return s;
  }

  /// `name:` or a computed label such as `layer{s+1}:`; pieces are adjacent.
  Label parseLabel() {
    Label label;
    const Token &first = peek();
    if (first.kind != Tok::Ident)
      return label;
    const Token &next = peek(1);
    bool plain = next.kind == Tok::Colon;
    bool computed = next.kind == Tok::LBrace && !next.spaceBefore;
    if (!plain && !computed)
      return label;
    label.loc = first.loc;
    label.pieces.push_back(LabelPiece{take().text, nullptr});
    while (peek().kind != Tok::Colon) {
      const Token &t = peek();
      if (t.spaceBefore)
        unexpected("in label; a computed label is written without spaces, as in layer{i}:");
      if (t.kind == Tok::LBrace) {
        Token open = take();
        Nest nest(*this, open.loc, 1);
        LabelPiece piece;
        piece.expr = parseExpr();
        expect(Tok::RBrace, "to close the computed label part");
        label.pieces.push_back(std::move(piece));
      } else if (t.kind == Tok::Ident || t.kind == Tok::Int) {
        label.pieces.push_back(LabelPiece{take().text, nullptr});
      } else {
        unexpected("in label", "':'");
      }
    }
    take(); // ':'
    return label;
  }

  StmtPtr parseLayer(Label label) {
    const Token &t = peek();
    SourceLoc loc = t.loc;
    auto make = [&](Stmt::Kind kind) {
      auto s = std::make_unique<Stmt>(kind, loc);
      s->label = std::move(label);
      return s;
    };
    switch (t.kind) {
    case Tok::KwSeq: {
      take();
      auto s = make(Stmt::Kind::Seq);
      s->body = parseBody("seq body");
      return s;
    }
    case Tok::KwAdd: {
      take();
      auto s = make(Stmt::Kind::Add);
      s->body = parseBody("add body");
      return s;
    }
    case Tok::KwCat:
    case Tok::KwSide: {
      bool isCat = t.kind == Tok::KwCat;
      take();
      auto s = make(isCat ? Stmt::Kind::Cat : Stmt::Kind::Side);
      if (accept(Tok::LParen))
        s->args = parseArgs();
      s->body = parseBody(isCat ? "cat body" : "side body");
      return s;
    }
    case Tok::LBrace: {
      auto s = make(Stmt::Kind::Group);
      s->body = parseBody("group");
      return s;
    }
    case Tok::Ident: {
      Token name = take();
      auto s = make(Stmt::Kind::Call);
      s->callee = name.text;
      s->calleeLoc = name.loc;
      expect(Tok::LParen, ("after '" + name.text + "' (a layer is called, as in " +
                           name.text + "())").c_str());
      s->args = parseArgs();
      return s;
    }
    default:
      if (label.present())
        unexpected("after the label", "a layer");
      unexpected("at the start of a statement");
    }
  }

  /// After '(': `expr, name=expr, ...)`.
  std::vector<Arg> parseArgs() {
    Nest nest(*this, peek().loc, 1);
    std::vector<Arg> args;
    while (peek().kind != Tok::RParen) {
      Arg arg;
      arg.loc = peek().loc;
      if (peek().kind == Tok::Ident && peek(1).kind == Tok::Assign) {
        arg.name = take().text;
        take();
      }
      arg.value = parseExpr();
      args.push_back(std::move(arg));
      if (!accept(Tok::Comma))
        break;
    }
    expect(Tok::RParen, "to close the argument list");
    return args;
  }

  //===--- Expressions ----------------------------------------------------===//

  ExprPtr parseExpr() {
    Nest nest(*this, peek().loc);
    ExprPtr cond = parseBinary(0);
    if (peek().kind != Tok::Question)
      return cond;
    Token q = take();
    auto e = std::make_unique<Expr>(Expr::Kind::Ternary, q.loc);
    e->operands.push_back(std::move(cond));
    e->operands.push_back(parseExpr());
    expect(Tok::Colon, "in the conditional expression");
    e->operands.push_back(parseExpr());
    return e;
  }

  /// Binary operators by precedence level, loosest first.
  static int precedence(Tok kind, BinOp &op) {
    switch (kind) {
    case Tok::OrOr: op = BinOp::Or; return 1;
    case Tok::AndAnd: op = BinOp::And; return 2;
    case Tok::Eq: op = BinOp::Eq; return 3;
    case Tok::Ne: op = BinOp::Ne; return 3;
    case Tok::Lt: op = BinOp::Lt; return 3;
    case Tok::Le: op = BinOp::Le; return 3;
    case Tok::Gt: op = BinOp::Gt; return 3;
    case Tok::Ge: op = BinOp::Ge; return 3;
    case Tok::DotDot: op = BinOp::Range; return 4;
    case Tok::Shl: op = BinOp::Shl; return 5;
    case Tok::Shr: op = BinOp::Shr; return 5;
    case Tok::Plus: op = BinOp::Add; return 6;
    case Tok::Minus: op = BinOp::Sub; return 6;
    case Tok::Star: op = BinOp::Mul; return 7;
    case Tok::Slash: op = BinOp::Div; return 7;
    case Tok::Percent: op = BinOp::Mod; return 7;
    default: return 0;
    }
  }

  ExprPtr parseBinary(int minLevel) {
    ExprPtr lhs = parseUnary();
    while (true) {
      BinOp op;
      int level = precedence(peek().kind, op);
      if (level == 0 || level <= minLevel)
        return lhs;
      Token opTok = take();
      Nest nest(*this, opTok.loc);
      ExprPtr rhs = parseBinary(level);
      // Comparisons and ranges do not chain: `a < b < c` is a mistake.
      if ((level == 3 || level == 4) && precedence(peek().kind, op) == level)
        throwError(peek().loc, "comparison and range operators do not chain; add parentheses");
      precedence(opTok.kind, op);
      auto e = std::make_unique<Expr>(Expr::Kind::Binary, opTok.loc);
      e->binOp = op;
      e->operands.push_back(std::move(lhs));
      e->operands.push_back(std::move(rhs));
      lhs = std::move(e);
    }
  }

  ExprPtr parseUnary() {
    const Token &t = peek();
    if (t.kind == Tok::Minus || t.kind == Tok::Bang) {
      Token op = take();
      Nest nest(*this, op.loc);
      auto e = std::make_unique<Expr>(Expr::Kind::Unary, op.loc);
      e->unOp = op.kind == Tok::Minus ? UnOp::Neg : UnOp::Not;
      e->operands.push_back(parseUnary());
      return e;
    }
    return parsePostfix(parsePrimary());
  }

  ExprPtr parsePostfix(ExprPtr base) {
    while (true) {
      const Token &t = peek();
      // A '(' or '[' on a new line starts a new statement, not a call.
      if (t.kind == Tok::LParen) {
        Token open = take();
        auto e = std::make_unique<Expr>(Expr::Kind::Call, open.loc);
        e->operands.push_back(std::move(base));
        e->args = parseArgs();
        base = std::move(e);
      } else if (t.kind == Tok::LBracket) {
        Token open = take();
        Nest nest(*this, open.loc, 1);
        auto e = std::make_unique<Expr>(Expr::Kind::Index, open.loc);
        e->operands.push_back(std::move(base));
        e->operands.push_back(parseExpr());
        expect(Tok::RBracket, "to close the index");
        base = std::move(e);
      } else if (t.kind == Tok::Dot) {
        Token dot = take();
        auto e = std::make_unique<Expr>(Expr::Kind::Field, dot.loc);
        e->text = expect(Tok::Ident, "after '.'").text;
        e->operands.push_back(std::move(base));
        base = std::move(e);
      } else {
        return base;
      }
    }
  }

  ExprPtr parsePrimary() {
    const Token &t = peek();
    SourceLoc loc = t.loc;
    switch (t.kind) {
    case Tok::Int: {
      auto e = std::make_unique<Expr>(Expr::Kind::Int, loc);
      e->intValue = take().intValue;
      return e;
    }
    case Tok::Float: {
      auto e = std::make_unique<Expr>(Expr::Kind::Float, loc);
      e->floatValue = take().floatValue;
      return e;
    }
    case Tok::KwTrue:
    case Tok::KwFalse: {
      auto e = std::make_unique<Expr>(Expr::Kind::Bool, loc);
      e->boolValue = take().kind == Tok::KwTrue;
      return e;
    }
    case Tok::String: {
      auto e = std::make_unique<Expr>(Expr::Kind::String, loc);
      e->text = take().text;
      return e;
    }
    case Tok::Ident: {
      auto e = std::make_unique<Expr>(Expr::Kind::Name, loc);
      e->text = take().text;
      return e;
    }
    case Tok::KwIn:
      take();
      return std::make_unique<Expr>(Expr::Kind::Input, loc);
    case Tok::LParen: {
      take();
      Nest nest(*this, loc, 1);
      if (accept(Tok::RParen))
        return std::make_unique<Expr>(Expr::Kind::Tuple, loc);
      ExprPtr first = parseExpr();
      if (accept(Tok::RParen))
        return first; // parenthesized expression
      auto e = std::make_unique<Expr>(Expr::Kind::Tuple, loc);
      e->operands.push_back(std::move(first));
      while (accept(Tok::Comma)) {
        if (peek().kind == Tok::RParen)
          break;
        e->operands.push_back(parseExpr());
      }
      expect(Tok::RParen, "to close the tuple");
      return e;
    }
    case Tok::LBracket: {
      take();
      Nest nest(*this, loc, 1);
      auto e = std::make_unique<Expr>(Expr::Kind::List, loc);
      while (peek().kind != Tok::RBracket) {
        e->operands.push_back(parseExpr());
        if (!accept(Tok::Comma))
          break;
      }
      expect(Tok::RBracket, "to close the list");
      return e;
    }
    case Tok::LBrace: {
      take();
      Nest nest(*this, loc, 1);
      auto e = std::make_unique<Expr>(Expr::Kind::Map, loc);
      while (peek().kind != Tok::RBrace) {
        e->operands.push_back(parseExpr());
        expect(Tok::Colon, "between a map key and its value");
        e->operands.push_back(parseExpr());
        if (!accept(Tok::Comma))
          break;
      }
      expect(Tok::RBrace, "to close the map");
      return e;
    }
    default:
      unexpected("in expression", "an expression");
    }
  }

  std::vector<Token> tokens_;
  size_t index_ = 0;
  int bracketDepth_ = 0;
  int nesting_ = 0;
  bool lastWasBrace_ = false;
  std::vector<SourceLoc> openBodies_; // '{' of each body being parsed
};

} // namespace

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
