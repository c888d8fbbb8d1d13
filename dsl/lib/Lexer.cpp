//===- Lexer.cpp ----------------------------------------------------------===//
#include "netc/dsl/Lexer.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

namespace netc::dsl {

std::string describe(Tok kind) {
  switch (kind) {
  case Tok::Eof: return "end of file";
  case Tok::Newline: return "end of line";
  case Tok::Ident: return "identifier";
  case Tok::Int: return "integer";
  case Tok::Float: return "number";
  case Tok::String: return "string";
  case Tok::KwBlock: return "'block'";
  case Tok::KwInline: return "'inline'";
  case Tok::KwNet: return "'net'";
  case Tok::KwLet: return "'let'";
  case Tok::KwAlias: return "'alias'";
  case Tok::KwFor: return "'for'";
  case Tok::KwIn: return "'in'";
  case Tok::KwIf: return "'if'";
  case Tok::KwElse: return "'else'";
  case Tok::KwAssert: return "'assert'";
  case Tok::KwTrue: return "'true'";
  case Tok::KwFalse: return "'false'";
  case Tok::KwSeq: return "'seq'";
  case Tok::KwCat: return "'cat'";
  case Tok::KwAdd: return "'add'";
  case Tok::KwMul: return "'mul'";
  case Tok::KwSide: return "'side'";
  case Tok::LParen: return "'('";
  case Tok::RParen: return "')'";
  case Tok::LBracket: return "'['";
  case Tok::RBracket: return "']'";
  case Tok::LBrace: return "'{'";
  case Tok::RBrace: return "'}'";
  case Tok::Comma: return "','";
  case Tok::Colon: return "':'";
  case Tok::Semicolon: return "';'";
  case Tok::Dot: return "'.'";
  case Tok::DotDot: return "'..'";
  case Tok::Question: return "'?'";
  case Tok::Assign: return "'='";
  case Tok::Plus: return "'+'";
  case Tok::Minus: return "'-'";
  case Tok::Star: return "'*'";
  case Tok::Slash: return "'/'";
  case Tok::Percent: return "'%'";
  case Tok::Shl: return "'<<'";
  case Tok::Shr: return "'>>'";
  case Tok::Eq: return "'=='";
  case Tok::Ne: return "'!='";
  case Tok::Lt: return "'<'";
  case Tok::Le: return "'<='";
  case Tok::Gt: return "'>'";
  case Tok::Ge: return "'>='";
  case Tok::AndAnd: return "'&&'";
  case Tok::OrOr: return "'||'";
  case Tok::Bang: return "'!'";
  }
  return "token";
}

namespace {

const std::unordered_map<std::string, Tok> &keywords() {
  static const std::unordered_map<std::string, Tok> table = {
      {"block", Tok::KwBlock}, {"inline", Tok::KwInline}, {"net", Tok::KwNet},
      {"let", Tok::KwLet},     {"alias", Tok::KwAlias},   {"for", Tok::KwFor},
      {"in", Tok::KwIn},       {"if", Tok::KwIf},         {"else", Tok::KwElse},
      {"assert", Tok::KwAssert}, {"true", Tok::KwTrue},   {"false", Tok::KwFalse},
      {"seq", Tok::KwSeq},     {"cat", Tok::KwCat},       {"add", Tok::KwAdd},
      {"mul", Tok::KwMul},     {"side", Tok::KwSide},
  };
  return table;
}

bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
public:
  explicit Lexer(const SourceFile &file) : file_(file), text_(file.text()) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    bool space = true;
    while (true) {
      space |= skipSpaceAndComments(tokens);
      Token token;
      token.loc = here();
      token.spaceBefore = space;
      space = false;
      if (pos_ >= text_.size()) {
        token.kind = Tok::Eof;
        tokens.push_back(token);
        return tokens;
      }
      lexOne(token);
      tokens.push_back(std::move(token));
    }
  }

private:
  SourceLoc here() const { return SourceLoc{&file_, line_, col_}; }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  /// Skips blanks and comments; emits one Newline token per run of line breaks.
  bool skipSpaceAndComments(std::vector<Token> &tokens) {
    bool skipped = false;
    while (pos_ < text_.size()) {
      char c = peek();
      if (c == '\n') {
        if (!tokens.empty() && tokens.back().kind != Tok::Newline) {
          Token nl;
          nl.kind = Tok::Newline;
          nl.loc = here();
          tokens.push_back(nl);
        }
        advance();
      } else if (c == ' ' || c == '\t' || c == '\r') {
        advance();
      } else if (c == '#') {
        while (pos_ < text_.size() && peek() != '\n')
          advance();
      } else {
        break;
      }
      skipped = true;
    }
    return skipped;
  }

  void lexOne(Token &token) {
    char c = peek();
    if (isIdentStart(c)) {
      size_t begin = pos_;
      while (isIdentStart(peek()) || isDigit(peek()))
        advance();
      token.text = std::string(text_.substr(begin, pos_ - begin));
      auto it = keywords().find(token.text);
      token.kind = it == keywords().end() ? Tok::Ident : it->second;
      return;
    }
    if (isDigit(c))
      return lexNumber(token);
    if (c == '\'' || c == '"')
      return lexString(token);

    auto one = [&](Tok kind) { token.kind = kind; advance(); };
    auto two = [&](Tok kind) { token.kind = kind; advance(); advance(); };
    char n = peek(1);
    switch (c) {
    case '(': return one(Tok::LParen);
    case ')': return one(Tok::RParen);
    case '[': return one(Tok::LBracket);
    case ']': return one(Tok::RBracket);
    case '{': return one(Tok::LBrace);
    case '}': return one(Tok::RBrace);
    case ',': return one(Tok::Comma);
    case ':': return one(Tok::Colon);
    case ';': return one(Tok::Semicolon);
    case '?': return one(Tok::Question);
    case '+': return one(Tok::Plus);
    case '-': return one(Tok::Minus);
    case '*': return one(Tok::Star);
    case '/': return one(Tok::Slash);
    case '%': return one(Tok::Percent);
    case '.': return n == '.' ? two(Tok::DotDot) : one(Tok::Dot);
    case '=': return n == '=' ? two(Tok::Eq) : one(Tok::Assign);
    case '!': return n == '=' ? two(Tok::Ne) : one(Tok::Bang);
    case '<':
      return n == '<' ? two(Tok::Shl) : n == '=' ? two(Tok::Le) : one(Tok::Lt);
    case '>':
      return n == '>' ? two(Tok::Shr) : n == '=' ? two(Tok::Ge) : one(Tok::Gt);
    case '&':
      if (n == '&')
        return two(Tok::AndAnd);
      break;
    case '|':
      if (n == '|')
        return two(Tok::OrOr);
      break;
    default:
      break;
    }
    std::string shown;
    if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f)
      shown = std::string("'") + c + "'";
    else {
      static const char hex[] = "0123456789abcdef";
      unsigned char u = static_cast<unsigned char>(c);
      shown = std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
    }
    throwError(token.loc, "unexpected character " + shown);
  }

  void lexNumber(Token &token) {
    size_t begin = pos_;
    while (isDigit(peek()))
      advance();
    bool isFloat = false;
    // "0..4" is a range: a '.' starts a fraction only when a digit follows.
    if (peek() == '.' && isDigit(peek(1))) {
      isFloat = true;
      advance();
      while (isDigit(peek()))
        advance();
    }
    if (peek() == 'e' || peek() == 'E') {
      size_t save = pos_;
      uint32_t saveCol = col_;
      advance();
      if (peek() == '+' || peek() == '-')
        advance();
      if (!isDigit(peek())) {
        pos_ = save;
        col_ = saveCol;
      } else {
        isFloat = true;
        while (isDigit(peek()))
          advance();
      }
    }
    if (isIdentStart(peek()))
      throwError(here(), std::string("unexpected character '") + peek() +
                             "' after number");
    token.text = std::string(text_.substr(begin, pos_ - begin));
    if (isFloat) {
      token.kind = Tok::Float;
      errno = 0;
      token.floatValue = std::strtod(token.text.c_str(), nullptr);
      if (errno == ERANGE && std::isinf(token.floatValue))
        throwError(token.loc, "number " + token.text + " is out of range");
      return;
    }
    token.kind = Tok::Int;
    int64_t value = 0;
    for (char d : token.text) {
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, d - '0', &value))
        throwError(token.loc, "integer " + token.text +
                                  " does not fit in 64 bits");
    }
    token.intValue = value;
  }

  void lexString(Token &token) {
    char quote = peek();
    advance();
    std::string value;
    while (true) {
      if (pos_ >= text_.size() || peek() == '\n')
        throwError(token.loc, "unterminated string");
      char c = peek();
      if (c == quote) {
        advance();
        break;
      }
      if (c == '\\') {
        SourceLoc escapeLoc = here();
        advance();
        char e = peek();
        switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        default:
          throwError(escapeLoc, "unknown escape sequence in string");
        }
        advance();
        continue;
      }
      value += c;
      advance();
    }
    token.kind = Tok::String;
    token.text = std::move(value);
  }

  const SourceFile &file_;
  std::string_view text_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  uint32_t col_ = 1;
};

} // namespace

std::vector<Token> lex(const SourceFile &file) { return Lexer(file).run(); }

} // namespace netc::dsl
