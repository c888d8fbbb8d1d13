//===- Entry.cpp - The entry net and the library's public entry points ----===//
//
// An entry is a net or an alias (a net with arguments bound), optionally
// called with more arguments: `resnet50`, `resnet(50, groups=32, wpg=4)`.
//
//===----------------------------------------------------------------------===//
#include "ElaboratorImpl.h"

#include "netc/dsl/Parser.h"

namespace netc::dsl {

//===----------------------------------------------------------------------===//
// The entry net
//===----------------------------------------------------------------------===//

Graph Elaborator::run(const std::string &entryText) {
  loadGlobals();
  SourceFile entrySource("<entry>", entryText);
  ExprPtr entry = parseStandaloneExpr(entrySource);
  const Expr &calleeExpr = entry->kind == Expr::Kind::Call ? *entry->operands[0] : *entry;
  if (calleeExpr.kind != Expr::Kind::Name)
    fail(entry->loc, "the entry must be a net or alias name, optionally with arguments, "
                     "as in resnet(50, groups=32)");
  const Value *found = globals_.lookup(calleeExpr.text);
  if (!found || found->kind != Value::Kind::Callable ||
      found->callable->kind != Callable::Kind::Net) {
    std::vector<std::string> nets;
    for (const EntryInfo &e : listEntries(module_))
      nets.push_back(e.name);
    fail(calleeExpr.loc, "'" + calleeExpr.text + "' is not a net or alias in " +
                             module_.source->name() + didYouMean(calleeExpr.text, nets));
  }
  const Callable &c = *found->callable;
  const Decl &decl = *c.decl;

  // Alias arguments first; the entry's positional ones follow them and its
  // keyword arguments override theirs.
  std::vector<ArgValue> args;
  for (const auto &[name, value] : c.boundArgs)
    if (name.empty())
      args.push_back(ArgValue{"", c.aliasLoc, value});
  std::vector<ArgValue> given;
  if (entry->kind == Expr::Kind::Call)
    given = evalArgs(entry->args, globals_, -1);
  for (const ArgValue &a : given)
    if (a.name.empty())
      args.push_back(a);
  for (const auto &[name, value] : c.boundArgs) {
    bool overridden = false;
    for (const ArgValue &a : given)
      overridden |= a.name == name;
    if (!name.empty() && !overridden)
      args.push_back(ArgValue{name, c.aliasLoc, value});
  }
  for (const ArgValue &a : given)
    if (!a.name.empty())
      args.push_back(a);

  BoundArgs bound = bind(decl.name, calleeExpr.loc, declParams(decl), args);
  Scope scope{&globals_, {}};
  for (size_t i = 0; i < decl.params.size(); ++i) {
    Value v = bound.values[i] ? *bound.values[i]
                              : eval(*decl.params[i].defaultValue, scope, -1);
    bound.values[i] = v;
    scope.define(decl.params[i].name, v, decl.params[i].loc);
  }
  trace_.push_back(Frame{decl.loc, "in " + renderCall(decl.name, bound)});

  if (decl.inputs.size() != 1)
    fail(decl.loc, "net '" + decl.name + "' must declare exactly one input, as in "
                   "(x: f32[N,3,H,W])");
  const InputDecl &input = decl.inputs[0];
  if (input.dtype != "f32")
    fail(input.dtypeLoc, "unsupported element type '" + input.dtype + "'; inputs are f32");
  Shape shape;
  for (const ExprPtr &dim : input.dims) {
    if (dim->kind == Expr::Kind::Name && !scope.lookup(dim->text)) {
      shape.push_back(Dim::sym(dim->text));
      continue;
    }
    Value v = eval(*dim, scope, -1);
    if (v.kind != Value::Kind::Int || v.i < 1)
      fail(dim->loc, "an input dimension must be a positive int or a symbol, got " +
                         render(v));
    shape.push_back(Dim::of(v.i));
  }
  if (shape.size() < 2)
    fail(input.loc, "the input needs at least a batch and a channel dimension, got " +
                        formatShape(shape));

  const std::vector<int64_t> &given_shape = options_.inputShape;
  if (!given_shape.empty()) {
    if (given_shape.size() != shape.size())
      fail(input.loc, options_.inputShapeSource + " has " + std::to_string(given_shape.size()) +
                          " dimensions but '" + input.name + "' is declared " +
                          formatShape(shape));
    std::vector<std::pair<std::string, int64_t>> symbols;
    for (size_t i = 0; i < shape.size(); ++i) {
      int64_t v = given_shape[i];
      if (v < 1)
        fail(input.loc, options_.inputShapeSource + " dimension " + std::to_string(i) + " is " +
                            std::to_string(v) + "; sizes must be at least 1");
      if (shape[i].known()) {
        if (shape[i].value != v)
          fail(input.loc, options_.inputShapeSource + " dimension " + std::to_string(i) + " is " +
                              std::to_string(v) + " but '" + input.name + "' fixes it at " +
                              std::to_string(shape[i].value));
        continue;
      }
      for (const auto &[sym, bound_v] : symbols)
        if (sym == shape[i].symbol && bound_v != v)
          fail(input.loc, options_.inputShapeSource + " gives symbol '" + sym + "' two sizes, " +
                              std::to_string(bound_v) + " and " + std::to_string(v));
      symbols.emplace_back(shape[i].symbol, v);
      shape[i] = Dim::of(v);
    }
  }

  graph_.name = entryText;
  Layer in;
  in.kind = OpKind::Input;
  in.path = input.name;
  in.loc = input.loc;
  in.shape = shape;
  graph_.layers.push_back(std::move(in));

  LabelTable labels{nullptr, {}};
  Context ctx;
  ctx.scope = &scope;
  ctx.labels = &labels;
  graph_.output = elabBody(decl.body, ctx, 0);
  trace_.pop_back();
  return std::move(graph_);
}

std::string Elaborator::evaluate(const std::string &exprText) {
  loadGlobals();
  SourceFile source("<expr>", exprText);
  return render(eval(*parseStandaloneExpr(source), globals_, -1));
}

//===----------------------------------------------------------------------===//
// Public entry points
//===----------------------------------------------------------------------===//

namespace {
/// A default as written when it is a literal, "..." otherwise.
std::string renderLiteral(const Expr &e) {
  switch (e.kind) {
  case Expr::Kind::Int: return std::to_string(e.intValue);
  case Expr::Kind::Float: return formatDouble(e.floatValue);
  case Expr::Kind::Bool: return e.boolValue ? "true" : "false";
  case Expr::Kind::String: return render(Value::ofString(e.text));
  default: return "...";
  }
}
} // namespace

std::vector<EntryInfo> listEntries(const Module &module) {
  std::vector<EntryInfo> out;
  for (const auto &decl : module.decls) {
    if (decl->kind == Decl::Kind::Net) {
      std::string sig = decl->name + "(";
      for (size_t i = 0; i < decl->params.size(); ++i) {
        const Param &p = decl->params[i];
        sig += (i ? ", " : "") + p.name;
        if (p.defaultValue)
          sig += "=" + renderLiteral(*p.defaultValue);
      }
      out.push_back(EntryInfo{decl->name, sig + ")", decl->loc});
    } else if (decl->kind == Decl::Kind::Alias) {
      const SourceFile &file = *module.source;
      // The alias's own text, as written: "alias resnet50 = resnet(50)".
      std::string_view line = file.line(decl->loc.line);
      size_t eq = line.find('=');
      std::string target(eq == std::string_view::npos ? line : line.substr(eq + 1));
      while (!target.empty() && (target.front() == ' ' || target.front() == '\t'))
        target.erase(target.begin());
      size_t comment = target.find('#');
      if (comment != std::string::npos)
        target.erase(comment);
      while (!target.empty() && (target.back() == ' ' || target.back() == '\t'))
        target.pop_back();
      out.push_back(EntryInfo{decl->name, "= " + target, decl->loc});
    }
  }
  return out;
}

std::string entryCallee(const std::string &entryText) {
  try {
    SourceFile source("<entry>", entryText);
    ExprPtr e = parseStandaloneExpr(source);
    const Expr &callee = e->kind == Expr::Kind::Call ? *e->operands[0] : *e;
    return callee.kind == Expr::Kind::Name ? callee.text : std::string();
  } catch (const DiagnosticError &) {
    return std::string();
  }
}

std::optional<std::string> evaluate(const Module &module, const std::string &exprText,
                                    Diagnostic &diag) {
  try {
    ElaborateOptions options;
    Elaborator elaborator(module, options);
    return elaborator.evaluate(exprText);
  } catch (const DiagnosticError &error) {
    diag = error.diag;
    return std::nullopt;
  }
}

std::optional<Graph> elaborate(const Module &module, const std::string &entryText,
                               const ElaborateOptions &options, Diagnostic &diag) {
  try {
    Elaborator elaborator(module, options);
    return elaborator.run(entryText);
  } catch (const DiagnosticError &error) {
    diag = error.diag;
    return std::nullopt;
  }
}

} // namespace netc::dsl
