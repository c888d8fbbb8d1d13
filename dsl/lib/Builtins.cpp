//===- Builtins.cpp - Functions callable in expressions -------------------===//
//
// len, min, max, abs, int, float, str and range: positional arguments only.
//
//===----------------------------------------------------------------------===//
#include "ElaboratorImpl.h"

#include <cmath>

namespace netc::dsl {

const std::vector<std::string> &builtinFunctionNames() {
  static const std::vector<std::string> names = {"len", "min", "max", "abs",
                                                 "int", "float", "str", "range"};
  return names;
}

bool isBuiltinFunction(const std::string &name) {
  for (const std::string &fn : builtinFunctionNames())
    if (fn == name)
      return true;
  return false;
}

Value callFunction(Elaborator &el, const std::string &name, SourceLoc loc,
                   const std::vector<ArgValue> &args) {
  for (const ArgValue &a : args)
    if (!a.name.empty())
      el.fail(a.loc, "'" + name + "' takes no keyword arguments");
  auto arity = [&](size_t lo, size_t hi) {
    if (args.size() < lo || args.size() > hi)
      el.fail(loc, "'" + name + "' takes " +
                       (lo == hi ? std::to_string(lo)
                                 : std::to_string(lo) + " to " + std::to_string(hi)) +
                       " argument" + (hi == 1 ? "" : "s") + ", got " +
                       std::to_string(args.size()));
  };
  auto needInt = [&](const ArgValue &a) {
    if (a.value.kind != Value::Kind::Int)
      el.fail(a.loc, "'" + name + "' needs an int, got " + typeName(a.value) + " " +
                         render(a.value));
    return a.value.i;
  };
  if (name == "len") {
    arity(1, 1);
    const Value &v = args[0].value;
    if (v.isSequence())
      return Value::ofInt(static_cast<int64_t>(v.items->size()));
    if (v.kind == Value::Kind::Map)
      return Value::ofInt(static_cast<int64_t>(v.map->size()));
    if (v.kind == Value::Kind::String)
      return Value::ofInt(static_cast<int64_t>(v.s.size()));
    el.fail(args[0].loc, "'len' needs a list, tuple, map or string, got " + typeName(v));
  }
  if (name == "min" || name == "max") {
    if (args.empty())
      el.fail(loc, "'" + name + "' needs at least one argument");
    ValueList items;
    if (args.size() == 1 && args[0].value.isSequence())
      items = *args[0].value.items;
    else
      for (const ArgValue &a : args)
        items.push_back(a.value);
    if (items.empty())
      el.fail(args[0].loc, "'" + name + "' of an empty sequence");
    Value best = items[0];
    for (const Value &v : items) {
      if (!v.isNumber())
        el.fail(loc, "'" + name + "' needs numbers, got " + typeName(v) + " " + render(v));
      bool better = name == "min" ? v.number() < best.number() : v.number() > best.number();
      if (better)
        best = v;
    }
    return best;
  }
  if (name == "abs") {
    arity(1, 1);
    const Value &v = args[0].value;
    if (v.kind == Value::Kind::Int) {
      if (v.i == INT64_MIN)
        el.fail(args[0].loc, "integer overflow in 'abs'");
      return Value::ofInt(v.i < 0 ? -v.i : v.i);
    }
    if (v.kind == Value::Kind::Float)
      return Value::ofFloat(std::fabs(v.f));
    el.fail(args[0].loc, "'abs' needs a number, got " + typeName(v));
  }
  if (name == "int") {
    arity(1, 1);
    const Value &v = args[0].value;
    if (v.kind == Value::Kind::Int)
      return v;
    if (v.kind == Value::Kind::Float) {
      if (!(std::fabs(v.f) < 9.2e18))
        el.fail(args[0].loc, "'int' of " + render(v) + " does not fit in 64 bits");
      return Value::ofInt(static_cast<int64_t>(v.f)); // truncates, as Python's int()
    }
    el.fail(args[0].loc, "'int' needs a number, got " + typeName(v));
  }
  if (name == "float") {
    arity(1, 1);
    const Value &v = args[0].value;
    if (!v.isNumber())
      el.fail(args[0].loc, "'float' needs a number, got " + typeName(v));
    return Value::ofFloat(v.number());
  }
  if (name == "str") {
    arity(1, 1);
    const Value &v = args[0].value;
    return Value::ofString(v.kind == Value::Kind::String ? v.s : render(v));
  }
  // range(stop) / range(start, stop) / range(start, stop, step)
  arity(1, 3);
  int64_t start = 0, stop, stride = 1;
  if (args.size() == 1) {
    stop = needInt(args[0]);
  } else {
    start = needInt(args[0]);
    stop = needInt(args[1]);
    if (args.size() == 3)
      stride = needInt(args[2]);
  }
  if (stride == 0)
    el.fail(args[2].loc, "'range' step must not be zero");
  __int128 count = 0;
  if (stride > 0 && stop > start)
    count = ((__int128)stop - start + stride - 1) / stride;
  if (stride < 0 && stop < start)
    count = ((__int128)start - stop - stride - 1) / -(__int128)stride;
  el.checkSequenceLength(count > INT64_MAX ? SIZE_MAX : static_cast<size_t>(count), loc);
  ValueList items;
  for (int64_t k = 0; k < static_cast<int64_t>(count); ++k)
    items.push_back(Value::ofInt(start + k * stride));
  return Value::ofList(std::move(items));
}


} // namespace netc::dsl
