//===- Print.cpp - netc's listings: zoo entries, keys, shapes, dot --------===//
#include "Driver.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace netc::driver {

using namespace netc::dsl;

int listEntries(const Options &options) {
  Diagnostic diag;
  if (!options.spec.empty()) {
    auto module = loadSpec(options.spec, diag);
    if (!module) {
      llvm::errs() << diag.render();
      return 1;
    }
    for (const EntryInfo &e : netc::dsl::listEntries(*module))
      llvm::outs() << e.name << "  " << e.signature << "\n";
    return 0;
  }
  Zoo zoo;
  if (!zoo.load(options.zoo, diag)) {
    llvm::errs() << diag.render();
    return 1;
  }
  for (const Zoo::Entry &e : zoo.entries()) {
    std::string file = e.module->source->name();
    file = file.substr(file.find_last_of('/') + 1);
    llvm::outs() << llvm::left_justify(e.info.name, 22) << " "
                 << llvm::left_justify(file, 16) << " " << e.info.signature << "\n";
  }
  return 0;
}

void printKeyList(const Graph &graph) {
  for (const Weight *w : graph.weights()) {
    llvm::outs() << w->key << " " << dtypeName(w->dtype) << " [";
    for (size_t i = 0; i < w->shape.size(); ++i)
      llvm::outs() << (i ? "," : "") << w->shape[i];
    llvm::outs() << "]\n";
  }
}

/// An unnamed layer shows where it sits: "layer1.0/relu".
std::string displayName(const Layer &layer) {
  return layer.path.empty() ? (layer.scope.empty() ? "" : layer.scope + "/") + opName(layer.kind)
                            : layer.path;
}

void printShapeList(const Graph &graph) {
  for (const Layer &layer : graph.layers)
    llvm::outs() << llvm::left_justify(displayName(layer), 34) << " "
                 << llvm::left_justify(opName(layer.kind), 17) << " "
                 << formatShape(layer.shape) << (layer.auxiliary ? "  (auxiliary)" : "")
                 << "\n";
  llvm::outs() << "output: " << formatShape(graph.layers[graph.output].shape) << "\n";
}

void printDot(mlir::ModuleOp module) {
  llvm::outs() << "digraph net {\n  node [shape=box, fontname=\"monospace\"];\n";
  llvm::DenseMap<mlir::Value, std::string> names;
  int next = 0;
  module.walk([&](mlir::FuncOp func) {
    names[func.getArgument(0)] = "n0";
    llvm::outs() << "  n0 [label=\"input\"];\n";
    for (mlir::Operation &op : func.getBody().front()) {
      if (op.getNumResults() == 0) {
        for (mlir::Value v : op.getOperands())
          if (names.count(v))
            llvm::outs() << "  " << names[v] << " -> out;\n";
        continue;
      }
      std::string id = "n" + std::to_string(++next);
      names[op.getResult(0)] = id;
      std::string label = op.getName().stripDialect().str();
      if (auto loc = op.getLoc().dyn_cast<mlir::NameLoc>())
        label = loc.getName().str() + "\\n" + label;
      std::string type;
      llvm::raw_string_ostream os(type);
      os << op.getResult(0).getType();
      llvm::outs() << "  " << id << " [label=\"" << label << "\\n" << os.str() << "\"];\n";
      for (mlir::Value v : op.getOperands())
        if (names.count(v))
          llvm::outs() << "  " << names[v] << " -> " << id << ";\n";
    }
  });
  llvm::outs() << "  out [label=\"output\"];\n}\n";
}

} // namespace netc::driver
