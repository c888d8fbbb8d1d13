//===- Elaborator.cpp - Statements, blocks and the entry net --------------===//
//
// Naming follows PyTorch's module tree (DSL.md, rules R1-R6):
//  - a label opens a scope; inside a `seq` an unlabeled child takes its
//    position as its name, parameterless layers included;
//  - `for`, `if`, unlabeled `{}` groups and unlabeled inline blocks are
//    flattened into the enclosing seq, so their children keep counting;
//  - outside a seq an unlabeled layer adds no path component.
//
//===----------------------------------------------------------------------===//
#include "ElaboratorImpl.h"

#include "netc/dsl/Parser.h"

namespace netc::dsl {

Elaborator::Elaborator(const Module &module, const ElaborateOptions &options)
    : module_(module), options_(options) {}

void Elaborator::fail(SourceLoc loc, const std::string &message) const {
  // Innermost frames first. A runaway recursion keeps its first and last
  // frames; the middle is summarized.
  constexpr size_t kHead = 10, kTail = 5;
  std::vector<Note> notes;
  size_t n = trace_.size();
  for (size_t i = 0; i < n; ++i) {
    if (n > kHead + kTail + 1 && i == kHead) {
      notes.push_back(Note{trace_[n - 1 - i].loc,
                           "... " + std::to_string(n - kHead - kTail) +
                               " more instantiations ..."});
      i = n - kTail - 1;
      continue;
    }
    const Frame &frame = trace_[n - 1 - i];
    notes.push_back(Note{frame.loc, frame.text});
  }
  throwError(loc, message, std::move(notes));
}

void Elaborator::step(SourceLoc loc, int64_t units) {
  steps_ += units;
  if (steps_ > options_.limits.maxSteps)
    fail(loc, "elaboration takes more than " + std::to_string(options_.limits.maxSteps) +
                  " steps; is a loop or recursion unbounded?");
}

//===----------------------------------------------------------------------===//
// Globals
//===----------------------------------------------------------------------===//

void Elaborator::loadGlobals() {
  // Blocks and nets are visible everywhere; lets and aliases in order.
  for (const auto &decl : module_.decls) {
    if (decl->kind != Decl::Kind::Block && decl->kind != Decl::Kind::Inline &&
        decl->kind != Decl::Kind::Net)
      continue;
    if (isBuiltinLayer(decl->name))
      fail(decl->loc, "'" + decl->name + "' is a built-in layer and cannot be redefined");
    if (globals_.lookup(decl->name))
      fail(decl->loc, "'" + decl->name + "' is already defined");
    Callable c;
    c.kind = decl->kind == Decl::Kind::Net ? Callable::Kind::Net : Callable::Kind::Block;
    c.name = decl->name;
    c.decl = decl.get();
    globals_.define(decl->name, Value::ofCallable(std::move(c)), decl->loc);
  }
  for (const auto &decl : module_.decls) {
    if (decl->kind == Decl::Kind::Let) {
      bindPattern(decl->pattern, eval(*decl->value, globals_, -1), globals_);
    } else if (decl->kind == Decl::Kind::Alias) {
      // An alias is a net with some arguments bound: `alias r50 = resnet(50)`.
      const Expr &target = *decl->value;
      const Expr &calleeExpr = target.kind == Expr::Kind::Call ? *target.operands[0] : target;
      Value callee = eval(calleeExpr, globals_, -1);
      if (callee.kind != Value::Kind::Callable || callee.callable->kind != Callable::Kind::Net)
        fail(calleeExpr.loc, "an alias must name a net, but this is a " + typeName(callee));
      Callable c = *callee.callable;
      c.name = decl->name;
      c.aliasLoc = decl->loc;
      if (target.kind == Expr::Kind::Call)
        for (ArgValue &a : evalArgs(target.args, globals_, -1))
          c.boundArgs.emplace_back(a.name, a.value);
      if (isBuiltinLayer(decl->name))
        fail(decl->loc, "'" + decl->name + "' is a built-in layer and cannot be redefined");
      if (globals_.lookup(decl->name))
        fail(decl->loc, "'" + decl->name + "' is already defined");
      globals_.define(decl->name, Value::ofCallable(std::move(c)), decl->loc);
    }
  }
}

void Elaborator::bindPattern(const Pattern &pattern, const Value &value, Scope &scope) {
  if (!pattern.isTuple) {
    scope.define(pattern.name, value, pattern.loc);
    return;
  }
  if (!value.isSequence())
    fail(pattern.loc, "cannot unpack a " + typeName(value) + " into " +
                          std::to_string(pattern.elements.size()) + " names");
  if (value.items->size() != pattern.elements.size())
    fail(pattern.loc, "cannot unpack " + std::to_string(value.items->size()) +
                          " values into " + std::to_string(pattern.elements.size()) +
                          " names");
  for (size_t i = 0; i < pattern.elements.size(); ++i)
    bindPattern(pattern.elements[i], (*value.items)[i], scope);
}

std::vector<ParamSpec> Elaborator::declParams(const Decl &decl) {
  // Defaults are evaluated later, in the callee's scope, so they may use
  // earlier parameters: `block B(planes, out=planes*4)`.
  std::vector<ParamSpec> specs;
  for (const Param &p : decl.params)
    specs.push_back(ParamSpec{p.name, p.defaultValue == nullptr, std::nullopt});
  return specs;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

namespace {
std::string join(const std::string &path, const std::string &component) {
  if (component.empty())
    return path;
  return path.empty() ? component : path + "." + component;
}
} // namespace

std::string Elaborator::labelText(const Label &label, const Scope &scope, int current) {
  std::string text;
  for (const LabelPiece &piece : label.pieces) {
    if (!piece.expr) {
      text += piece.text;
      continue;
    }
    Value v = eval(*piece.expr, scope, current);
    if (v.kind == Value::Kind::Int)
      text += std::to_string(v.i);
    else if (v.kind == Value::Kind::String)
      text += v.s;
    else
      fail(piece.expr->loc, "a label part must be an int or a string, got " + typeName(v) +
                                " " + render(v));
  }
  if (text.empty() || text.find('.') != std::string::npos)
    fail(label.loc, "label '" + text + "' is not a valid name (it must be non-empty, without '.')");
  return text;
}

int Elaborator::elabBody(const Body &body, Context &ctx, int current) {
  for (const StmtPtr &stmt : body)
    current = elabStmt(*stmt, ctx, current);
  return current;
}

int Elaborator::elabStmt(const Stmt &stmt, Context &ctx, int current) {
  step(stmt.loc);
  switch (stmt.kind) {
  case Stmt::Kind::Let:
    bindPattern(stmt.pattern, eval(*stmt.value, *ctx.scope, current), *ctx.scope);
    return current;
  case Stmt::Kind::Assert: {
    Value cond = eval(*stmt.value, *ctx.scope, current);
    if (cond.kind != Value::Kind::Bool)
      fail(stmt.value->loc, "an assert condition must be a bool, got " + typeName(cond) +
                                " " + render(cond));
    if (cond.b)
      return current;
    std::string message = "assertion failed";
    if (stmt.message) {
      Value m = eval(*stmt.message, *ctx.scope, current);
      message += ": " + (m.kind == Value::Kind::String ? m.s : render(m));
    }
    fail(stmt.loc, message);
  }
  case Stmt::Kind::For: {
    Value range = eval(*stmt.value, *ctx.scope, current);
    ValueList items;
    if (range.isSequence())
      items = *range.items;
    else if (range.kind == Value::Kind::Map)
      for (const auto &entry : *range.map)
        items.push_back(entry.first);
    else
      fail(stmt.value->loc, "cannot loop over a " + typeName(range) + " " + render(range));
    for (const Value &item : items) {
      Scope iteration{ctx.scope, {}};
      bindPattern(stmt.pattern, item, iteration);
      Context inner = ctx;
      inner.scope = &iteration;
      current = elabBody(stmt.body, inner, current);
    }
    return current;
  }
  case Stmt::Kind::If: {
    Value cond = eval(*stmt.value, *ctx.scope, current);
    if (cond.kind != Value::Kind::Bool)
      fail(stmt.value->loc, "an 'if' condition must be a bool, got " + typeName(cond) +
                                " " + render(cond));
    Scope branch{ctx.scope, {}};
    Context inner = ctx;
    inner.scope = &branch;
    return elabBody(cond.b ? stmt.body : stmt.elseBody, inner, current);
  }
  default:
    break;
  }

  // A layer statement. Inline calls and groups without a label are flattened;
  // everything else is one child: named by its label, or by its position in
  // a seq, or (outside a seq) not named at all.
  bool isInlineCall = false;
  if (stmt.kind == Stmt::Kind::Call) {
    const Value *v = ctx.scope->lookup(stmt.callee);
    isInlineCall = v && v->kind == Value::Kind::Callable && v->callable->decl &&
                   v->callable->decl->kind == Decl::Kind::Inline;
  }
  bool flattened = !stmt.label.present() &&
                   (stmt.kind == Stmt::Kind::Group || isInlineCall);
  std::string component;
  if (stmt.label.present())
    component = labelText(stmt.label, *ctx.scope, current);
  if (ctx.seq && !flattened) {
    if (component.empty())
      component = std::to_string(ctx.seq->next);
    ++ctx.seq->next;
  }
  std::string path = join(ctx.path, component);

  Scope local{ctx.scope, {}};
  LabelTable labels{ctx.labels, {}};
  Context inner = ctx;
  inner.scope = &local;
  inner.path = path;
  if (!flattened) {
    inner.seq = nullptr;
    inner.labels = &labels;
  }

  int result = current;
  switch (stmt.kind) {
  case Stmt::Kind::Call:
    result = elabCall(stmt, ctx, current, path, !component.empty());
    break;
  case Stmt::Kind::Group:
    result = elabBody(stmt.body, inner, current);
    break;
  case Stmt::Kind::Seq: {
    SeqCounter counter;
    inner.seq = &counter;
    result = elabBody(stmt.body, inner, current);
    break;
  }
  case Stmt::Kind::Add:
  case Stmt::Kind::Mul:
  case Stmt::Kind::Cat: {
    int64_t axis = 1;
    if (stmt.kind == Stmt::Kind::Cat) {
      BoundArgs a = bind("cat", stmt.loc, {ParamSpec{"axis", false, Value::ofInt(1)}},
                         evalArgs(stmt.args, *ctx.scope, current));
      axis = argInt(a, "axis");
    }
    std::vector<int> outputs;
    elabBranches(stmt, inner, current, outputs);
    OpKind join = stmt.kind == Stmt::Kind::Add   ? OpKind::Add
                  : stmt.kind == Stmt::Kind::Mul ? OpKind::Mul
                                                 : OpKind::Concat;
    result = joinBranches(join, outputs, axis, stmt.loc, path, ctx.auxiliary);
    break;
  }
  case Stmt::Kind::Side: {
    // A side branch (an auxiliary head) reads the current tensor, or the
    // output of an earlier labeled statement, and leaves the flow unchanged.
    BoundArgs a = bind("side", stmt.loc, {ParamSpec{"from", false, std::nullopt}},
                       evalArgs(stmt.args, *ctx.scope, current));
    int source = current;
    if (const auto &from = a.get("from")) {
      if (from->kind != Value::Kind::String)
        fail(a.locOf("from"), "side(from=...) takes the label of an earlier statement, as a string");
      const int *found = ctx.labels ? ctx.labels->find(from->s) : nullptr;
      if (!found) {
        std::vector<std::string> known;
        for (const LabelTable *t = ctx.labels; t; t = t->parent)
          for (const auto &entry : t->tensors)
            known.push_back(entry.first);
        fail(a.locOf("from"), "no earlier statement is labeled '" + from->s + "'" +
                                  didYouMean(from->s, known));
      }
      source = *found;
    }
    inner.auxiliary = true;
    elabBody(stmt.body, inner, source);
    result = current;
    break;
  }
  default:
    break;
  }
  if (stmt.label.present() && ctx.labels)
    ctx.labels->tensors[component] = result;
  return result;
}

const int *LabelTable::find(const std::string &label) const {
  for (const LabelTable *t = this; t; t = t->parent) {
    auto it = t->tensors.find(label);
    if (it != t->tensors.end())
      return &it->second;
  }
  return nullptr;
}

int Elaborator::elabBranches(const Stmt &stmt, Context &ctx, int current,
                             std::vector<int> &outputs) {
  // Each statement is a branch fed by the same input; a `for` adds one branch
  // per iteration; an empty branch (an `if` that is false) is the identity.
  for (const StmtPtr &branch : stmt.body) {
    if (branch->kind == Stmt::Kind::Let || branch->kind == Stmt::Kind::Assert) {
      elabStmt(*branch, ctx, current);
      continue;
    }
    if (branch->kind == Stmt::Kind::For) {
      Value range = eval(*branch->value, *ctx.scope, current);
      if (!range.isSequence())
        fail(branch->value->loc, "cannot loop over a " + typeName(range) + " " + render(range));
      for (const Value &item : *range.items) {
        Scope iteration{ctx.scope, {}};
        bindPattern(branch->pattern, item, iteration);
        Context inner = ctx;
        inner.scope = &iteration;
        outputs.push_back(elabBody(branch->body, inner, current));
      }
      continue;
    }
    outputs.push_back(elabStmt(*branch, ctx, current));
  }
  return current;
}

int Elaborator::elabCall(const Stmt &stmt, Context &ctx, int current,
                         const std::string &path, bool named) {
  // In a call statement only callables count: a parameter `bn=false` does
  // not hide the layer bn(), so `if bn { bn() }` reads as intended.
  Value callee = lookupName(stmt.callee, stmt.calleeLoc, *ctx.scope);
  if (callee.kind != Value::Kind::Callable && isBuiltinLayer(stmt.callee)) {
    Callable builtin;
    builtin.kind = Callable::Kind::Builtin;
    builtin.name = stmt.callee;
    callee = Value::ofCallable(std::move(builtin));
  }
  if (callee.kind != Value::Kind::Callable)
    fail(stmt.calleeLoc, "'" + stmt.callee + "' is the " + typeName(callee) + " " +
                             render(callee) + ", not a layer or block");
  const Callable &c = *callee.callable;
  bool isInline = c.decl && c.decl->kind == Decl::Kind::Inline;
  std::vector<ArgValue> args = evalArgs(stmt.args, *ctx.scope, current);

  switch (c.kind) {
  case Callable::Kind::Builtin: {
    BoundArgs bound = bind(c.name, stmt.calleeLoc, builtinParams(c.name), args);
    return buildLayer(c.name, bound, stmt.loc, named ? path : std::string(), ctx.path,
                      current, ctx.auxiliary);
  }
  case Callable::Kind::Function:
    fail(stmt.calleeLoc, "'" + c.name + "' is a function, not a layer");
  case Callable::Kind::Net:
    fail(stmt.calleeLoc, "'" + c.name + "' is a net; a net is an entry point, not a layer "
                         "(declare it as a block to reuse it)");
  case Callable::Kind::Block:
    break;
  }

  const Decl &decl = *c.decl;
  // trace_ holds the entry net's frame plus one per block instantiation.
  if (static_cast<int>(trace_.size()) > options_.limits.maxCallDepth)
    fail(stmt.calleeLoc, "blocks nest more than " +
                             std::to_string(options_.limits.maxCallDepth) +
                             " deep; is '" + c.name + "' recursive?");
  BoundArgs bound = bind(c.name, stmt.calleeLoc, declParams(decl), args);
  auto scope = std::make_unique<Scope>();
  scope->parent = &globals_;
  for (size_t i = 0; i < decl.params.size(); ++i) {
    Value v = bound.values[i] ? *bound.values[i]
                              : eval(*decl.params[i].defaultValue, *scope, current);
    bound.values[i] = v;
    scope->define(decl.params[i].name, v, decl.params[i].loc);
  }
  std::string frame = "in " + renderCall(c.name, bound);
  if (named)
    frame += " as '" + path + "'";
  trace_.push_back(Frame{stmt.loc, frame});

  LabelTable labels{nullptr, {}};
  Context inner;
  inner.scope = scope.get();
  inner.path = path;
  inner.labels = &labels;
  inner.auxiliary = ctx.auxiliary;
  // An unlabeled inline block joins its caller's seq numbering.
  inner.seq = isInline && !stmt.label.present() ? ctx.seq : nullptr;
  int result = elabBody(decl.body, inner, current);
  trace_.pop_back();
  return result;
}

} // namespace netc::dsl
