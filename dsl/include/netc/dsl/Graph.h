//===- Graph.h - An elaborated network: layers, shapes, weights -*- C++ -*-===//
//
// The elaborator turns a spec into this flat, topologically ordered layer
// list. Every layer carries its PyTorch module path, its source location and
// its inferred output shape; every weight carries its state_dict key.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_DSL_GRAPH_H
#define NETC_DSL_GRAPH_H

#include "netc/dsl/Diagnostics.h"

#include <cstdint>
#include <string>
#include <vector>

namespace netc::dsl {

/// A tensor dimension: a known size, or a symbol (the batch N, or a spatial
/// size that depends on a symbolic input dimension).
struct Dim {
  int64_t value = 0;
  std::string symbol; // non-empty when the size is not known
  bool known() const { return symbol.empty(); }
  static Dim of(int64_t v) { return Dim{v, ""}; }
  static Dim sym(std::string s) { return Dim{0, std::move(s)}; }
  bool operator==(const Dim &o) const { return value == o.value && symbol == o.symbol; }
};
using Shape = std::vector<Dim>;

/// "[N,3,224,224]"
std::string formatShape(const Shape &shape);

/// Output size of a sliding window (kernel k, stride s, padding p, dilation d)
/// along one axis of size `in`, as PyTorch computes it, ceil mode included.
/// Returns a value < 1 when no window fits. Shared by the elaborator and the
/// nn dialect's shape inference.
int64_t windowOutput(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil);

enum class OpKind {
  Input, Conv2d, Linear, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm2d,
  Relu, Sigmoid, Tanh, Hardtanh, Hardswish, Hardsigmoid, Silu, Dropout, Flatten, Softmax,
  LocalResponseNorm, ChannelAffine, Add, Mul, Concat, Narrow, ChannelShuffle, Gelu, LayerNorm,
  ChannelLinear, ChannelScale, Identity, LeakyRelu, LogSoftmax, Pad,
};
const char *opName(OpKind kind);

enum class DType { F32, I64 };
const char *dtypeName(DType dtype); // "float32", "int64"

/// One state_dict entry.
struct Weight {
  std::string key;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// Its role in its layer ("weight", "bias", "running_mean", "scale"); empty
  /// where the key's last component says it (every spec's weights).
  std::string leaf;
};

/// Attributes of a layer; each op reads the fields it documents.
struct LayerAttrs {
  int64_t kernel[2] = {1, 1};
  int64_t stride[2] = {1, 1};
  int64_t pad[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
  int64_t outSize[2] = {1, 1};  // AdaptiveAvgPool2d
  int64_t groups = 1;           // Conv2d, ChannelShuffle
  int64_t features = 0;         // Conv2d / Linear output channels or features
  bool bias = true;
  bool ceilMode = false;
  bool countIncludePad = true;
  int64_t axis = 1;             // Flatten start / Softmax / Concat axis
  int64_t size = 0;             // LocalResponseNorm window
  double eps = 1e-5;            // BatchNorm2d, LayerNorm
  double p = 0.5;               // Dropout
  double alpha = 1e-4, beta = 0.75, k = 1.0; // LocalResponseNorm
  double minValue = -1.0, maxValue = 1.0;    // Hardtanh (relu6: 0, 6)
  double slope = 0.01;                       // LeakyRelu's negative slope
  int64_t pads[4] = {0, 0, 0, 0};            // Pad: top, left, bottom, right
  double padValue = 0.0;                     // Pad
  int64_t start = 0, length = 0;             // Narrow, along `axis`
  std::vector<double> scale, shift;          // ChannelAffine, per channel
};

struct Layer {
  OpKind kind = OpKind::Identity;
  std::string path;            // PyTorch module path; empty when unnamed
  std::string scope;           // the enclosing module path (for unnamed layers)
  SourceLoc loc;
  std::vector<int> inputs;     // indices of earlier layers
  Shape shape;                 // output shape
  LayerAttrs attrs;
  std::vector<Weight> weights; // in state_dict order
  bool auxiliary = false;      // inside `side`: training-only, not an output
};

struct Graph {
  std::string name;            // the entry, as the user wrote it
  std::vector<Layer> layers;   // layers[0] is the input
  int output = 0;              // the layer whose result the net returns
  /// All weights in definition (= state_dict) order.
  std::vector<const Weight *> weights() const;
  /// Each layer's name for listings, one per layer and no two alike: its
  /// module path, or for an unnamed layer where it sits and what it is
  /// ("layer1.0/relu"), numbered when its scope holds several
  /// ("features.0/relu#1", "features.0/relu#2").
  std::vector<std::string> displayNames() const;
};

} // namespace netc::dsl

#endif // NETC_DSL_GRAPH_H
