//===- Print.cpp - netc's listings: zoo entries, keys, shapes, dot --------===//
#include "Driver.h"

#include "netc/Dialect/NN/NNDialect.h"

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

void printShapeList(const Graph &graph) {
  std::vector<std::string> names = graph.displayNames();
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer &layer = graph.layers[i];
    llvm::outs() << llvm::left_justify(names[i], 34) << " "
                 << llvm::left_justify(opName(layer.kind), 17) << " "
                 << formatShape(layer.shape) << (layer.auxiliary ? "  (auxiliary)" : "")
                 << "\n";
  }
  llvm::outs() << "output: " << formatShape(graph.layers[graph.output].shape) << "\n";
}

namespace {

/// "25,557,032"
std::string grouped(int64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

/// Trainable parameters, as torch's model.parameters() counts them: weights
/// and biases, not BatchNorm's running statistics (buffers).
int64_t parameterCount(const Layer &layer) {
  int64_t total = 0;
  for (const Weight &w : layer.weights) {
    // Parameters, as torch's parameters() counts them: not BatchNorm's
    // running statistics (buffers).
    llvm::StringRef key(w.key);
    if (key.endswith(".running_mean") || key.endswith(".running_var") ||
        key.endswith(".num_batches_tracked"))
      continue;
    int64_t n = 1;
    for (int64_t d : w.shape)
      n *= d;
    total += n;
  }
  return total;
}

/// Multiply-accumulates per batch item of a conv or linear layer (over
/// features or over channels).
int64_t macCount(const Layer &layer) {
  if ((layer.kind != OpKind::Conv2d && layer.kind != OpKind::Linear &&
       layer.kind != OpKind::ChannelLinear) ||
      layer.weights.empty())
    return 0;
  int64_t outputs = 1;
  for (size_t i = 1; i < layer.shape.size(); ++i)
    outputs *= layer.shape[i].value;
  int64_t perOutput = 1; // weight elements per output channel or feature
  const std::vector<int64_t> &w = layer.weights[0].shape;
  for (size_t i = 1; i < w.size(); ++i)
    perOutput *= w[i];
  return outputs * perOutput;
}

/// The shape with the batch written as N: the table is per batch item.
Shape perItem(Shape shape) {
  if (!shape.empty())
    shape[0] = Dim::sym("N");
  return shape;
}

} // namespace

std::map<std::string, std::string> precisionsOf(mlir::ModuleOp module) {
  std::map<std::string, std::string> out;
  module.walk([&](mlir::Operation *op) {
    if (!netc::nn::takesPrecision(op))
      return;
    auto name = op->getLoc().dyn_cast<mlir::NameLoc>();
    auto precision = op->getAttrOfType<mlir::StringAttr>(netc::nn::kPrecisionAttr);
    if (name)
      out[name.getName().str()] = precision ? precision.getValue().str() : "fp32";
  });
  return out;
}

int printSummary(const Graph &graph, const std::map<std::string, std::string> *precisionOf) {
  std::vector<std::string> names = graph.displayNames();
  for (size_t l = 0; l < graph.layers.size(); ++l) {
    const Layer &layer = graph.layers[l];
    // An auxiliary head's sizes may be unknown: it does not run (see
    // Elaborator::buildLayer), and its MACs are not counted.
    for (size_t i = 1; i < layer.shape.size() && !layer.auxiliary; ++i)
      if (!layer.shape[i].known()) {
        llvm::errs() << "netc: error: --summary needs static sizes; '" << names[l]
                     << "' has shape " << formatShape(layer.shape)
                     << ": give --input-shape, e.g. --input-shape 1,3,224,224\n";
        return 1;
      }
  }
  llvm::outs() << llvm::left_justify("layer", 34) << " " << llvm::left_justify("op", 17) << " "
               << llvm::left_justify("output", 20) << " " << llvm::right_justify("params", 13)
               << " " << llvm::right_justify("MACs", 16)
               << (precisionOf ? "  precision" : "") << "\n";
  int64_t params = 0, auxParams = 0, macs = 0;
  for (size_t i = 1; i < graph.layers.size(); ++i) {
    const Layer &layer = graph.layers[i];
    int64_t p = parameterCount(layer), m = layer.auxiliary ? 0 : macCount(layer);
    (layer.auxiliary ? auxParams : params) += p;
    macs += m;
    llvm::outs() << llvm::left_justify(names[i], 34) << " "
                 << llvm::left_justify(opName(layer.kind), 17) << " "
                 << llvm::left_justify(formatShape(perItem(layer.shape)), 20) << " "
                 << llvm::right_justify(p ? grouped(p) : "", 13) << " "
                 << llvm::right_justify(m ? grouped(m) : "", 16);
    if (precisionOf) {
      auto it = precisionOf->find(names[i]);
      if (it != precisionOf->end())
        llvm::outs() << "  " << it->second;
    }
    llvm::outs() << (layer.auxiliary ? "  (auxiliary)" : "") << "\n";
  }
  llvm::outs() << "parameters: " << grouped(params + auxParams) << " ("
                 << llvm::format("%.1f", (params + auxParams) * 4.0 / 1e6) << " MB as float32)";
  if (auxParams)
    llvm::outs() << ", of which " << grouped(auxParams) << " in auxiliary heads (training only)";
  llvm::outs() << "\nMACs per batch item: " << grouped(macs) << " ("
               << llvm::format("%.2f", macs / 1e9) << " G; conv and linear layers)\n";
  return 0;
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
