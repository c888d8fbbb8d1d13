//===- EvalTest.cpp - Expressions of the spec language --------------------===//
#include "TestUtil.h"

namespace netc::dsl::test {
namespace {

TEST(Eval, IntegerDivisionAndModuloFloor) {
  EXPECT_EQ(eval("7 / 2"), "3");
  EXPECT_EQ(eval("-7 / 2"), "-4");
  EXPECT_EQ(eval("7 / -2"), "-4");
  EXPECT_EQ(eval("-7 % 2"), "1");
  EXPECT_EQ(eval("7 % -2"), "-1");
  EXPECT_EQ(eval("64 * 4 / 64 * 32"), "128"); // ResNeXt width: left to right
  EXPECT_EQ(eval("7.0 / 2"), "3.5");
}

TEST(Eval, ArithmeticPrecedenceShiftsAndComparisons) {
  EXPECT_EQ(eval("1 + 2 * 3 - 4"), "3");
  EXPECT_EQ(eval("64 << 3"), "512");
  EXPECT_EQ(eval("1 << 2 + 1"), "8"); // shifts bind looser than +
  EXPECT_EQ(eval("-(3 - 5)"), "2");
  EXPECT_EQ(eval("2 > 1 && !(1 == 2) || false"), "true");
  EXPECT_EQ(eval("1 == 1.0"), "true");
  EXPECT_EQ(eval("3 == 'M'"), "false"); // unrelated kinds are simply unequal
  EXPECT_EQ(eval("'a' < 'b'"), "true");
}

TEST(Eval, Errors) {
  EXPECT_EQ(eval("1 / 0"), "error: division by zero");
  EXPECT_EQ(eval("1 % 0"), "error: modulo by zero");
  EXPECT_EQ(eval("9223372036854775807 + 1"),
            "error: integer overflow in 9223372036854775807 + 1");
  EXPECT_EQ(eval("1 << 63"), "error: shift count 63 is out of range (0 to 62)");
  EXPECT_EQ(eval("3 << 62"), "error: integer overflow in 3 << 62");
  EXPECT_EQ(eval("1 + 'a'"), "error: operator '+' cannot combine int 1 and string 'a'");
  EXPECT_EQ(eval("1 && true"), "error: '&&' needs bools, got int 1");
  EXPECT_EQ(eval("1 ? 2 : 3"), "error: the condition of '? :' must be a bool, got int 1");
  EXPECT_EQ(eval("[1, 2][2]"), "error: index 2 is out of range for a list of length 2");
  EXPECT_EQ(eval("{1: 2}[3]"), "error: key 3 is not in the map (keys: 1)");
  EXPECT_EQ(eval("lenn([1])"), "error: unknown name 'lenn'; did you mean 'len'?");
  EXPECT_EQ(eval("0..1000000"), "error: sequence of 1000000 elements exceeds the limit of 100000");
  EXPECT_EQ(eval("in.c"), "error: 'in' is only available inside a block or net body");
  EXPECT_EQ(eval("conv(3)"),
            "error: layer 'conv' is a layer: call it as a statement, not inside an expression");
}

TEST(Eval, ShortCircuitSkipsTheRightSide) {
  EXPECT_EQ(eval("false && 1 / 0 == 1"), "false");
  EXPECT_EQ(eval("true || 1 / 0 == 1"), "true");
  EXPECT_EQ(eval("true ? 1 : 1 / 0"), "1");
}

TEST(Eval, CollectionsRangesAndBuiltins) {
  EXPECT_EQ(eval("0..4"), "[0, 1, 2, 3]");
  EXPECT_EQ(eval("4..0"), "[]");
  EXPECT_EQ(eval("range(1, 10, 4)"), "[1, 5, 9]");
  EXPECT_EQ(eval("range(3, 0, -1)"), "[3, 2, 1]");
  EXPECT_EQ(eval("[1, 2] + [3]"), "[1, 2, 3]");
  EXPECT_EQ(eval("(1,)"), "(1,)");
  EXPECT_EQ(eval("(1, 'M', 2.5)[1]"), "'M'");
  EXPECT_EQ(eval("[10, 20, 30][-1]"), "30");
  EXPECT_EQ(eval("{'a': 1, 'b': (2, 3)}['b']"), "(2, 3)");
  EXPECT_EQ(eval("len({1: 2, 3: 4}) + len('abc')"), "5");
  EXPECT_EQ(eval("min(3, 1, 2) + max([4, 9])"), "10");
  EXPECT_EQ(eval("int(2.9) + int(-2.9)"), "0");
  EXPECT_EQ(eval("float(3)"), "3.0");
  EXPECT_EQ(eval("str(12) + 'x'"), "'12x'");
  EXPECT_EQ(eval("0.229 / 0.5"), "0.458");
  EXPECT_EQ(eval("1e-3"), "0.001");
  EXPECT_EQ(eval("{1: 2, 1: 3}"), "error: duplicate map key 1");
}

TEST(Eval, GlobalsLetsAndPatterns) {
  EXPECT_EQ(evalIn("let (a, (b, c)) = (1, (2, 3))", "a + b * c"), "7");
  EXPECT_EQ(evalIn("let d = {18: ('B', [2, 2])}\nlet (k, n) = d[18]", "n[1] + len(k)"), "3");
  EXPECT_EQ(evalIn("let (a, b) = (1, 2, 3)", "a"),
            "error: cannot unpack 3 values into 2 names");
  EXPECT_EQ(evalIn("let a = 1\nlet a = 2", "a"), "error: 'a' is already defined in this scope");
  EXPECT_EQ(evalIn("block B() { relu() }", "B"), "B");
}

} // namespace
} // namespace netc::dsl::test
