//===- ElaboratorImpl.h - Internals shared by the elaborator's files -*- C++ -*-===//
//
// Eval.cpp evaluates expressions and binds arguments, Layers.cpp creates
// primitive layers with their shape rules and weights, Elaborator.cpp walks
// statements, blocks and the entry net.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_DSL_ELABORATORIMPL_H
#define NETC_DSL_ELABORATORIMPL_H

#include "netc/dsl/Elaborator.h"
#include "netc/dsl/Value.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace netc::dsl {

/// A lexical scope. Block bodies see their parameters and the module's
/// globals, never their caller's variables.
struct Scope {
  const Scope *parent = nullptr;
  std::vector<std::pair<std::string, Value>> vars;

  const Value *lookup(const std::string &name) const;
  /// Binds `name`; an existing binding in this very scope is an error.
  void define(const std::string &name, Value value, SourceLoc loc);
  /// Every visible name, for did-you-mean.
  void collectNames(std::vector<std::string> &out) const;
};

/// One evaluated call argument.
struct ArgValue {
  std::string name; // empty when positional
  SourceLoc loc;
  Value value;
};

/// Arguments matched to parameters by position and name.
struct BoundArgs {
  std::string callee;
  std::vector<std::string> names;
  std::vector<std::optional<Value>> values; // nullopt: not given, no default
  std::vector<SourceLoc> locs;              // where each was given (or the call)

  const std::optional<Value> &get(const std::string &name) const;
  SourceLoc locOf(const std::string &name) const;
};

/// Parameter list of a callee: names and defaults. `required` parameters have
/// no default; optional ones without a default stay nullopt.
struct ParamSpec {
  std::string name;
  bool required = false;
  std::optional<Value> defaultValue;
};

/// Follows the labels of one body for `side(from='label')`.
struct LabelTable {
  const LabelTable *parent = nullptr;
  std::map<std::string, int> tensors;
  const int *find(const std::string &label) const;
};

/// Numbering of a `seq`'s children, shared with flattened for/if/{} inside it.
struct SeqCounter {
  int64_t next = 0;
};

/// Where a statement is elaborated.
struct Context {
  Scope *scope = nullptr;
  std::string path;            // module path of the enclosing scope
  SeqCounter *seq = nullptr;   // set when statements here are seq children
  LabelTable *labels = nullptr;
  bool auxiliary = false;      // inside `side`
};

/// One frame of the instantiation trace.
struct Frame {
  SourceLoc loc;
  std::string text; // "in Bottleneck(planes=64) as 'layer1.0'"
};

class Elaborator {
public:
  Elaborator(const Module &module, const ElaborateOptions &options);

  Graph run(const std::string &entryText);
  /// Evaluates one expression in the global scope; the result as written.
  std::string evaluate(const std::string &exprText);
  /// Builds the module's global scope only (used to list entries).
  void loadGlobals();

  //===--- Errors ---------------------------------------------------------===//
  [[noreturn]] void fail(SourceLoc loc, const std::string &message) const;
  /// Counts one unit of work against Limits::maxSteps.
  void step(SourceLoc loc, int64_t units = 1);

  //===--- Eval.cpp -------------------------------------------------------===//
  Value eval(const Expr &e, const Scope &scope, int current);
  std::vector<ArgValue> evalArgs(const std::vector<Arg> &args, const Scope &scope,
                                 int current);
  BoundArgs bind(const std::string &callee, SourceLoc callLoc,
                 const std::vector<ParamSpec> &params,
                 const std::vector<ArgValue> &args);
  /// Typed accessors with messages that name the callee and parameter.
  int64_t argInt(const BoundArgs &a, const std::string &name);
  bool argBool(const BoundArgs &a, const std::string &name);
  double argFloat(const BoundArgs &a, const std::string &name);
  /// An int, or a pair of ints (height, width).
  void argPair(const BoundArgs &a, const std::string &name, int64_t out[2]);
  std::vector<double> argFloats(const BoundArgs &a, const std::string &name);
  void checkSequenceLength(size_t length, SourceLoc loc);

  //===--- Layers.cpp -----------------------------------------------------===//
  static bool isBuiltinLayer(const std::string &name);
  static std::vector<std::string> builtinLayerNames();
  static const std::vector<ParamSpec> &builtinParams(const std::string &name);
  /// Creates a primitive layer at `path` (empty: unnamed) on tensor `input`.
  int buildLayer(const std::string &op, const BoundArgs &args, SourceLoc loc,
                 const std::string &path, const std::string &scopePath,
                 int input, bool auxiliary);
  int addLayer(Layer layer);
  int joinBranches(OpKind kind, const std::vector<int> &branches, int64_t axis,
                   SourceLoc loc, const std::string &path, bool auxiliary);
  const Shape &shapeOf(int tensor) const { return graph_.layers[tensor].shape; }

  //===--- Elaborator.cpp -------------------------------------------------===//
  int elabBody(const Body &body, Context &ctx, int current);
  int elabStmt(const Stmt &stmt, Context &ctx, int current);
  /// A call statement whose own module path is `path` (`named`: the call has
  /// a component of its own, from its label or its seq position).
  int elabCall(const Stmt &stmt, Context &ctx, int current, const std::string &path,
               bool named);
  int elabBranches(const Stmt &stmt, Context &ctx, int current,
                   std::vector<int> &outputs);
  std::string labelText(const Label &label, const Scope &scope, int current);
  void bindPattern(const Pattern &pattern, const Value &value, Scope &scope);
  Value lookupName(const std::string &name, SourceLoc loc, const Scope &scope);
  std::vector<ParamSpec> declParams(const Decl &decl);

  const Module &module_;
  const ElaborateOptions &options_;
  Scope globals_;
  Graph graph_;
  std::vector<Frame> trace_;
  std::map<std::string, SourceLoc> keys_; // weight key -> where it was defined
  int64_t steps_ = 0;
  /// Block parameter defaults are evaluated with the parameters bound so far
  /// visible, so this scope is rebuilt per call.
  std::vector<std::unique_ptr<Scope>> scopes_;
};

/// Functions callable in expressions (Builtins.cpp).
const std::vector<std::string> &builtinFunctionNames();
bool isBuiltinFunction(const std::string &name);
Value callFunction(Elaborator &el, const std::string &name, SourceLoc loc,
                   const std::vector<ArgValue> &args);

/// Renders "name(a=1, b='x')" for traces.
std::string renderCall(const std::string &name, const BoundArgs &args);

} // namespace netc::dsl

#endif // NETC_DSL_ELABORATORIMPL_H
