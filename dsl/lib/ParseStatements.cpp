//===- ParseStatements.cpp - Declarations, blocks and statements ----------===//
#include "ParserImpl.h"

namespace netc::dsl {

std::unique_ptr<Decl> Parser::parseDecl() {
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

std::vector<Param> Parser::parseParams() {
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

std::vector<InputDecl> Parser::parseInputs() {
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

Pattern Parser::parsePattern() {
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

Body Parser::parseBody(const char *what) {
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

namespace {

bool isKeyword(Tok kind) { return kind >= Tok::KwBlock && kind <= Tok::KwSide; }

} // namespace

bool Parser::keywordLabelAhead() {
  if (!isKeyword(peek().kind))
    return false;
  for (size_t k = 1;; ++k) {
    const Token &t = peek(k);
    if (t.kind == Tok::Colon)
      return true;
    if (t.spaceBefore)
      return false;
    if (t.kind == Tok::Ident || t.kind == Tok::Int || isKeyword(t.kind))
      continue;
    if (t.kind == Tok::Minus && peek(k - 1).kind == Tok::RBrace)
      continue; // block{s}-{i}: a dash after a computed part
    if (t.kind != Tok::LBrace)
      return false;
    // A computed part, {expr}: skip to its closing brace.
    for (int depth = 1; depth > 0;) {
      const Token &u = peek(++k);
      if (u.kind == Tok::Eof || u.kind == Tok::Newline)
        return false;
      depth += u.kind == Tok::LBrace ? 1 : u.kind == Tok::RBrace ? -1 : 0;
    }
  }
}

StmtPtr Parser::parseStmt() {
  const Token &t = peek();
  SourceLoc loc = t.loc;
  // A keyword followed by ':' is a label: torchvision names modules
  // `block` (MobileNetV3, EfficientNet), and any word may be a label.
  if (keywordLabelAhead()) {
    Label label = parseLabel();
    return parseLayer(std::move(label));
  }
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

StmtPtr Parser::parseIf() {
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

Label Parser::parseLabel() {
  Label label;
  const Token &first = peek();
  if (first.kind != Tok::Ident && !keywordLabelAhead())
    return label;
  const Token &next = peek(1);
  bool plain = next.kind == Tok::Colon;
  bool computed = next.kind == Tok::LBrace && !next.spaceBefore;
  if (!plain && !computed && first.kind == Tok::Ident)
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
    } else if (t.kind == Tok::Ident || t.kind == Tok::Int || isKeyword(t.kind)) {
      label.pieces.push_back(LabelPiece{take().text, nullptr});
    } else if (t.kind == Tok::Minus && label.pieces.back().expr) {
      // A dash after a computed part: RegNet's module names, block1-0.
      take();
      label.pieces.push_back(LabelPiece{"-", nullptr});
    } else {
      unexpected("in label", "':'");
    }
  }
  take(); // ':'
  return label;
}

StmtPtr Parser::parseLayer(Label label) {
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
  case Tok::KwAdd:
  case Tok::KwMul: {
    bool isAdd = t.kind == Tok::KwAdd;
    take();
    auto s = make(isAdd ? Stmt::Kind::Add : Stmt::Kind::Mul);
    s->body = parseBody(isAdd ? "add body" : "mul body");
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

std::vector<Arg> Parser::parseArgs() {
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

} // namespace netc::dsl
