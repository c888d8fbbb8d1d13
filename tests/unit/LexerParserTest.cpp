//===- LexerParserTest.cpp - Tokens and syntax ----------------------------===//
#include "TestUtil.h"

#include "netc/dsl/Lexer.h"
#include "netc/dsl/Parser.h"

namespace netc::dsl::test {
namespace {

std::vector<Token> tokens(const std::string &text) {
  static std::vector<std::unique_ptr<SourceFile>> keep; // tokens point into them
  keep.push_back(std::make_unique<SourceFile>("t.nn", text));
  return lex(*keep.back());
}

std::string lexError(const std::string &text) {
  SourceFile file("t.nn", text);
  try {
    lex(file);
  } catch (const DiagnosticError &e) {
    return e.diag.location() + ": " + e.diag.message;
  }
  return "no error";
}

std::string parseError(const std::string &text) {
  Diagnostic diag;
  auto module = parseSpec("t.nn", text, diag);
  return module ? "no error" : diag.location() + ": " + diag.message;
}

TEST(Lexer, RangeIsNotAFloat) {
  auto t = tokens("0..4 1.5 2e3 7");
  ASSERT_EQ(t.size(), 7u);
  EXPECT_EQ(t[0].kind, Tok::Int);
  EXPECT_EQ(t[1].kind, Tok::DotDot);
  EXPECT_EQ(t[2].kind, Tok::Int);
  EXPECT_EQ(t[3].kind, Tok::Float);
  EXPECT_DOUBLE_EQ(t[3].floatValue, 1.5);
  EXPECT_EQ(t[4].kind, Tok::Float);
  EXPECT_DOUBLE_EQ(t[4].floatValue, 2000.0);
  EXPECT_EQ(t[5].kind, Tok::Int);
  EXPECT_EQ(t[5].intValue, 7);
}

TEST(Lexer, KeywordsOperatorsAndLocations) {
  auto t = tokens("block B(x) {\n  y << 2 >= 3 && !z\n}");
  EXPECT_EQ(t[0].kind, Tok::KwBlock);
  EXPECT_EQ(t[1].kind, Tok::Ident);
  EXPECT_EQ(t[1].text, "B");
  // `y` starts line 2, column 3.
  auto y = std::find_if(t.begin(), t.end(), [](const Token &k) { return k.text == "y"; });
  ASSERT_NE(y, t.end());
  EXPECT_EQ(y->loc.line, 2u);
  EXPECT_EQ(y->loc.col, 3u);
  EXPECT_EQ((y + 1)->kind, Tok::Shl);
  EXPECT_EQ((y + 3)->kind, Tok::Ge);
  EXPECT_EQ((y + 5)->kind, Tok::AndAnd);
  EXPECT_EQ((y + 6)->kind, Tok::Bang);
}

TEST(Lexer, StringsAndComments) {
  auto t = tokens("'a\\'b' \"M\" # comment 'x\n5");
  EXPECT_EQ(t[0].kind, Tok::String);
  EXPECT_EQ(t[0].text, "a'b");
  EXPECT_EQ(t[1].text, "M");
  EXPECT_EQ(t[2].kind, Tok::Newline);
  EXPECT_EQ(t[3].intValue, 5);
}

TEST(Lexer, AdjacencyMarksComputedLabels) {
  auto t = tokens("layer{s} seq {");
  EXPECT_FALSE(t[1].spaceBefore); // layer{
  EXPECT_TRUE(t[5].spaceBefore);  // seq {
}

TEST(Lexer, Errors) {
  EXPECT_EQ(lexError("let a = 'abc"), "t.nn:1:9: unterminated string");
  EXPECT_EQ(lexError("let a = 3 $ 4"), "t.nn:1:11: unexpected character '$'");
  EXPECT_EQ(lexError("let a = 99999999999999999999"),
            "t.nn:1:9: integer 99999999999999999999 does not fit in 64 bits");
  EXPECT_EQ(lexError("let a = 12abc"), "t.nn:1:11: unexpected character 'a' after number");
  EXPECT_EQ(lexError("let a = '\\q'"), "t.nn:1:10: unknown escape sequence in string");
  EXPECT_EQ(lexError("let a = 1 | 2"), "t.nn:1:11: unexpected character '|'");
}

TEST(Parser, AcceptsTheSketchSyntax) {
  EXPECT_EQ(parseError(R"(
inline Shortcut(cout, stride) {
  if stride != 1 || in.c != cout { downsample: seq { conv(cout, 1, stride=stride, bias=false); bn() } }
}
let depths = {18: (1, [2, 2,
                       2, 2])}
net r(depth, classes=1000)
     (x: f32[N,3,H,W]) {
  for s in 0..4 { layer{s+1}: seq { relu() } }
  if depth > 3 { relu() }
  else if depth > 2 { relu() } else { sigmoid() }
  add { { relu() } Shortcut(3, 1) }
  cat(axis=1) { relu(); relu() }
}
alias r18 = r(18)
)"),
            "no error");
}

TEST(Parser, Errors) {
  EXPECT_EQ(parseError("net n(x: f32[N,3,H,W]) {\n  conv(3, 3\n}"),
            "t.nn:3:1: expected ')' to close the argument list, found '}'");
  EXPECT_EQ(parseError("blok B() {}"),
            "t.nn:1:1: unexpected 'blok' at top level; expected 'block', 'inline', 'net', "
            "'let' or 'alias'");
  EXPECT_EQ(parseError("block B() {\n  relu() sigmoid()\n}"),
            "t.nn:2:10: unexpected 'sigmoid' after statement; separate statements with "
            "a newline or ';'");
  EXPECT_EQ(parseError("block B() {\n  relu\n}"),
            "t.nn:2:7: expected '(' after 'relu' (a layer is called, as in relu()), "
            "found end of line");
  EXPECT_EQ(parseError("block B(a, a) {}"), "t.nn:1:12: duplicate parameter 'a'");
  EXPECT_EQ(parseError("let x = 1 < 2 < 3"),
            "t.nn:1:15: comparison and range operators do not chain; add parentheses");
  EXPECT_EQ(parseError("block B() {\n  relu()"),
            "t.nn:1:11: unterminated block body: this '{' is never closed");
  EXPECT_EQ(parseError("block B() { else { } }"), "t.nn:1:13: 'else' without a matching 'if'");
}

TEST(Parser, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "let x = " + std::string(100000, '(') + "1" + std::string(100000, ')');
  EXPECT_EQ(parseError(deep), "t.nn:1:" + std::to_string(9 + kMaxNesting / 2) +
                                  ": nesting is too deep (more than 200 levels)");
  std::string blocks = "block B() {" + std::string(5000, '{') + std::string(5000, '}') + "}";
  EXPECT_NE(parseError(blocks).find("nesting is too deep"), std::string::npos);
}

} // namespace
} // namespace netc::dsl::test
