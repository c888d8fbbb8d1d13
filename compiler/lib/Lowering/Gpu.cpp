//===- Gpu.cpp - The GPU schedules (CUDA; OpenCL for tests on the CPU) -----===//
//
// On a GPU target every step runs on the device, from the input copied in
// once to the output copied out once: each group's pipeline is scheduled so
// that no stage runs on the host (the runtime passes device-only buffers).
// The algorithms are the CPU's (the same folding of BatchNorm into packed
// weights, the same epilogues); only the loop structure differs:
//
//  - conv: a block of 32 threads, one output channel each (so a warp reads
//    consecutive weights, output channels innermost in the pack), each
//    thread accumulating a tile of output pixels in registers; the input
//    window of the block's tile is staged through shared memory a chunk of
//    input channels at a time, and the kernel window's columns unrolled.
//  - linear: split-K. Threads along the output features (coalesced reads of
//    the transposed weights), blocks over slices of the input features,
//    each thread a tile of batch items in registers; a second kernel adds
//    the slices' partial sums.
//  - everything else (pools, activations, sums, softmax, LRN, concats): one
//    thread per output element, in memory order; reductions per thread.
//
//===----------------------------------------------------------------------===//
#include "Templates.h"

namespace netc::lowering {

using namespace Halide;

namespace {

/// Threads per block along the output channels: a warp.
constexpr int kLanes = 32;

/// Input channels staged per step of the reduction: a divisor of the
/// group's channels, so every chunk is whole.
int stagedChannels(int cin) {
  for (int chunk : {8, 4})
    if (cin % chunk == 0)
      return chunk;
  return cin <= 16 ? cin : 1;
}

/// Slices of the input features a linear layer's sum is split into: the
/// most (a power of two up to 32) that divide them into slices of at least
/// 64, so the small layers stay one slice.
int featureSlices(int inFeatures) {
  int slices = 1;
  while (slices < 32 && inFeatures % (slices * 2) == 0 && inFeatures / (slices * 2) >= 64)
    slices *= 2;
  return slices;
}

bool onGpu(mlir::Operation *, const PlanContext &ctx) { return ctx.target.gpu(); }

/// Output pixels per thread: 4x4 (16 accumulators, each weight read feeding
/// 16 multiply-adds), smaller when that leaves fewer than 256 blocks for
/// one image (two per SM of a large GPU): ResNet's 7x7 layers get 2x2. The
/// input channels staged in shared memory per step of the reduction.
PlanParams convGpuPlan(mlir::Operation *op, const PlanContext &, mlir::Builder &b) {
  ConvShape shape = convShapeOf(op);
  llvm::ArrayRef<int64_t> out = op->getResult(0).getType().cast<mlir::RankedTensorType>().getShape();
  int lanes = std::min(shape.cout, kLanes);
  int tileX = 1, tileY = 1;
  static const int tiles[][2] = {{4, 4}, {4, 2}, {2, 2}, {2, 1}, {1, 1}};
  for (const int *tile : tiles) {
    tileX = static_cast<int>(std::min<int64_t>(out[3], tile[0]));
    tileY = static_cast<int>(std::min<int64_t>(out[2], tile[1]));
    int64_t blocks = (out[3] + tileX - 1) / tileX * ((out[2] + tileY - 1) / tileY) *
                     ((shape.cout + lanes - 1) / lanes);
    if (blocks >= 256)
      break;
  }
  return {{"tile_x", b.getI64IntegerAttr(tileX)},
          {"tile_y", b.getI64IntegerAttr(tileY)},
          {"chunk", b.getI64IntegerAttr(stagedChannels(shape.cin))}};
}

std::string convGpuCheck(mlir::Operation *op, const PlanContext &, mlir::DictionaryAttr plan) {
  ConvShape shape = convShapeOf(op);
  llvm::ArrayRef<int64_t> out = op->getResult(0).getType().cast<mlir::RankedTensorType>().getShape();
  for (std::string p : {checkInt(plan, "tile_x", 1, std::min<int64_t>(out[3], 8)),
                        checkInt(plan, "tile_y", 1, std::min<int64_t>(out[2], 8)),
                        checkInt(plan, "chunk", 1, shape.cin)})
    if (!p.empty())
      return p;
  if (shape.cin % planInt(plan, "chunk") != 0)
    return "chunk " + std::to_string(planInt(plan, "chunk")) + " does not divide the " +
           std::to_string(shape.cin) + " input channels";
  return "";
}

Func convGpuEmit(mlir::Operation *op, EmitContext &ctx) {
  const Vars &v = vars();
  ConvShape shape = convShapeOf(op);
  int cout = shape.cout, cinPerGroup = shape.cin;
  int kh = shape.kernel[0], kw = shape.kernel[1];

  // Pack: packed(co, ci, kx, ky) = W[co, ci, ky, kx] * bn_scale[co], output
  // channels innermost (a warp's 32 threads read 128 consecutive bytes).
  Var pc("pc"), pi("pi"), px("px"), py("py");
  Func packW("conv_pack_weight"), packB("conv_pack_bias");
  packW(pc, pi, px, py) =
      ctx.weights[0](px, py, pi, pc) * foldedScaleAndBias(ctx, pc, shape.hasBias).first;
  ImageParam weight = ctx.addPack(packW, {kh, kw, cinPerGroup, cout});
  packB(pc) = foldedScaleAndBias(ctx, pc, shape.hasBias).second;
  ImageParam shift = ctx.addPack(packB, {cout});

  // Algorithm: the CPU's, the input with a zero halo, then the sum over the
  // group's input channels and the kernel window.
  RDom r(0, cinPerGroup, 0, kw, 0, kh, "r");
  Func padded = zeroHalo(ctx, "conv_padded");
  Func conv = convolve(
      shape, padded, r, [&](Expr c, Expr ci, Expr kx, Expr ky) { return weight(c, ci, kx, ky); },
      shift);

  // Schedule. Every split is whole or shifts inwards (recomputing a few
  // outputs at the ragged edge), so each block's tile has constant extents
  // and its accumulators can live in registers.
  int lanes = std::min(cout, kLanes);
  int tileX = static_cast<int>(planInt(ctx.plan, "tile_x"));
  int tileY = static_cast<int>(planInt(ctx.plan, "tile_y"));
  int chunk = static_cast<int>(planInt(ctx.plan, "chunk"));
  Layout inputLayout = ctx.inputLayouts[0];
  bool warpLanes = ctx.target->warpLanes();
  ctx.schedule = [=](Func output) mutable {
    // The channel loop across a warp's threads: as lanes on CUDA, so each
    // thread's accumulators are registers of its own, not a slice of a
    // block-wide array in local memory.
    auto acrossWarp = [warpLanes](auto &&stage, Var lane) {
      if (warpLanes)
        stage.gpu_lanes(lane);
      else
        stage.gpu_threads(lane);
    };
    Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), co("co"), cl("cl"), block("block");
    output.split(v.x, xo, xi, tileX, TailStrategy::ShiftInwards)
        .split(v.y, yo, yi, tileY, TailStrategy::ShiftInwards)
        .split(v.c, co, cl, lanes, TailStrategy::ShiftInwards)
        .reorder(xi, yi, cl, xo, yo, co, v.n)
        .unroll(xi)
        .unroll(yi)
        .fuse(co, v.n, block)
        .gpu_blocks(xo, yo, block);
    acrossWarp(output, cl);
    conv.compute_at(output, xo).store_in(MemoryType::Register).unroll(v.x).unroll(v.y);
    acrossWarp(conv, v.c);
    RVar rxo("rxo"), rxi("rxi");
    Stage update = conv.update();
    update.split(r.x, rxo, rxi, chunk)
        .reorder(v.c, v.x, v.y, r.y, rxi, r.z, rxo)
        .unroll(v.x)
        .unroll(v.y);
    acrossWarp(update, v.c);
    if (kw <= 3)
      update.unroll(r.y);
    // The block's input window for one chunk of channels, loaded by all
    // its threads in memory order into shared memory.
    Func staged = padded.in();
    staged.compute_at(conv, rxo);
    Var a("a"), b("b"), all("all"), so("so"), si("si");
    if (inputLayout == Layout::NHWC)
      staged.reorder(v.c, v.x, v.y, v.n).fuse(v.c, v.x, a);
    else
      staged.fuse(v.x, v.y, a).reorder(a, v.c, v.n);
    staged.fuse(a, inputLayout == Layout::NHWC ? v.y : v.c, b)
        .fuse(b, v.n, all)
        .split(all, so, si, lanes, TailStrategy::GuardWithIf);
    acrossWarp(staged, si);
  };
  return conv;
}

PlanParams linearGpuPlan(mlir::Operation *op, const PlanContext &, mlir::Builder &b) {
  auto linear = mlir::cast<nn::LinearOp>(op);
  int64_t in = linear.weight().getType().cast<mlir::RankedTensorType>().getShape()[1];
  return {{"slices", b.getI64IntegerAttr(featureSlices(static_cast<int>(in)))}};
}

std::string linearGpuCheck(mlir::Operation *op, const PlanContext &, mlir::DictionaryAttr plan) {
  auto linear = mlir::cast<nn::LinearOp>(op);
  int64_t in = linear.weight().getType().cast<mlir::RankedTensorType>().getShape()[1];
  std::string problem = checkInt(plan, "slices", 1, std::min<int64_t>(in, 1024));
  if (problem.empty() && in % planInt(plan, "slices") != 0)
    problem = "slices " + std::to_string(planInt(plan, "slices")) + " does not divide the " +
              std::to_string(in) + " input features";
  return problem;
}

Func linearGpuEmit(mlir::Operation *operation, EmitContext &ctx) {
  auto op = mlir::cast<nn::LinearOp>(operation);
  const Vars &v = vars();
  llvm::ArrayRef<int64_t> w = op.weight().getType().cast<mlir::RankedTensorType>().getShape();
  int outFeatures = static_cast<int>(w[0]), inFeatures = static_cast<int>(w[1]);
  // Pack: the weights transposed, output features innermost, so the
  // threads of a block (consecutive features) read consecutive floats.
  Var pf("pf"), pk("pk");
  Func packT("linear_pack_weight");
  packT(pf, pk) = ctx.weights[0](pk, pf);
  ImageParam weight = ctx.addPack(packT, {inFeatures, outFeatures});

  // Algorithm: partial sums over `slices` slices of the input features,
  // then their sum plus the bias. The input is read at a batch item clamped
  // into the batch, so a thread's tile of items may run past its end.
  int slices = static_cast<int>(planInt(ctx.plan, "slices")), slice = inFeatures / slices;
  Expr lastItem = ctx.inputParams[0].dim(1).extent() - 1;
  Var s("s");
  RDom k(0, slice, "k");
  Func acc("linear_acc"), partial("linear_partial");
  acc(v.f, s, v.n) = 0.0f;
  acc(v.f, s, v.n) +=
      ctx.inputs[0](s * slice + k, clamp(v.n, 0, lastItem)) * weight(v.f, s * slice + k);
  partial(v.f, s, v.n) = acc(v.f, s, v.n);
  RDom rs(0, slices, "rs");
  Func total("linear_total");
  total(v.f, v.n) = 0.0f;
  total(v.f, v.n) += partial(v.f, rs, v.n);
  Func linear("linear");
  linear(v.f, v.n) = (op.bias() ? Expr(ctx.weights[1](v.f)) : Expr(0.0f)) + total(v.f, v.n);

  // Schedule: a thread per (feature, slice, tile of batch items), its
  // items' sums in registers, so each weight it reads (coalesced across the
  // block's features) feeds every item: 4 at a time, or the one at batch 1.
  Expr single = ctx.inputParams[0].dim(1).extent() == 1;
  ctx.schedule = [=](Func output) mutable {
    Var fo("fo"), fi("fi"), no("no"), ni("ni");
    auto tile = [&](Stage stage, int items) {
      stage.split(v.n, no, ni, items, TailStrategy::RoundUp)
          .split(v.f, fo, fi, kLanes, TailStrategy::GuardWithIf)
          .reorder(ni, fi, fo, s, no)
          .unroll(ni)
          .gpu_blocks(fo, s, no)
          .gpu_threads(fi);
    };
    partial.compute_root();
    tile(partial.specialize(single), 1);
    tile(partial, 4);
    acc.compute_at(partial, fi).store_in(MemoryType::Register).unroll(v.n);
    Stage update = acc.update();
    update.reorder(v.n, k.x).unroll(v.n);
    if (slice % 4 == 0) {
      RVar ko("ko"), ki("ki");
      update.split(k.x, ko, ki, 4).unroll(ki);
    }
    output.split(v.f, fo, fi, kLanes * 2, TailStrategy::GuardWithIf)
        .gpu_blocks(fo, v.n)
        .gpu_threads(fi);
    total.compute_at(output, fi);
  };
  return linear;
}

} // namespace

Template convGpuTemplate() { return {"conv.gpu", onGpu, convGpuPlan, convGpuCheck, convGpuEmit}; }

Template linearGpuTemplate() {
  return {"linear.gpu", onGpu, linearGpuPlan, linearGpuCheck, linearGpuEmit};
}

void scheduleOutputGpu(Func output, const std::vector<int64_t> &shape, Layout layout) {
  const Vars &v = vars();
  Var a("a"), b("b"), all("all"), blocks("blocks"), threads("threads");
  if (shape.size() == 4) {
    if (layout == Layout::NHWC)
      output.reorder(v.c, v.x, v.y, v.n).fuse(v.c, v.x, a).fuse(a, v.y, b);
    else
      output.fuse(v.x, v.y, a).fuse(a, v.c, b);
    output.fuse(b, v.n, all);
  } else {
    output.fuse(v.f, v.n, all);
  }
  output.split(all, blocks, threads, 4 * kLanes, TailStrategy::GuardWithIf)
      .gpu_blocks(blocks)
      .gpu_threads(threads);
}

} // namespace netc::lowering
