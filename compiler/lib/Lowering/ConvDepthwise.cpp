//===- ConvDepthwise.cpp - Depthwise convs: one channel per group ----------===//
//
// conv.depthwise serves a conv whose every group is one input and one
// output channel (MobileNet's, EfficientNet's, ConvNeXt's k x k layers) in
// FP32 between channels-last tensors. The general direct template spends a
// full register tile on a reduction of k*k products per output and copies
// the whole input with its halo first, which for a depthwise conv is as
// much memory traffic as the conv itself: it ran at 5-11 % of the FMA peak.
// Here the channels fill the vector lanes, a register tile is a few output
// columns by a few vectors of channels, the kernel window is unrolled so
// that neighbouring columns share the input vectors they load (stride 1:
// columns + k - 1 loads per row of taps instead of columns * k), and the
// input is read where it lies, with no halo copy (the emitter says how the
// image's border is kept out of the hot loop).
//
//===----------------------------------------------------------------------===//
#include "Templates.h"

namespace netc::lowering {

using namespace Halide;

namespace {

int64_t outputDim(mlir::Operation *op, int dim) {
  return op->getResult(0).getType().cast<mlir::RankedTensorType>().getShape()[dim];
}

bool depthwiseFits(mlir::Operation *op, const PlanContext &ctx) {
  if (ctx.target.gpu() || computesInBf16(op) || computesInInt8(op))
    return false;
  ConvShape conv = convShapeOf(op);
  return conv.cin == 1 && conv.groups == conv.cout && conv.cout >= ctx.target.lanes() &&
         layoutOf(op->getOperand(0)) == Layout::NHWC &&
         layoutOf(op->getResult(0)) == Layout::NHWC;
}

// A tile of `columns` output columns by `vectors` vectors of channels; the
// taps' input vectors and the tile's accumulators together within the
// target's registers. Row tasks as the direct template's.
PlanParams depthwisePlan(mlir::Operation *op, const PlanContext &ctx, mlir::Builder &b) {
  ConvShape conv = convShapeOf(op);
  const int V = ctx.target.lanes(), budget = ctx.target.accumulatorRegisters();
  int64_t width = outputDim(op, 3), height = outputDim(op, 2);
  int vectors = conv.cout % (2 * V) == 0 || conv.cout >= 4 * V ? 2 : 1;
  int columns = static_cast<int>(
      writtenInt(ctx, "columns", columnsPerTile(width, std::min<int>(8, budget / (2 * vectors)))));
  vectors = static_cast<int>(writtenInt(ctx, "vectors", vectors));
  int64_t rows = rowsPerTask(conv, {1, conv.cout, height, width});
  return {{"columns", b.getI64IntegerAttr(columns)},
          {"vectors", b.getI64IntegerAttr(vectors)},
          {"rows_per_task", b.getI64IntegerAttr(rows)}};
}

std::string depthwiseCheck(mlir::Operation *op, const PlanContext &ctx,
                           mlir::DictionaryAttr plan) {
  ConvShape conv = convShapeOf(op);
  const int V = ctx.target.lanes();
  std::string problem = checkInt(plan, "columns", 1, std::min<int64_t>(outputDim(op, 3), 16));
  if (problem.empty())
    problem = checkInt(plan, "vectors", 1, std::max(1, std::min(4, conv.cout / V)));
  if (problem.empty())
    problem = checkAccumulators(plan, ctx.target);
  if (problem.empty())
    problem = checkInt(plan, "rows_per_task", 1, outputDim(op, 2));
  return problem;
}

Func depthwiseEmit(mlir::Operation *op, EmitContext &ctx) {
  const Vars &v = vars();
  ConvShape shape = convShapeOf(op);
  const int V = ctx.vectorWidth;
  const int channels = shape.cout, kh = shape.kernel[0], kw = shape.kernel[1];
  int columns = static_cast<int>(planInt(ctx.plan, "columns"));
  int vectors = static_cast<int>(planInt(ctx.plan, "vectors"));
  int rowsPerTask = static_cast<int>(planInt(ctx.plan, "rows_per_task"));
  const int block = V * vectors;
  int padded = (channels + block - 1) / block * block;
  int tiles = (channels + block - 1) / block, tilesPerTask = tiles;
  // A staged input (an expansion computed per task, EmitContext::stageInput)
  // lives in the task's scratch and is recomputed where two tasks' rows
  // overlap. Tasks: bands of the fewest rows (from the plan's) for which
  // the overlaps add at most a quarter to the expansion and a task's rows
  // fit in a quarter of L2, balanced; where no bands do (a small image),
  // the whole image in two groups of channel tiles (an expansion's channels
  // are independent: groups recompute nothing). (MobileNetV2 at 224, 2
  // threads, Xeon: 2.29-2.49 ms in all against 2.79-2.86 with every
  // expansion a step of its own, medians of 30 profiles; its 7x7 blocks, 960
  // expanded channels, 0.196 ms each in one task, 0.062 in two groups, 0.077
  // unfused. Groups in every block, with bands as tall as a quarter of L2
  // allows: 2.49-2.52. EfficientNet-B0: 4.55-4.88 against 4.73-5.00.)
  std::function<void(Func, Var)> stage = ctx.stageInput;
  if (stage) {
    const std::vector<int64_t> &in = ctx.inputShapes[0];
    const int64_t height = ctx.outputShape[2], s = shape.stride[0], pad = shape.pad[0];
    const int64_t reach = int64_t{kh - 1} * shape.dilation[0] + 1;
    const int64_t rowBytes = int64_t{4} * in[3] * padded;
    // The expanded rows that bands of `rows` output rows compute in all.
    auto computed = [&](int64_t rows) {
      int64_t sum = 0;
      for (int64_t y = 0; y < height; y += rows) {
        int64_t last = std::min(height, y + rows) - 1;
        sum += std::min(in[2], last * s - pad + reach) - std::max<int64_t>(0, y * s - pad);
      }
      return sum;
    };
    int64_t rows = height;
    for (int64_t r = rowsPerTask; r < height; ++r)
      if (4 * computed(r) <= 5 * in[2] &&
          ((r - 1) * s + reach) * rowBytes <= ctx.target->l2Bytes / 4) {
        rows = r;
        break;
      }
    int64_t bands = (height + rows - 1) / rows;
    rowsPerTask = static_cast<int>((height + bands - 1) / bands);
    // Two groups, the second shifted inwards to whole groups; each must
    // hold a whole tile of the stage even where its last tile of the conv
    // is ragged (ShuffleNetV2 x0.5: 48 channels, tiles of 16 here and 32 in
    // the stage: groups of 32 would leave the second 16, one tile).
    int half = (tiles + 1) / 2;
    if (bands == 1 && half < tiles && half * block >= ctx.stageChannels + block)
      tilesPerTask = half;
  }

  // The weights, packed at load: (c, kx, ky), the BatchNorm's scale folded
  // in, zero past the channels.
  Var pc("pc"), px("px"), py("py");
  Expr co = clamp(pc, 0, channels - 1);
  Func packW("conv_dw_pack_weight");
  packW(pc, px, py) = select(pc < channels,
                             ctx.weights[0](px, py, 0, co) *
                                 foldedScaleAndBias(ctx, co, shape.hasBias).first,
                             0.0f);
  ImageParam weight = ctx.addPack(packW, {kh, kw, padded});
  ImageParam shift = packShift(shape, ctx, padded);

  // The input, zero outside the image. Columns: Halide's loop partitioning
  // moves the likely bounds test out of the interior's column tiles, so
  // only the border tiles test. Rows: the reduction's kernel rows are
  // limited to those inside the image (RDom::where becomes the kernel-row
  // loop's bounds), so nothing tests them at all (the clamp, which never
  // binds, is for bounds inference, which does not read the predicate).
  const std::vector<int64_t> &in = ctx.inputShapes[0];
  const int width = static_cast<int>(in[3]), height = static_cast<int>(in[2]);
  Func input("conv_dw_input");
  input(v.x, v.y, v.c, v.n) = select(likely(v.x >= 0 && v.x < width),
                                     ctx.inputs[0](clamp(v.x, 0, width - 1),
                                                   clamp(v.y, 0, height - 1), v.c, v.n),
                                     0.0f);
  RDom r(0, kw, 0, kh, "r");
  Expr row = v.y * shape.stride[0] - shape.pad[0] + r.y * shape.dilation[0];
  r.where(row >= 0 && row < height);
  Func conv("conv_dw");
  conv(v.x, v.y, v.c, v.n) = shift(v.c);
  conv(v.x, v.y, v.c, v.n) +=
      input(v.x * shape.stride[1] - shape.pad[1] + r.x * shape.dilation[1], row, v.c, v.n) *
      weight(v.c, r.x, r.y);

  const std::vector<int64_t> &out = ctx.outputShape;
  ctx.schedule = [=](Func output) mutable {
    Var co("co"), cv("cv"), xo("xo"), xi("xi"), yo("yo"), yi("yi"), task("task");
    TailStrategy channelTail =
        channels % block == 0 ? TailStrategy::RoundUp : TailStrategy::ShiftInwards;
    TailStrategy columnTail = out[3] % columns == 0 ? TailStrategy::RoundUp
                              : out[3] >= columns   ? TailStrategy::ShiftInwards
                                                    : TailStrategy::GuardWithIf;
    output.split(v.c, co, cv, block, channelTail)
        .split(v.x, xo, xi, columns, columnTail)
        .split(v.y, yo, yi, rowsPerTask, TailStrategy::GuardWithIf);
    if (tilesPerTask < tiles) {
      Var ct("ct"), band("band");
      output.split(co, ct, co, tilesPerTask, TailStrategy::ShiftInwards)
          .reorder(cv, xi, co, xo, yi, ct, yo, v.n)
          .fuse(ct, yo, band)
          .fuse(band, v.n, task);
    } else {
      output.reorder(cv, xi, co, xo, yi, yo, v.n).fuse(yo, v.n, task);
    }
    output.parallel(task)
        .vectorize(cv, V)
        .unroll(cv)
        .unroll(xi);
    if (stage)
      stage(output, task);
    conv.compute_at(output, co)
        .reorder_storage(v.c, v.x, v.y, v.n)
        .reorder(v.c, v.x, v.y, v.n)
        .vectorize(v.c, V)
        .unroll(v.c)
        .unroll(v.x);
    conv.update()
        .reorder(v.c, v.x, r.x, r.y, v.y, v.n)
        .vectorize(v.c, V)
        .unroll(v.c)
        .unroll(v.x)
        .unroll(r.x);
  };
  return conv;
}

} // namespace

Template convDepthwiseTemplate() {
  return {"conv.depthwise", depthwiseFits, depthwisePlan, depthwiseCheck, depthwiseEmit};
}

} // namespace netc::lowering
