//===- AST.h - Syntax tree of the netc network language ---------*- C++ -*-===//
//
// A spec file is a list of declarations:
//   block NAME(params) { body }      a reusable layer group; opens a scope
//   inline NAME(params) { body }     a macro: its layers join the caller's scope
//   net NAME(params) (x: f32[N,3,H,W]) { body }
//   let PATTERN = expr
//   alias NAME = net(args)
// A body is a list of statements that a tensor flows through in order.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_DSL_AST_H
#define NETC_DSL_AST_H

#include "netc/dsl/Diagnostics.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace netc::dsl {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// A call argument: positional when `name` is empty.
struct Arg {
  std::string name;
  SourceLoc loc;
  ExprPtr value;
};

enum class BinOp {
  Add, Sub, Mul, Div, Mod, Shl, Shr, Eq, Ne, Lt, Le, Gt, Ge, And, Or, Range,
};
enum class UnOp { Neg, Not };

const char *spelling(BinOp op);

struct Expr {
  enum class Kind {
    Int, Float, Bool, String, Name, Input, List, Tuple, Map,
    Unary, Binary, Ternary, Index, Field, Call,
  };
  Kind kind;
  SourceLoc loc;

  int64_t intValue = 0;       // Int
  double floatValue = 0;      // Float
  bool boolValue = false;     // Bool
  std::string text;           // String contents, Name, Field name
  BinOp binOp = BinOp::Add;   // Binary
  UnOp unOp = UnOp::Neg;      // Unary
  /// Operands: List/Tuple elements; Map keys and values interleaved;
  /// Unary [x]; Binary [l, r]; Ternary [c, t, f]; Index [base, index];
  /// Field [base]; Call [callee].
  std::vector<ExprPtr> operands;
  std::vector<Arg> args;      // Call

  Expr(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

/// A `let` or `for` target: a name, `_`, or a tuple of patterns.
struct Pattern {
  SourceLoc loc;
  std::string name;                 // empty for a tuple pattern
  std::vector<Pattern> elements;    // tuple pattern
  bool isTuple = false;
};

/// A label: literal text pieces and `{expr}` pieces, e.g. `layer{s+1}`.
struct LabelPiece {
  std::string text;
  ExprPtr expr; // set for a computed piece
};
struct Label {
  SourceLoc loc;
  std::vector<LabelPiece> pieces;
  bool present() const { return !pieces.empty(); }
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind {
    Let,    // let pattern = value
    Assert, // assert cond, message
    For,    // for pattern in value { body }
    If,     // if cond { body } else { elseBody }
    Call,   // [label:] callee(args) -- a primitive op, block or inline block
    Seq,    // [label:] seq { body }
    Group,  // { body }
    Cat,    // [label:] cat(args) { branches }
    Add,    // [label:] add { branches }
    Mul,    // [label:] mul { branch; gate }
    Side,   // [label:] side(args) { body }
  };
  Kind kind;
  SourceLoc loc;
  Label label;
  Pattern pattern;               // Let, For
  ExprPtr value;                 // Let value, Assert/If condition, For range
  ExprPtr message;               // Assert
  std::string callee;            // Call
  SourceLoc calleeLoc;
  std::vector<Arg> args;         // Call, Cat, Side
  Body body;                     // For, If (then), Seq, Group, Cat, Add, Mul, Side
  Body elseBody;                 // If
  bool hasElse = false;

  Stmt(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

struct Param {
  std::string name;
  SourceLoc loc;
  ExprPtr defaultValue; // null when required
};

/// `x: f32[N,3,H,W]`: a dimension is an expression, or a bare name not bound
/// in the net's scope, which makes it symbolic.
struct InputDecl {
  std::string name;
  SourceLoc loc;
  std::string dtype;
  SourceLoc dtypeLoc;
  std::vector<ExprPtr> dims;
};

struct Decl {
  enum class Kind { Block, Inline, Net, Let, Alias };
  Kind kind;
  SourceLoc loc;
  std::string name;              // Block, Inline, Net, Alias
  std::vector<Param> params;     // Block, Inline, Net
  std::vector<InputDecl> inputs; // Net
  Body body;                     // Block, Inline, Net
  Pattern pattern;               // Let
  ExprPtr value;                 // Let value, Alias target call

  Decl(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
};

/// A parsed spec file. Owns its source so locations stay valid.
struct Module {
  std::unique_ptr<SourceFile> source;
  std::vector<std::unique_ptr<Decl>> decls;
};

} // namespace netc::dsl

#endif // NETC_DSL_AST_H
