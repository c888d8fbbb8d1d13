//===- Dense.cpp - Fully connected layers ----------------------------------===//
//
// A linear layer is a stream over its weights: each output feature is a dot
// product along a contiguous row of W ([out, in], as in the checkpoint), so
// nothing is packed. A task takes a few rows of W and a few batch items:
// each vector of W read feeds every item, each vector of the input every
// row, and the partial sums (one vector per row and item) stay in registers
// until they are reduced across lanes at the end.
//
//===----------------------------------------------------------------------===//
#include "Templates.h"

namespace netc::lowering {

using namespace Halide;

namespace {

bool onCpu(mlir::Operation *, const PlanContext &ctx) { return !ctx.target.gpu(); }

/// The partial sums a feature's dot product is split into: an AVX-512
/// vector's worth on every x86 variant (two ymm registers on AVX2), so that
/// every variant of a library adds a linear layer's products in the same
/// order (an INT8 network's float32 classifier gives the same bits on each).
constexpr int kPartialSums = 16;

/// The general tile, `rows` features by `items` batch items (16 vector
/// accumulators); at batch 1, `rows_at_batch_1` features by the one item.
PlanParams linearPlan(mlir::Operation *, const PlanContext &, mlir::Builder &b) {
  return {{"rows", b.getI64IntegerAttr(4)},
          {"items", b.getI64IntegerAttr(4)},
          {"rows_at_batch_1", b.getI64IntegerAttr(16)}};
}

std::string linearCheck(mlir::Operation *, const PlanContext &, mlir::DictionaryAttr plan) {
  for (std::string p : {checkInt(plan, "rows", 1, 16), checkInt(plan, "items", 1, 8),
                        checkInt(plan, "rows_at_batch_1", 1, 32)})
    if (!p.empty())
      return p;
  return "";
}

Func linearEmit(mlir::Operation *operation, EmitContext &ctx) {
  auto op = mlir::cast<nn::LinearOp>(operation);
  const Vars &v = vars();
  llvm::ArrayRef<int64_t> w = op.weight().getType().cast<mlir::RankedTensorType>().getShape();
  const int V = kPartialSums;
  const int rows = static_cast<int>(planInt(ctx.plan, "rows"));
  const int items = static_cast<int>(planInt(ctx.plan, "items"));
  const int rowsAtBatch1 = static_cast<int>(planInt(ctx.plan, "rows_at_batch_1"));
  int inFeatures = static_cast<int>(w[1]);
  int blocks = inFeatures / V, rest = inFeatures % V;
  // W(i, f), as the checkpoint has it; in BF16 a pack of the same layout,
  // rounded at load and widened as it is read (a linear layer at batch 1
  // streams its weights: BF16 halves the bytes).
  ImageParam file = ctx.weights[0];
  std::function<Expr(Expr, Expr)> weight = [file](Expr i, Expr f) { return Expr(file(i, f)); };
  if (computesInBf16(operation)) {
    Var pi("pi"), pf("pf");
    Func pack("linear_pack_weight_bf16");
    pack(pi, pf) = roundToBf16(ctx.weights[0](pi, pf));
    ImageParam packed = ctx.addPack(pack, {w[0], w[1]}, DType::BF16);
    weight = [packed](Expr i, Expr f) { return cast<float>(packed(i, f)); };
  }
  // In INT8, s8 weights per row symmetric (PyTorch's per_channel_symmetric
  // qint8: scale[f] = max|W[f]| / 127.5), widened as they stream and summed
  // with the dequantized input in float32, the row's scale applied once at
  // the end: a quarter of FP32's weight bytes. (Not yet vpdpbusd: at batch
  // 1 a linear layer is bound by its weights' bytes.)
  Expr rowScale = 1.0f;
  if (computesInInt8(operation)) {
    Var pi("pi"), pf("pf");
    RDom rw(0, static_cast<int>(w[1]), "rw");
    Func absMax("linear_weight_absmax");
    absMax(pf) = maximum(abs(ctx.weights[0](rw, pf)));
    absMax.compute_root();
    // In IEEE arithmetic (strict_float), so every variant packs the same codes.
    Expr scale = select(absMax(pf) > 0.0f, strict_float(absMax(pf) / 127.5f), 1.0f);
    Func pack("linear_pack_weight_s8");
    pack(pi, pf) = cast<int8_t>(
        clamp(round(strict_float(ctx.weights[0](pi, pf) * (1.0f / scale))), -128.0f, 127.0f));
    Func packScale("linear_pack_weight_scale");
    packScale(pf) = scale;
    ImageParam packed = ctx.addPack(pack, {w[0], w[1]}, DType::I8);
    ImageParam scales = ctx.addPack(packScale, {w[0]});
    weight = [packed](Expr i, Expr f) { return cast<float>(packed(i, f)); };
    rowScale = scales(v.f);
  }

  // The input at a batch item clamped into the batch: a tile's items past
  // the end repeat the last one and are never stored.
  Expr lastItem = ctx.inputParams[0].dim(1).extent() - 1;
  auto x = [&](Expr i, Expr n) { return ctx.inputs[0](i, clamp(n, 0, lastItem)); };

  // Algorithm: y(f, n) = b(f) + sum_i x(i, n) * W(i, f), the sum split into
  // V lanes of partial sums over whole vectors plus the scalar remainder.
  Var lane("lane");
  Func partial("linear_partial");
  Expr bias = op.bias() ? Expr(ctx.weights[1](v.f)) : Expr(0.0f);
  bool int8 = computesInInt8(operation);
  Expr total = int8 ? Expr(0.0f) : bias; // INT8: the bias after the row's scale
  RDom r(0, std::max(blocks, 1), "r");
  if (blocks > 0) {
    partial(lane, v.f, v.n) = 0.0f;
    partial(lane, v.f, v.n) += x(r * V + lane, v.n) * weight(r * V + lane, v.f);
    // The lanes added in a fixed tree, which a batch-1 tile evaluates for
    // its 16 features at once, in vector lanes (see the schedule). Under
    // Halide's fast-math flags LLVM reassociated a plain sum differently in
    // the JIT and in the library (1 ulp apart), and the fixed tree
    // differently for AVX2 and AVX-512: in IEEE order (strict_float), every
    // variant adds the same way.
    std::vector<Expr> lanes;
    for (int l = 0; l < V; ++l)
      lanes.push_back(partial(l, v.f, v.n));
    while (lanes.size() > 1) {
      std::vector<Expr> pairs;
      for (size_t i = 0; i < lanes.size(); i += 2)
        pairs.push_back(i + 1 < lanes.size() ? lanes[i] + lanes[i + 1] : lanes[i]);
      lanes = std::move(pairs);
    }
    total = strict_float(total + lanes[0]);
  }
  if (rest > 0) {
    RDom t(blocks * V, rest, "t");
    total = total + sum(x(t, v.n) * weight(t, v.f));
  }
  Func linear("linear");
  linear(v.f, v.n) = strict_float(int8 ? bias + rowScale * total : total);

  // Schedule: tiles of `rows` features by `items` batch items, whose
  // partial sums live in registers (16 vectors) while their rows of W
  // stream; a task takes several tiles when a tile is small (LeNet's
  // layers), so each has at least ~64K multiply-adds to amortize waking a
  // thread. Batch 1, the common case, is specialized to 16 rows by 1 item:
  // the general 4 x 4 tile would repeat the one item 4 times. (LeNet-5's
  // 256 -> 120 layer: 4.6 -> 1.0 us; AlexNet, whole network, A/B in the
  // same minutes: 8.1 -> 7.6 ms.)
  auto tilesPerTask = [inFeatures](int rows, int items) {
    return std::max(1, 65536 / (inFeatures * rows * items));
  };
  Expr single = ctx.inputParams[0].dim(1).extent() == 1;
  ctx.schedule = [=](Func output) mutable {
    Var fo("fo"), fi("fi"), no("no"), ni("ni"), ft("ft"), task("task");
    auto tile = [&](Stage stage, int rows, int items) {
      stage.split(v.f, fo, fi, rows, TailStrategy::GuardWithIf)
          .split(v.n, no, ni, items, TailStrategy::GuardWithIf)
          .split(fo, fo, ft, tilesPerTask(rows, items), TailStrategy::GuardWithIf)
          .reorder(fi, ni, ft, fo, no)
          .fuse(fo, no, task)
          .parallel(task);
    };
    // Batch 1: the tile's 16 features in the lanes of its epilogue.
    Stage one = output.specialize(single);
    tile(one, rowsAtBatch1, 1);
    one.vectorize(fi);
    tile(output, rows, items);
    if (blocks == 0)
      return;
    partial.compute_at(output, ft);
    auto accumulate = [&](Stage stage, int items, bool update) {
      Var pn("pn"), pi("pi");
      stage.split(v.n, pn, pi, items, TailStrategy::RoundUp);
      if (update)
        stage.reorder(lane, v.f, pi, r.x, pn);
      else
        stage.reorder(lane, v.f, pi, pn);
      stage.vectorize(lane).unroll(v.f).unroll(pi);
    };
    accumulate(partial.specialize(single), 1, false);
    accumulate(partial, items, false);
    accumulate(partial.update().specialize(single), 1, true);
    accumulate(partial.update(), items, true);
  };
  return linear;
}

//===--- channel_linear ----------------------------------------------------===//

// FP32 only: a BF16 or INT8 channel linear is a 1x1 conv to the conv
// templates (convShapeOf, convWeight), on AMX tiles where there are.
bool channelLinearFits(mlir::Operation *op, const PlanContext &) {
  return !computesInBf16(op) && !computesInInt8(op);
}

Func channelLinearEmit(mlir::Operation *anchor, EmitContext &ctx) {
  // y(x, y, o, n) = b(o) + sum_c in(x, y, c, n) W(c, o), a 1x1 conv whose
  // weight is the Linear's [out, in], packed at load with o innermost.
  auto op = mlir::cast<nn::ChannelLinearOp>(anchor);
  const Vars &v = vars();
  llvm::ArrayRef<int64_t> w = op.weight().getType().cast<mlir::RankedTensorType>().getShape();
  int out = static_cast<int>(w[0]), in = static_cast<int>(w[1]);
  const int V = ctx.vectorWidth;
  const int64_t width = ctx.outputShape[3], height = ctx.outputShape[2];
  // Register tiles of `pixels` columns by `vectors` vectors of output
  // channels, at most 24 accumulators: per input channel `vectors` weight
  // loads and `pixels` broadcasts feed their product of FMAs. The columns
  // divide the row where a divisor in [4, 8] exists (ConvNeXt's 7, 14, 28,
  // 56: 7, 7, 7, 8), so no tile recomputes an overlap; the vectors divide
  // the channels where they can (3 x 16 for ConvNeXt's multiples of 96).
  // Where the channels hold no whole vector, one vector by up to 8 pixels,
  // guarded.
  int pixels = out >= V ? columnsPerTile(width, 8) : static_cast<int>(std::min<int64_t>(8, width));
  int vectors = out >= V ? vectorsPerTile(out, V, pixels, 4,
                                          std::min(24, ctx.target->accumulatorRegisters()))
                         : 0;
  // Tasks: image rows where the image is large; where it is small (14x14
  // and below) and the weights outweigh the input, blocks of output
  // channels over the whole image instead, so each task reads its slice of
  // the weights once from memory rather than every task all of them
  // (ConvNeXt's 7x7 stage: 9 MB of weights per 3072 -> 768 linear).
  int64_t weightBytes = int64_t{4} * in * out;
  int64_t inputBytes = int64_t{4} * in * width * height;
  bool channelTasks = !ctx.gpu && vectors && channelBlockTasks(height, weightBytes, inputBytes);
  // The weights, packed at load with the output channels innermost; for
  // channel-block tasks block after block ([out / block, in, block]), so
  // that a task streams its own slice in order instead of 192 bytes from
  // each of `in` rows 3 KB apart (ConvNeXt's 3072 -> 768 at 7x7).
  const int block = vectors ? vectors * V : V;
  bool blockMajor = channelTasks && out % block == 0;
  Var po("po"), pc("pc"), pb("pb");
  Func pack("channel_linear_pack");
  ImageParam packed;
  if (blockMajor) {
    pack(po, pc, pb) = ctx.weights[0](pc, pb * block + po);
    packed = ctx.addPack(pack, {out / block, in, block});
  } else {
    pack(po, pc) = ctx.weights[0](pc, po);
    packed = ctx.addPack(pack, {in, out});
  }
  auto weightAt = [=](Expr o, Expr i) {
    return blockMajor ? packed(o % block, i, o / block) : packed(o, i);
  };
  RDom r(0, in, "r");
  Func acc("channel_linear_acc"), result("channel_linear");
  acc(v.x, v.y, v.c, v.n) = op.bias() ? Expr(ctx.weights[1](v.c)) : Expr(0.0f);
  acc(v.x, v.y, v.c, v.n) += ctx.inputs[0](v.x, v.y, r.x, v.n) * weightAt(v.c, r.x);
  result(v.x, v.y, v.c, v.n) = acc(v.x, v.y, v.c, v.n);
  if (ctx.gpu)
    return result;
  ctx.schedule = [=](Func output) mutable {
    Var xo("xo"), xi("xi"), co("co"), ci("ci"), cv("cv"), cl("cl"), task("task");
    TailStrategy tail = vectors ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
    output.split(v.x, xo, xi, pixels, tail).split(v.c, co, ci, block, tail);
    if (channelTasks) {
      output.reorder(ci, xi, xo, v.y, co, v.n).fuse(co, v.n, task).parallel(task);
      acc.compute_at(output, xo);
    } else {
      output.reorder(ci, xi, co, xo, v.y, v.n).fuse(v.y, v.n, task).parallel(task);
      acc.compute_at(output, co);
    }
    acc.reorder_storage(v.c, v.x, v.y, v.n);
    if (vectors) {
      output.split(ci, cv, cl, V).vectorize(cl).unroll(cv).unroll(xi);
      acc.split(v.c, cv, cl, V).vectorize(cl).unroll(cv).unroll(v.x);
      acc.update()
          .split(v.c, cv, cl, V)
          .reorder(cl, cv, v.x, r.x, v.y, v.n)
          .vectorize(cl)
          .unroll(cv)
          .unroll(v.x);
    } else {
      output.vectorize(ci);
      acc.vectorize(v.c, V, TailStrategy::GuardWithIf);
      acc.update().reorder(v.c, v.x, r.x, v.y, v.n).vectorize(v.c, V, TailStrategy::GuardWithIf);
    }
  };
  return result;
}

} // namespace

Template linearTemplate() { return {"linear.cpu", onCpu, linearPlan, linearCheck, linearEmit}; }

Template channelLinearTemplate() {
  return {"channel_linear", channelLinearFits, nullptr, nullptr, channelLinearEmit};
}

} // namespace netc::lowering
