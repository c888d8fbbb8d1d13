//===- Eval.cpp - Expressions, built-in functions, argument binding -------===//
//
// Integer arithmetic is exact: overflow is an error, and `/` and `%` floor
// (so -7 / 2 == -4), as channel arithmetic in specs expects.
//
//===----------------------------------------------------------------------===//
#include "ElaboratorImpl.h"

#include <algorithm>
#include <cmath>

namespace netc::dsl {

//===----------------------------------------------------------------------===//
// Scopes and bound arguments
//===----------------------------------------------------------------------===//

const Value *Scope::lookup(const std::string &name) const {
  for (const Scope *s = this; s; s = s->parent)
    for (const auto &[key, value] : s->vars)
      if (key == name)
        return &value;
  return nullptr;
}

void Scope::define(const std::string &name, Value value, SourceLoc loc) {
  if (name == "_")
    return;
  for (const auto &entry : vars)
    if (entry.first == name)
      throwError(loc, "'" + name + "' is already defined in this scope");
  vars.emplace_back(name, std::move(value));
}

void Scope::collectNames(std::vector<std::string> &out) const {
  for (const Scope *s = this; s; s = s->parent)
    for (const auto &entry : s->vars)
      out.push_back(entry.first);
}

const std::optional<Value> &BoundArgs::get(const std::string &name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name)
      return values[i];
  static const std::optional<Value> none;
  return none;
}

SourceLoc BoundArgs::locOf(const std::string &name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name)
      return locs[i];
  return {};
}

std::string renderCall(const std::string &name, const BoundArgs &args) {
  std::string out = name + "(";
  bool first = true;
  for (size_t i = 0; i < args.names.size(); ++i) {
    if (!args.values[i])
      continue;
    if (!first)
      out += ", ";
    first = false;
    out += args.names[i] + "=" + render(*args.values[i]);
  }
  return out + ")";
}

std::vector<ArgValue> Elaborator::evalArgs(const std::vector<Arg> &args,
                                           const Scope &scope, int current) {
  std::vector<ArgValue> out;
  for (const Arg &arg : args)
    out.push_back(ArgValue{arg.name, arg.loc, eval(*arg.value, scope, current)});
  return out;
}

BoundArgs Elaborator::bind(const std::string &callee, SourceLoc callLoc,
                           const std::vector<ParamSpec> &params,
                           const std::vector<ArgValue> &args) {
  BoundArgs bound;
  bound.callee = callee;
  for (const ParamSpec &p : params) {
    bound.names.push_back(p.name);
    bound.values.push_back(p.defaultValue);
    bound.locs.push_back(callLoc);
  }
  std::vector<bool> given(params.size(), false);
  size_t positional = 0;
  bool sawKeyword = false;
  for (const ArgValue &arg : args) {
    size_t index;
    if (arg.name.empty()) {
      if (sawKeyword)
        fail(arg.loc, "positional argument after a keyword argument in call to '" +
                          callee + "'");
      if (positional >= params.size())
        fail(arg.loc, "'" + callee + "' takes " + std::to_string(params.size()) +
                          " argument" + (params.size() == 1 ? "" : "s") + ", got " +
                          std::to_string(args.size()));
      index = positional++;
    } else {
      sawKeyword = true;
      auto it = std::find_if(params.begin(), params.end(),
                             [&](const ParamSpec &p) { return p.name == arg.name; });
      if (it == params.end()) {
        std::vector<std::string> names;
        for (const ParamSpec &p : params)
          names.push_back(p.name);
        fail(arg.loc, "'" + callee + "' has no parameter '" + arg.name + "'" +
                          didYouMean(arg.name, names));
      }
      index = static_cast<size_t>(it - params.begin());
      if (given[index])
        fail(arg.loc, "argument '" + arg.name + "' of '" + callee + "' is given twice");
    }
    given[index] = true;
    bound.values[index] = arg.value;
    bound.locs[index] = arg.loc;
  }
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].required && !given[i])
      fail(callLoc, "missing argument '" + params[i].name + "' in call to '" +
                        callee + "'");
  return bound;
}

//===----------------------------------------------------------------------===//
// Typed argument accessors
//===----------------------------------------------------------------------===//

namespace {
std::string argRef(const BoundArgs &a, const std::string &name) {
  return "argument '" + name + "' of '" + a.callee + "'";
}
} // namespace

int64_t Elaborator::argInt(const BoundArgs &a, const std::string &name) {
  const Value &v = *a.get(name);
  if (v.kind != Value::Kind::Int)
    fail(a.locOf(name), argRef(a, name) + " must be an int, got " + typeName(v) +
                            " " + render(v));
  return v.i;
}

bool Elaborator::argBool(const BoundArgs &a, const std::string &name) {
  const Value &v = *a.get(name);
  if (v.kind != Value::Kind::Bool)
    fail(a.locOf(name), argRef(a, name) + " must be true or false, got " +
                            typeName(v) + " " + render(v));
  return v.b;
}

double Elaborator::argFloat(const BoundArgs &a, const std::string &name) {
  const Value &v = *a.get(name);
  if (!v.isNumber())
    fail(a.locOf(name), argRef(a, name) + " must be a number, got " + typeName(v) +
                            " " + render(v));
  return v.number();
}

void Elaborator::argPair(const BoundArgs &a, const std::string &name, int64_t out[2]) {
  const Value &v = *a.get(name);
  if (v.kind == Value::Kind::Int) {
    out[0] = out[1] = v.i;
    return;
  }
  if (v.isSequence() && v.items->size() == 2 &&
      (*v.items)[0].kind == Value::Kind::Int && (*v.items)[1].kind == Value::Kind::Int) {
    out[0] = (*v.items)[0].i;
    out[1] = (*v.items)[1].i;
    return;
  }
  fail(a.locOf(name), argRef(a, name) + " must be an int or a pair of ints, got " +
                          typeName(v) + " " + render(v));
}

std::vector<double> Elaborator::argFloats(const BoundArgs &a, const std::string &name) {
  const Value &v = *a.get(name);
  std::vector<double> out;
  if (v.isSequence()) {
    for (const Value &item : *v.items) {
      if (!item.isNumber())
        fail(a.locOf(name), argRef(a, name) + " must be a list of numbers, but holds " +
                                typeName(item) + " " + render(item));
      out.push_back(item.number());
    }
    return out;
  }
  fail(a.locOf(name), argRef(a, name) + " must be a list of numbers, got " +
                          typeName(v) + " " + render(v));
}

void Elaborator::checkSequenceLength(size_t length, SourceLoc loc) {
  if (static_cast<int64_t>(length) > options_.limits.maxSequenceLength)
    fail(loc, "sequence of " + std::to_string(length) + " elements exceeds the limit of " +
                  std::to_string(options_.limits.maxSequenceLength));
  step(loc, static_cast<int64_t>(length));
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

namespace {

/// Floor division and modulo on int64, with the caller checking b != 0.
int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}
int64_t floorMod(int64_t a, int64_t b) { return a - floorDiv(a, b) * b; }

} // namespace

Value Elaborator::lookupName(const std::string &name, SourceLoc loc, const Scope &scope) {
  if (const Value *v = scope.lookup(name))
    return *v;
  if (isBuiltinLayer(name)) {
    Callable c;
    c.kind = Callable::Kind::Builtin;
    c.name = name;
    return Value::ofCallable(std::move(c));
  }
  if (isBuiltinFunction(name)) {
    Callable c;
    c.kind = Callable::Kind::Function;
    c.name = name;
    return Value::ofCallable(std::move(c));
  }
  std::vector<std::string> names;
  scope.collectNames(names);
  for (const std::string &layer : builtinLayerNames())
    names.push_back(layer);
  for (const std::string &fn : builtinFunctionNames())
    names.push_back(fn);
  fail(loc, "unknown name '" + name + "'" + didYouMean(name, names));
}

Value Elaborator::eval(const Expr &e, const Scope &scope, int current) {
  step(e.loc);
  switch (e.kind) {
  case Expr::Kind::Int: return Value::ofInt(e.intValue);
  case Expr::Kind::Float: return Value::ofFloat(e.floatValue);
  case Expr::Kind::Bool: return Value::ofBool(e.boolValue);
  case Expr::Kind::String: return Value::ofString(e.text);
  case Expr::Kind::Name: return lookupName(e.text, e.loc, scope);
  case Expr::Kind::Input:
    if (current < 0)
      fail(e.loc, "'in' is only available inside a block or net body");
    return Value::ofTensor(shapeOf(current));
  case Expr::Kind::List:
  case Expr::Kind::Tuple: {
    ValueList items;
    for (const ExprPtr &op : e.operands)
      items.push_back(eval(*op, scope, current));
    return Value::ofList(std::move(items), e.kind == Expr::Kind::List
                                               ? Value::Kind::List
                                               : Value::Kind::Tuple);
  }
  case Expr::Kind::Map: {
    ValueMap entries;
    for (size_t i = 0; i + 1 < e.operands.size(); i += 2) {
      Value key = eval(*e.operands[i], scope, current);
      if (key.kind != Value::Kind::Int && key.kind != Value::Kind::String &&
          key.kind != Value::Kind::Bool && key.kind != Value::Kind::Tuple)
        fail(e.operands[i]->loc, "a map key must be an int, string, bool or tuple, got " +
                                     typeName(key));
      for (const auto &entry : entries)
        if (equals(entry.first, key))
          fail(e.operands[i]->loc, "duplicate map key " + render(key));
      entries.emplace_back(std::move(key), eval(*e.operands[i + 1], scope, current));
    }
    return Value::ofMap(std::move(entries));
  }
  case Expr::Kind::Unary: {
    Value v = eval(*e.operands[0], scope, current);
    if (e.unOp == UnOp::Not) {
      if (v.kind != Value::Kind::Bool)
        fail(e.loc, "'!' needs a bool, got " + typeName(v) + " " + render(v));
      return Value::ofBool(!v.b);
    }
    if (v.kind == Value::Kind::Int) {
      if (v.i == INT64_MIN)
        fail(e.loc, "integer overflow in negation");
      return Value::ofInt(-v.i);
    }
    if (v.kind == Value::Kind::Float)
      return Value::ofFloat(-v.f);
    fail(e.loc, "'-' needs a number, got " + typeName(v) + " " + render(v));
  }
  case Expr::Kind::Binary:
    break; // below
  case Expr::Kind::Ternary: {
    Value c = eval(*e.operands[0], scope, current);
    if (c.kind != Value::Kind::Bool)
      fail(e.operands[0]->loc, "the condition of '? :' must be a bool, got " +
                                   typeName(c) + " " + render(c));
    return eval(*e.operands[c.b ? 1 : 2], scope, current);
  }
  case Expr::Kind::Index: {
    Value base = eval(*e.operands[0], scope, current);
    Value index = eval(*e.operands[1], scope, current);
    if (base.kind == Value::Kind::Map) {
      for (const auto &entry : *base.map)
        if (equals(entry.first, index))
          return entry.second;
      std::string keys;
      for (const auto &entry : *base.map)
        keys += (keys.empty() ? "" : ", ") + render(entry.first);
      fail(e.operands[1]->loc, "key " + render(index) + " is not in the map (keys: " +
                                   keys + ")");
    }
    if (!base.isSequence() && base.kind != Value::Kind::String)
      fail(e.loc, "cannot index a " + typeName(base));
    if (index.kind != Value::Kind::Int)
      fail(e.operands[1]->loc, "an index must be an int, got " + typeName(index) + " " +
                                   render(index));
    int64_t size = base.kind == Value::Kind::String
                       ? static_cast<int64_t>(base.s.size())
                       : static_cast<int64_t>(base.items->size());
    int64_t i = index.i < 0 && index.i >= -size ? index.i + size : index.i;
    if (i < 0 || i >= size)
      fail(e.operands[1]->loc, "index " + std::to_string(index.i) +
                                   " is out of range for a " + typeName(base) +
                                   " of length " + std::to_string(size));
    if (base.kind == Value::Kind::String)
      return Value::ofString(std::string(1, base.s[static_cast<size_t>(i)]));
    return (*base.items)[static_cast<size_t>(i)];
  }
  case Expr::Kind::Field: {
    Value base = eval(*e.operands[0], scope, current);
    if (base.kind != Value::Kind::Tensor)
      fail(e.loc, typeName(base) + " has no field '" + e.text + "'");
    const Shape &shape = *base.shape;
    if (e.text == "rank")
      return Value::ofInt(static_cast<int64_t>(shape.size()));
    if (e.text == "shape") {
      ValueList dims;
      for (const Dim &d : shape) {
        if (!d.known())
          fail(e.loc, "in.shape is not known: dimension '" + d.symbol + "' is symbolic");
        dims.push_back(Value::ofInt(d.value));
      }
      return Value::ofList(std::move(dims));
    }
    static const char *fields[] = {"n", "c", "h", "w"};
    for (size_t i = 0; i < 4; ++i) {
      if (e.text != fields[i])
        continue;
      if (i >= shape.size())
        fail(e.loc, "in." + e.text + " does not exist: the input is " +
                        formatShape(shape));
      if (!shape[i].known())
        fail(e.loc, "in." + e.text + " is symbolic ('" + shape[i].symbol +
                        "'); give the input size with --input-shape or fix it in the net's input");
      return Value::ofInt(shape[i].value);
    }
    fail(e.loc, "a tensor has no field '" + e.text + "'" +
                    didYouMean(e.text, {"n", "c", "h", "w", "rank", "shape"}));
  }
  case Expr::Kind::Call: {
    const Expr &calleeExpr = *e.operands[0];
    Value callee = eval(calleeExpr, scope, current);
    if (callee.kind != Value::Kind::Callable)
      fail(e.loc, "cannot call a " + typeName(callee));
    if (callee.callable->kind != Callable::Kind::Function)
      fail(calleeExpr.loc, typeName(callee) + " '" + callee.callable->name +
                               "' is a layer: call it as a statement, not inside an expression");
    return callFunction(*this, callee.callable->name, e.loc, evalArgs(e.args, scope, current));
  }
  }

  // Binary operators. && and || short-circuit.
  BinOp op = e.binOp;
  Value l = eval(*e.operands[0], scope, current);
  if (op == BinOp::And || op == BinOp::Or) {
    if (l.kind != Value::Kind::Bool)
      fail(e.operands[0]->loc, std::string("'") + spelling(op) + "' needs bools, got " +
                                   typeName(l) + " " + render(l));
    if (l.b == (op == BinOp::Or))
      return l;
    Value r = eval(*e.operands[1], scope, current);
    if (r.kind != Value::Kind::Bool)
      fail(e.operands[1]->loc, std::string("'") + spelling(op) + "' needs bools, got " +
                                   typeName(r) + " " + render(r));
    return r;
  }
  Value r = eval(*e.operands[1], scope, current);
  auto mismatch = [&]() -> Value {
    fail(e.loc, std::string("operator '") + spelling(op) + "' cannot combine " +
                    typeName(l) + " " + render(l) + " and " + typeName(r) + " " + render(r));
  };
  if (op == BinOp::Eq || op == BinOp::Ne)
    return Value::ofBool(equals(l, r) == (op == BinOp::Eq));

  bool ints = l.kind == Value::Kind::Int && r.kind == Value::Kind::Int;
  bool numbers = l.isNumber() && r.isNumber();
  switch (op) {
  case BinOp::Lt: case BinOp::Le: case BinOp::Gt: case BinOp::Ge: {
    int cmp;
    if (ints)
      cmp = l.i < r.i ? -1 : l.i > r.i ? 1 : 0;
    else if (numbers)
      cmp = l.number() < r.number() ? -1 : l.number() > r.number() ? 1 : 0;
    else if (l.kind == Value::Kind::String && r.kind == Value::Kind::String)
      cmp = l.s.compare(r.s) < 0 ? -1 : l.s.compare(r.s) > 0 ? 1 : 0;
    else
      return mismatch();
    bool result = op == BinOp::Lt ? cmp < 0 : op == BinOp::Le ? cmp <= 0
                  : op == BinOp::Gt ? cmp > 0 : cmp >= 0;
    return Value::ofBool(result);
  }
  case BinOp::Range: {
    if (!ints)
      return mismatch();
    int64_t count = r.i > l.i ? static_cast<int64_t>(
                                    std::min<__int128>((__int128)r.i - l.i, INT64_MAX))
                              : 0;
    checkSequenceLength(static_cast<size_t>(count), e.loc);
    ValueList items;
    for (int64_t k = 0; k < count; ++k)
      items.push_back(Value::ofInt(l.i + k));
    return Value::ofList(std::move(items));
  }
  case BinOp::Shl: case BinOp::Shr: {
    if (!ints)
      return mismatch();
    if (r.i < 0 || r.i > 62)
      fail(e.operands[1]->loc, "shift count " + std::to_string(r.i) +
                                   " is out of range (0 to 62)");
    if (op == BinOp::Shr)
      return Value::ofInt(l.i >> r.i);
    if (l.i > (INT64_MAX >> r.i) || l.i < (INT64_MIN >> r.i))
      fail(e.loc, "integer overflow in " + render(l) + " << " + render(r));
    return Value::ofInt(static_cast<int64_t>(static_cast<uint64_t>(l.i) << r.i));
  }
  case BinOp::Add:
    if (l.kind == Value::Kind::String && r.kind == Value::Kind::String) {
      checkSequenceLength(l.s.size() + r.s.size(), e.loc);
      return Value::ofString(l.s + r.s);
    }
    if (l.isSequence() && r.isSequence() && l.kind == r.kind) {
      checkSequenceLength(l.items->size() + r.items->size(), e.loc);
      ValueList items = *l.items;
      items.insert(items.end(), r.items->begin(), r.items->end());
      return Value::ofList(std::move(items), l.kind);
    }
    [[fallthrough]];
  case BinOp::Mul:
    // Repetition, as in Python: [1.0] * in.c, 3 * (1,), 'ab' * 2.
    if (op == BinOp::Mul && (l.isSequence() || l.kind == Value::Kind::String ||
                             r.isSequence() || r.kind == Value::Kind::String)) {
      const Value &seq = l.kind == Value::Kind::Int ? r : l;
      const Value &times = l.kind == Value::Kind::Int ? l : r;
      if (times.kind != Value::Kind::Int)
        return mismatch();
      size_t count = times.i > 0 ? static_cast<size_t>(times.i) : 0;
      size_t length = seq.kind == Value::Kind::String ? seq.s.size() : seq.items->size();
      const size_t most = static_cast<size_t>(INT64_MAX);
      checkSequenceLength(length && count > most / length ? most : length * count, e.loc);
      if (seq.kind == Value::Kind::String) {
        std::string out;
        for (size_t k = 0; k < count; ++k)
          out += seq.s;
        return Value::ofString(std::move(out));
      }
      ValueList items;
      for (size_t k = 0; k < count; ++k)
        items.insert(items.end(), seq.items->begin(), seq.items->end());
      return Value::ofList(std::move(items), seq.kind);
    }
    [[fallthrough]];
  case BinOp::Sub: case BinOp::Div: case BinOp::Mod: {
    if (ints) {
      int64_t out = 0;
      bool overflow = false;
      switch (op) {
      case BinOp::Add: overflow = __builtin_add_overflow(l.i, r.i, &out); break;
      case BinOp::Sub: overflow = __builtin_sub_overflow(l.i, r.i, &out); break;
      case BinOp::Mul: overflow = __builtin_mul_overflow(l.i, r.i, &out); break;
      default:
        if (r.i == 0)
          fail(e.loc, std::string(op == BinOp::Div ? "division" : "modulo") + " by zero");
        if (l.i == INT64_MIN && r.i == -1)
          overflow = true;
        else
          out = op == BinOp::Div ? floorDiv(l.i, r.i) : floorMod(l.i, r.i);
      }
      if (overflow)
        fail(e.loc, "integer overflow in " + render(l) + " " + spelling(op) + " " + render(r));
      return Value::ofInt(out);
    }
    if (!numbers)
      return mismatch();
    double a = l.number(), b = r.number();
    switch (op) {
    case BinOp::Add: return Value::ofFloat(a + b);
    case BinOp::Sub: return Value::ofFloat(a - b);
    case BinOp::Mul: return Value::ofFloat(a * b);
    default:
      if (b == 0)
        fail(e.loc, std::string(op == BinOp::Div ? "division" : "modulo") + " by zero");
      return Value::ofFloat(op == BinOp::Div ? a / b : a - std::floor(a / b) * b);
    }
  }
  default:
    return mismatch();
  }
}

} // namespace netc::dsl
