//===- Weights.cpp - Does a weights file fit an entry, and which does? ----===//
//
// The runtime checks a checkpoint against one manifest and names every
// problem; only the compiler knows the other entries. When a file does not
// fit, netc elaborates the entries of the spec (or the zoo) and names those
// whose manifest it does fit: resnet34 weights given to resnet18, or a
// GoogLeNet checkpoint with aux heads given to googlenet(aux=false).
//
//===----------------------------------------------------------------------===//
#include "Driver.h"

#include "netc/Lowering/ProgramTables.h"
#include "netc/runtime.h"

#include "llvm/Support/raw_ostream.h"

#include <memory>

namespace netc::driver {

using namespace netc::dsl;

namespace {

using File = std::unique_ptr<netc_safetensors, void (*)(netc_safetensors *)>;

/// The runtime's view of the tensors `graph` implies (pointing into it).
std::vector<netc_param_spec> manifestOf(const Graph &graph) {
  std::vector<netc_param_spec> specs;
  for (const Weight *w : graph.weights())
    specs.push_back(
        lowering::paramSpec(w->key.c_str(), w->dtype == DType::F32 ? "F32" : "I64", w->shape));
  return specs;
}

/// Whether `file` holds exactly the tensors `graph` implies.
bool fits(const netc_safetensors *file, const Graph &graph) {
  std::vector<netc_param_spec> specs = manifestOf(graph);
  return netc_safetensors_check(file, specs.data(), specs.size(), nullptr) == NETC_OK;
}

} // namespace

std::string shellWord(const std::string &word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-+./:=,@%") == std::string::npos)
    return word;
  std::string quoted = "'";
  for (char c : word)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string checkWeightsCommand(const Options &options, const std::string &entry,
                                const std::string &weightsPath) {
  std::string command = "netc ";
  if (options.isOnnx()) // one network: no --entry
    return command + shellWord(options.spec) + " --check-weights " + shellWord(weightsPath);
  if (!options.spec.empty())
    command += shellWord(options.spec) + " ";
  if (options.spec.empty() && options.zooGiven)
    command += "--zoo " + shellWord(options.zoo) + " ";
  return command + "--entry " + shellWord(entry) + " --check-weights " + shellWord(weightsPath);
}

std::string fittingEntries(const Options &options, const std::string &weightsPath) {
  if (options.isOnnx())
    return ""; // the model is its only entry
  netc_safetensors *raw = nullptr;
  if (netc_safetensors_open(weightsPath.c_str(), &raw, nullptr) != NETC_OK)
    return "";
  File file(raw, netc_safetensors_close);
  // The entries to try: those of the spec, or of the whole zoo.
  Diagnostic diag;
  Sources sources;
  struct Candidate {
    std::string name, signature;
    const dsl::Module *module;
  };
  std::vector<Candidate> entries;
  if (!options.spec.empty()) {
    sources.spec = loadSpec(options.spec, diag);
    if (!sources.spec)
      return "";
    for (const EntryInfo &e : listEntries(*sources.spec))
      entries.push_back({e.name, e.signature, sources.spec.get()});
  } else {
    if (!sources.zoo.load(options.zoo, diag))
      return "";
    for (const Zoo::Entry &e : sources.zoo.entries())
      entries.push_back({e.info.name, e.info.signature, e.module});
  }
  // Each at the size being run (netc run binds the input's), and where it
  // does not take that size, at the sizes its spec declares: the weights'
  // shapes rarely depend on it.
  ElaborateOptions unbound = options.elaborate;
  unbound.inputShape.clear();
  unbound.inputShapeSource.clear();
  std::vector<std::string> found;
  for (const Candidate &c : entries) {
    if (c.name == options.entry)
      continue;
    Diagnostic ignored;
    // Nets that need arguments do not elaborate bare; their aliases do.
    std::optional<Graph> graph = elaborate(*c.module, c.name, options.elaborate, ignored);
    if (!graph && !options.elaborate.inputShape.empty())
      graph = elaborate(*c.module, c.name, unbound, ignored);
    if (graph && fits(file.get(), *graph))
      found.push_back(c.name + "' (" + c.signature + ")");
  }
  if (found.empty())
    return "";
  std::string text = "\n  these weights fit --entry '";
  for (size_t i = 0; i < found.size(); ++i)
    text += (i ? (i + 1 == found.size() ? " and --entry '" : ", --entry '") : "") + found[i];
  text += options.spec.empty() ? " of the zoo" : " of " + options.spec;
  std::string first = found.front().substr(0, found.front().find('\''));
  return text + " (check: " + checkWeightsCommand(options, first, weightsPath) + ")";
}

int checkWeights(const Options &options, const std::string &weightsPath) {
  Sources sources;
  std::optional<Graph> graph = elaborateEntry(options, sources);
  if (!graph)
    return 1;
  netc_error error{};
  netc_safetensors *raw = nullptr;
  if (netc_safetensors_open(weightsPath.c_str(), &raw, &error) != NETC_OK)
    return fail(error.message);
  File file(raw, netc_safetensors_close);
  std::vector<netc_param_spec> specs = manifestOf(*graph);
  // Every problem, not only the first few a load's message holds.
  size_t needed = netc_safetensors_report(file.get(), specs.data(), specs.size(), nullptr, 0);
  if (needed > 1) {
    std::vector<char> report(needed);
    netc_safetensors_report(file.get(), specs.data(), specs.size(), report.data(), needed);
    return fail(std::string(report.data()) + fittingEntries(options, weightsPath));
  }
  llvm::outs() << weightsPath << ": fits '" << options.entry << "' (" << specs.size()
               << " tensors)\n";
  return 0;
}

bool checkEmbeddable(const netc::lowering::Program &program, const std::string &weightsPath) {
  netc_error error{};
  netc_safetensors *raw = nullptr;
  if (netc_safetensors_open(weightsPath.c_str(), &raw, &error) != NETC_OK) {
    fail(std::string("--embed-weights: ") + error.message);
    return false;
  }
  File file(raw, netc_safetensors_close);
  netc::lowering::ProgramTables tables(program);
  size_t needed = netc_safetensors_report(file.get(), tables.expected.data(),
                                          tables.expected.size(), nullptr, 0);
  if (needed > 1) {
    std::vector<char> report(needed);
    netc_safetensors_report(file.get(), tables.expected.data(), tables.expected.size(),
                            report.data(), needed);
    fail(std::string("--embed-weights: the weights do not fit '") + program.name + "': " +
         report.data());
    return false;
  }
  return true;
}

} // namespace netc::driver
