//===- Calibrate.cpp - netc calibrate, and reading what it writes ---------===//
//
// Static post-training quantization needs each activation tensor's range.
// `netc calibrate` runs the FP32 network (the JIT, one step at a time over
// one arena) on a calibration batch, measures every stored tensor where its
// step leaves it, and writes each tensor's u8 quantization, keyed by the
// module path of the step that writes it (the names of --summary and of
// `netc run --profile`), in program order:
//
//   {"format": "netc-qparams", "version": 1, "network": "resnet18",
//    "method": "minmax", "calibration": {"input": "calib.npy", "batch": 32},
//    "tensors": {
//      "input":  {"scale": 0.0186, "zero_point": 114, "min": -2.118, "max": 2.64},
//      "conv1":  {"scale": 0.0307, "zero_point": 0, "min": 0, "max": 7.83},
//      ...}}
//
// real = scale * (q - zero_point), q in [0, 255], as PyTorch's quint8: the
// range always holds 0 (so zero padding is exact), scale = (max - min) /
// 255, zero_point = round(-min / scale). A conv's key covers what its step
// computes: its BatchNorm, residual sum and activation. An in-place concat's
// tensor has one entry (its operands write with it); `netc --precision int8
// --qparams Q.json` reads this back.
//
//===----------------------------------------------------------------------===//
#include "Driver.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace netc::driver {

namespace {

using netc::lowering::Program;
using netc::lowering::QParams;
using netc::lowering::Tensor;

constexpr int kBins = 2048;

/// What calibration knows of one tensor: its range, then (for percentile
/// and mse) a histogram over it.
struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  std::vector<double> bins;
  int64_t values = 0, nonFinite = 0;
};

/// Calls `visit` on every element step output tensor `t` holds for this
/// batch: rank 2 or 4, NCHW or NHWC, a slice of its concat's channels.
template <typename Visit>
void forEachElement(const Program &p, int t, const unsigned char *arena, int batch, Visit visit) {
  const Tensor &tensor = p.tensors[static_cast<size_t>(t)];
  const Tensor &owner = p.tensors[static_cast<size_t>(p.ownerOf(t))];
  const float *base = reinterpret_cast<const float *>(arena + owner.offset * batch);
  int64_t perSample = owner.perSample();
  if (!tensor.slice) {
    for (int64_t i = 0; i < perSample * batch; ++i)
      visit(base[i]);
    return;
  }
  int64_t channels = owner.shape[1], pixels = owner.shape[2] * owner.shape[3];
  int64_t first = tensor.channelOffset, count = tensor.shape[1];
  for (int n = 0; n < batch; ++n) {
    const float *sample = base + n * perSample;
    if (owner.layout == netc::lowering::Layout::NHWC) {
      for (int64_t px = 0; px < pixels; ++px)
        for (int64_t c = first; c < first + count; ++c)
          visit(sample[px * channels + c]);
    } else {
      for (int64_t i = first * pixels; i < (first + count) * pixels; ++i)
        visit(sample[i]);
    }
  }
}

/// PyTorch's MinMaxObserver for quint8 (per tensor, affine) on [lo, hi].
QParams affineU8(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  const double eps = std::numeric_limits<float>::epsilon();
  QParams q;
  q.scale = static_cast<float>(std::max((hi - lo) / 255.0, eps));
  q.zeroPoint = std::clamp<int64_t>(static_cast<int64_t>(std::nearbyint(-lo / q.scale)), 0, 255);
  return q;
}

/// The value below which `fraction` of the histogram's mass lies.
double quantile(const Range &r, double fraction) {
  double total = 0;
  for (double b : r.bins)
    total += b;
  double width = (r.hi - r.lo) / kBins, seen = 0;
  for (int i = 0; i < kBins; ++i) {
    seen += r.bins[static_cast<size_t>(i)];
    if (seen >= fraction * total)
      return r.lo + (i + 1) * width;
  }
  return r.hi;
}

/// The clipping range [a, b] of the histogram whose u8 quantization has
/// the least squared error (clipping plus rounding), searched as PyTorch's
/// HistogramObserver does: from the full range, move whichever end lowers
/// the error by one step of bins, until neither does.
std::pair<double, double> leastSquaredError(const Range &r) {
  double width = (r.hi - r.lo) / kBins;
  auto error = [&](int first, int last) { // bins [first, last] kept
    double a = r.lo + first * width, b = r.lo + (last + 1) * width;
    QParams q = affineU8(a, b);
    double lo = q.scale * (0 - q.zeroPoint), hi = q.scale * (255 - q.zeroPoint);
    double sum = 0;
    for (int i = 0; i < kBins; ++i) {
      double count = r.bins[static_cast<size_t>(i)];
      if (count == 0)
        continue;
      double x = r.lo + (i + 0.5) * width;
      double e = x < lo ? lo - x : x > hi ? x - hi : 0;
      sum += count * (e * e + q.scale * q.scale / 12);
    }
    return sum;
  };
  int first = 0, last = kBins - 1, step = kBins / 256;
  double best = error(first, last);
  while (last - first > 2 * step) {
    double left = error(first + step, last), right = error(first, last - step);
    if (std::min(left, right) >= best)
      break;
    if (left < right)
      first += step, best = left;
    else
      last -= step, best = right;
  }
  return {r.lo + first * width, r.lo + (last + 1) * width};
}

/// Writes `text` to `path` through a temporary file renamed into place.
bool writeAtomically(const std::string &path, const std::string &text) {
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary);
    out << text;
    out.flush();
    if (!out) {
      fail("cannot write " + temporary);
      std::remove(temporary.c_str());
      return false;
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(temporary, path)) {
    std::remove(temporary.c_str());
    fail("cannot write " + path + ": " + ec.message());
    return false;
  }
  return true;
}

} // namespace

int calibrate(Options &options, const CalibrateOptions &calibration) {
  std::vector<Array> inputs;
  if (!readInputs({calibration.input}, inputs))
    return 1;
  // The tensors an INT8 plan stores, each measured on its own (an FP32
  // plan writes shared concat operands into their concats and never stores
  // a conv's BatchNorm prologue).
  options.fusions = false;
  JitSession session;
  if (!startJit(options, {calibration.input}, inputs, calibration.weights, "", session))
    return 1;
  const Program &p = session.program;
  const netc_array &input = *inputs.front();
  int batch = static_cast<int>(input.shape[0]);
  int64_t inputCount = 1;
  for (int d = 0; d < input.rank; ++d)
    inputCount *= input.shape[d];

  // Keys in program order: the input, then each step's (a slice: its concat's).
  std::vector<std::string> order = {"input"};
  std::map<std::string, Range> ranges;
  auto keyOf = [&](int t) { return p.tensors[static_cast<size_t>(p.ownerOf(t))].name; };
  for (const netc::lowering::Step &step : p.steps) {
    const Tensor &owner = p.tensors[static_cast<size_t>(p.ownerOf(step.output))];
    if (owner.kind != Tensor::Kind::Arena)
      continue; // the network's output, float32 for the caller
    if (!ranges.count(keyOf(step.output)))
      order.push_back(keyOf(step.output));
    ranges[keyOf(step.output)];
  }
  ranges["input"];
  // Pass 1: the ranges; pass 2 (percentile, mse): histograms over them.
  bool histograms = calibration.method != "minmax";
  for (int pass = 0; pass < (histograms ? 2 : 1); ++pass) {
    auto record = [&](Range &r) {
      return [&r, pass](float value) {
        if (!std::isfinite(value)) {
          r.nonFinite += pass == 0;
          return;
        }
        if (pass == 0) {
          r.lo = std::min<double>(r.lo, value);
          r.hi = std::max<double>(r.hi, value);
          ++r.values;
          return;
        }
        double width = (r.hi - r.lo) / kBins;
        int bin = width > 0 ? static_cast<int>((value - r.lo) / width) : 0;
        r.bins[static_cast<size_t>(std::clamp(bin, 0, kBins - 1))] += 1;
      };
    };
    if (pass == 1)
      for (auto &[key, r] : ranges)
        r.bins.assign(kBins, 0.0);
    auto inputRecord = record(ranges["input"]);
    for (int64_t i = 0; i < inputCount; ++i)
      inputRecord(input.data[i]);
    std::string error;
    bool ok = session.runner->observe(
        input.data, batch, calibration.threads,
        [&](size_t s, const unsigned char *arena, const float *) {
          int t = p.steps[s].output;
          if (p.tensors[static_cast<size_t>(p.ownerOf(t))].kind != Tensor::Kind::Arena)
            return;
          forEachElement(p, t, arena, batch, record(ranges[keyOf(t)]));
        },
        error);
    if (!ok)
      return fail(calibration.input + ": " + error);
  }

  nlohmann::ordered_json tensors = nlohmann::ordered_json::object();
  for (const std::string &key : order) {
    Range &r = ranges[key];
    if (r.values == 0)
      return fail(calibration.input + ": every value of tensor '" + key +
                  "' on the calibration batch is NaN or infinite: its range cannot be "
                  "measured");
    double lo = r.lo, hi = r.hi;
    if (calibration.method == "percentile" && hi > lo) {
      lo = quantile(r, 0.0001);
      hi = quantile(r, 0.9999);
    } else if (calibration.method == "mse" && hi > lo) {
      std::tie(lo, hi) = leastSquaredError(r);
    }
    QParams q = affineU8(lo, hi);
    tensors[key] = {{"scale", q.scale}, {"zero_point", q.zeroPoint}, {"min", r.lo}, {"max", r.hi}};
  }
  nlohmann::ordered_json doc = {
      {"format", "netc-qparams"},
      {"version", 1},
      {"network", p.name},
      {"method", calibration.method},
      {"calibration", {{"input", calibration.input}, {"batch", batch}}},
      {"tensors", tensors}};
  if (!writeAtomically(calibration.output, doc.dump(2) + "\n"))
    return 1;
  llvm::outs() << "wrote " << calibration.output << ": " << order.size() << " tensors of "
               << p.name << ", " << calibration.method << " over a batch of " << batch << "\n";
  return 0;
}

bool readQParams(const std::string &path, std::map<std::string, QParams> &qparams) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail("cannot read --qparams " + path + " (write it with netc calibrate)");
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string &why) {
    fail(path + ": " + why);
    return false;
  };
  if (doc.is_discarded())
    return bad("not valid JSON");
  if (!doc.is_object() || doc.value("format", "") != "netc-qparams")
    return bad("not a netc Q.json (no \"format\": \"netc-qparams\"; write it with netc "
               "calibrate)");
  if (!doc.contains("version") || !doc["version"].is_number_integer() || doc["version"] != 1)
    return bad("version " + (doc.contains("version") ? doc["version"].dump() : "(none)") +
               " is not one this netc reads (1)");
  if (!doc.contains("tensors") || !doc["tensors"].is_object())
    return bad("\"tensors\" must be an object of {\"scale\": S, \"zero_point\": Z} by tensor "
               "key");
  for (auto &[key, entry] : doc["tensors"].items()) {
    std::string where = "tensor '" + key + "': ";
    if (!entry.is_object() || !entry.contains("scale") || !entry.contains("zero_point"))
      return bad(where + "needs \"scale\" and \"zero_point\"");
    const nlohmann::json &scale = entry["scale"], &zero = entry["zero_point"];
    if (!scale.is_number() || !std::isfinite(scale.get<double>()) || scale.get<double>() <= 0 ||
        scale.get<double>() > std::numeric_limits<float>::max())
      return bad(where + "scale " + scale.dump() + " is not a positive finite float32");
    if (!zero.is_number_integer() || zero.get<int64_t>() < 0 || zero.get<int64_t>() > 255)
      return bad(where + "zero_point " + zero.dump() + " is not an integer in [0, 255] (u8)");
    qparams[key] = QParams{scale.get<double>(), zero.get<int64_t>()};
  }
  return true;
}

} // namespace netc::driver
