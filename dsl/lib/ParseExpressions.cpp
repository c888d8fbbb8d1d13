//===- ParseExpressions.cpp - Expressions, by precedence climbing ---------===//
#include "ParserImpl.h"

namespace netc::dsl {

ExprPtr Parser::parseExpr() {
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

int Parser::precedence(Tok kind, BinOp &op) {
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

ExprPtr Parser::parseBinary(int minLevel) {
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

ExprPtr Parser::parseUnary() {
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

ExprPtr Parser::parsePostfix(ExprPtr base) {
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

ExprPtr Parser::parsePrimary() {
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

} // namespace netc::dsl
