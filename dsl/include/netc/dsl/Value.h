//===- Value.h - Values of the spec language --------------------*- C++ -*-===//
#ifndef NETC_DSL_VALUE_H
#define NETC_DSL_VALUE_H

#include "netc/dsl/AST.h"
#include "netc/dsl/Graph.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace netc::dsl {

struct Value;
using ValueList = std::vector<Value>;
using ValueMap = std::vector<std::pair<Value, Value>>; // insertion order

/// Something a statement or expression can call.
struct Callable {
  enum class Kind { Builtin, Block, Net, Function };
  Kind kind = Kind::Builtin;
  std::string name;
  const Decl *decl = nullptr; // Block / Net (an inline block is a Block)
  /// Arguments bound by an alias (`alias resnet50 = resnet(50)`).
  std::vector<std::pair<std::string, Value>> boundArgs;
  SourceLoc aliasLoc;
};

/// A value is immutable once built; copies share list and map storage.
struct Value {
  enum class Kind { Int, Float, Bool, String, List, Tuple, Map, Callable, Tensor };
  Kind kind = Kind::Int;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;
  std::shared_ptr<const ValueList> items;         // List, Tuple
  std::shared_ptr<const ValueMap> map;            // Map
  std::shared_ptr<const Callable> callable;       // Callable
  std::shared_ptr<const Shape> shape;             // Tensor (the `in` value)

  static Value ofInt(int64_t v) { Value r; r.kind = Kind::Int; r.i = v; return r; }
  static Value ofFloat(double v) { Value r; r.kind = Kind::Float; r.f = v; return r; }
  static Value ofBool(bool v) { Value r; r.kind = Kind::Bool; r.b = v; return r; }
  static Value ofString(std::string v) {
    Value r; r.kind = Kind::String; r.s = std::move(v); return r;
  }
  static Value ofList(ValueList v, Kind kind = Kind::List) {
    Value r; r.kind = kind; r.items = std::make_shared<const ValueList>(std::move(v));
    return r;
  }
  static Value ofTuple(ValueList v) { return ofList(std::move(v), Kind::Tuple); }
  static Value ofMap(ValueMap v) {
    Value r; r.kind = Kind::Map; r.map = std::make_shared<const ValueMap>(std::move(v));
    return r;
  }
  static Value ofCallable(Callable c) {
    Value r; r.kind = Kind::Callable;
    r.callable = std::make_shared<const Callable>(std::move(c));
    return r;
  }
  static Value ofTensor(Shape s) {
    Value r; r.kind = Kind::Tensor; r.shape = std::make_shared<const Shape>(std::move(s));
    return r;
  }

  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  double number() const { return kind == Kind::Int ? static_cast<double>(i) : f; }
  bool isSequence() const { return kind == Kind::List || kind == Kind::Tuple; }
};

/// "int", "list", "block", ... for messages.
std::string typeName(const Value &v);
/// How a value is written in the language: 3, 1e-05, 'M', [1, 2], (a, b).
std::string render(const Value &v);
/// Structural equality; an int equals a float of the same value; values of
/// unrelated kinds are unequal (so `v == 'M'` is simply false for an int v).
bool equals(const Value &a, const Value &b);
/// Shortest decimal spelling that reads back as the same double.
std::string formatDouble(double v);

} // namespace netc::dsl

#endif // NETC_DSL_VALUE_H
