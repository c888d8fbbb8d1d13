//===- Conv.cpp - 2-d convolution ------------------------------------------===//
//
// One template for every conv: output channels in vector lanes, a register
// tile of output channels x output columns, the reduction (input channels
// innermost, then the kernel window) inside it (a conv with fewer channels
// than a vector, written NCHW, puts output columns in the lanes instead). The weights are packed once
// at load, output channels innermost and padded to whole vectors, with a
// BatchNorm that follows the conv folded in; the input is copied with a zero
// halo next to the parallel loop, so the hot loop has no boundary test.
//
//===----------------------------------------------------------------------===//
#include "Emit.h"

namespace netc::lowering {

using namespace Halide;

namespace {

/// The shape and attributes of nn.conv2d or nn.fused_conv2d.
template <typename Op> ConvShape read(Op op) {
  llvm::ArrayRef<int64_t> w =
      op.weight().getType().template cast<mlir::RankedTensorType>().getShape();
  ConvShape s;
  s.cout = static_cast<int>(w[0]);
  s.cin = static_cast<int>(w[1]);
  s.kernel[0] = static_cast<int>(w[2]);
  s.kernel[1] = static_cast<int>(w[3]);
  auto set = [](mlir::ArrayAttr attr, int out[2]) {
    int64_t pair[2];
    readPair(attr, pair);
    out[0] = static_cast<int>(pair[0]);
    out[1] = static_cast<int>(pair[1]);
  };
  set(op.stride(), s.stride);
  set(op.pad(), s.pad);
  set(op.dilation(), s.dilation);
  s.groups = static_cast<int>(op.groups());
  s.hasBias = static_cast<bool>(op.bias());
  return s;
}

} // namespace

/// Output columns per register tile: a divisor of the width in [4, most] if
/// there is one (no ragged tile), else 8, or the whole row when narrower.
int columnsPerTile(int64_t width, int most) {
  for (int t = most; t >= 4; --t)
    if (width % t == 0)
      return t;
  return static_cast<int>(std::min<int64_t>(width, 8));
}

/// Vectors of output channels per tile: the most (up to `most`) that keep
/// the tile within 28 of the 32 vector registers (the rest hold weights and
/// a broadcast) and divide the channels evenly; else 2 (or 1), with padding.
int vectorsPerTile(int cout, int V, int columns, int most) {
  for (int v = most; v >= 1; --v)
    if (v * columns <= 28 && cout % (v * V) == 0)
      return v;
  return cout > V ? 2 : 1;
}

bool channelBlockTasks(int64_t outHeight, int64_t weightBytes, int64_t inputBytes) {
  return outHeight > 14 ? weightBytes > (int64_t{4} << 20) : weightBytes > inputBytes;
}

std::pair<Expr, Expr> foldedScaleAndBias(const EmitContext &ctx, Expr co, bool hasBias) {
  Expr scale = 1.0f, bias = hasBias ? Expr(ctx.weights[1](co)) : Expr(0.0f);
  if (ctx.bnEps) {
    const std::vector<ImageParam> &bn = ctx.weights;
    size_t b = ctx.bnFirst; // gamma, beta, mean, var
    float eps = static_cast<float>(*ctx.bnEps);
    scale = bn[b](co) / sqrt(bn[b + 3](co) + eps);
    bias = (bias - bn[b + 2](co)) * scale + bn[b + 1](co);
  }
  return {scale, bias};
}

Func zeroHalo(const EmitContext &ctx, const char *name) {
  const Vars &v = vars();
  const std::vector<int64_t> &in = ctx.inputShapes[0]; // N C H W
  Func padded(name);
  padded(v.x, v.y, v.c, v.n) = BoundaryConditions::constant_exterior(
      ctx.inputs[0], 0.0f,
      {{0, static_cast<int>(in[3])}, {0, static_cast<int>(in[2])}})(v.x, v.y, v.c, v.n);
  return padded;
}

Func convolve(const ConvShape &shape, Func padded, const RDom &r,
              const std::function<Expr(Expr, Expr, Expr, Expr)> &weightAt, ImageParam shift) {
  const Vars &v = vars();
  const int *stride = shape.stride, *pad = shape.pad, *dilation = shape.dilation;
  int coutPerGroup = shape.cout / shape.groups;
  // Channels past `cout` (a padded tile) read the last group: their
  // weights are zero, and the input stays in bounds.
  Expr ci = shape.groups == 1
                ? Expr(r.x)
                : min(v.c / coutPerGroup, shape.groups - 1) * shape.cin + r.x;
  Func conv("conv");
  conv(v.x, v.y, v.c, v.n) = shift(v.c);
  conv(v.x, v.y, v.c, v.n) +=
      padded(v.x * stride[1] - pad[1] + r.y * dilation[1],
             v.y * stride[0] - pad[0] + r.z * dilation[0], ci, v.n) *
      weightAt(v.c, r.x, r.y, r.z);
  return conv;
}

Func emitConv2d(mlir::Operation *op, EmitContext &ctx) {
  const Vars &v = vars();
  ConvShape shape = mlir::isa<nn::Conv2dOp>(op) ? read(mlir::cast<nn::Conv2dOp>(op))
                                                 : read(mlir::cast<nn::FusedConv2dOp>(op));
  if (ctx.gpu)
    return emitConvGpu(shape, ctx);
  if (winogradFits(shape, ctx))
    return emitWinogradConv(shape, ctx);
  const std::vector<int64_t> &in = ctx.inputShapes[0]; // N C H W
  const int *pad = shape.pad;
  const int V = ctx.vectorWidth;
  int groups = shape.groups;
  int cout = shape.cout, cinPerGroup = shape.cin;
  int kh = shape.kernel[0], kw = shape.kernel[1];
  // Whole tiles of `vectors` x V output channels by `columns` output
  // columns; the packed weights are zero past `cout`, so the last tile
  // needs no guard.
  //
  // Tasks: a few output rows each when the image is larger than 14x14 and
  // the weights small enough (4 MB) to re-read per row from cache;
  // otherwise, when the weights outweigh the input (ResNet's layer3 and
  // layer4, VGG's last blocks), a block of output channels over the whole
  // image each, so each weight is read once per task. Row tasks keep 2
  // vectors per tile (measured best at 28x28 and 56x56); channel-block
  // tasks take up to 4, as reuse of each broadcast pixel is all they have.
  // (ResNet-50, per-step profile: layer3's 3x3 convs 58 % -> 81 % of peak,
  // layer4's 37 % -> 62 %.)
  const std::vector<int64_t> &out = ctx.outputShape;
  int64_t weightBytes = int64_t{4} * kh * kw * cinPerGroup * cout;
  int64_t inputBytes = int64_t{4} * in[1] * in[2] * in[3];
  bool channelBlocksOuter = channelBlockTasks(out[2], weightBytes, inputBytes);
  // Row tasks on AVX-512 (32 registers) take up to 12 columns, so a width
  // with no divisor in [4, 8] still gets whole tiles (AlexNet's 27: 9, not
  // 4 tiles of 8 for 27 columns; its 55: 11, not 5).
  int columns = columnsPerTile(out[3], !channelBlocksOuter && V >= 16 ? 12 : 8);
  int vectors = vectorsPerTile(cout, V, columns, channelBlocksOuter ? 4 : 2);
  int coutPadded = (cout + V * vectors - 1) / (V * vectors) * (V * vectors);
  bool hasBias = shape.hasBias;

  // Pack: packed(co, ci, kx, ky) = W[co, ci, ky, kx] * bn_scale[co], output
  // channels innermost, zero past `cout`; bias likewise.
  //
  // Channel-block tasks read one block of `block` output channels each:
  // their weights are stored block after block, so a task streams its own
  // in order and the hardware prefetcher follows. Channels innermost over
  // all of `cout` put each input channel's few hundred bytes on a page of
  // its own (2048 channels: 8 KB apart), and at batch 1, where layer4's
  // weights come from DRAM, every one was a demand miss. (ResNet-50's
  // layer4 steps, A/B of per-step minima over 3 rounds: 8-14 % faster each,
  // with Winograd's weights stored the same way; the step sum 19.1 -> 18.3 ms.)
  const int block = V * vectors;
  bool blockMajor = channelBlocksOuter && groups == 1 && cout % block == 0;
  Var pc("pc"), pi("pi"), px("px"), py("py"), pb("pb");
  Expr co = clamp(pc, 0, cout - 1);
  Expr channel = blockMajor ? pb * block + pc : co;
  Expr value = ctx.weights[0](px, py, pi, channel) *
               foldedScaleAndBias(ctx, channel, hasBias).first;
  Func packW("conv_pack_weight"), packB("conv_pack_bias");
  ImageParam weight;
  if (blockMajor) {
    packW(pc, pi, px, py, pb) = value;
    weight = ctx.addPack(packW, {cout / block, kh, kw, cinPerGroup, block});
  } else {
    packW(pc, pi, px, py) = select(pc < cout, value, 0.0f);
    weight = ctx.addPack(packW, {kh, kw, cinPerGroup, coutPadded});
  }
  auto weightAt = [=](Expr c, Expr ci, Expr kx, Expr ky) {
    return blockMajor ? weight(c % block, ci, kx, ky, c / block) : weight(c, ci, kx, ky);
  };
  packB(pc) = select(pc < cout, foldedScaleAndBias(ctx, co, hasBias).second, 0.0f);
  ImageParam shift = ctx.addPack(packB, {coutPadded});

  // Algorithm: the input with a zero halo, then the sum over the group's
  // input channels and the kernel window.
  bool unpadded = pad[0] == 0 && pad[1] == 0;
  Func padded = unpadded ? ctx.inputs[0] : zeroHalo(ctx, "conv_padded");
  RDom r(0, cinPerGroup, 0, kw, 0, kh, "r");
  Func conv = convolve(shape, padded, r, weightAt, shift);

  // Schedule: the tile accumulated in registers, tasks as chosen above.
  Layout inputLayout = ctx.inputLayouts[0];
  // Ragged edges: the last tile of columns, and of channels when there is
  // more than one, shifts inwards and overlaps the one before (recomputing
  // a few outputs), so every tile has the same constant extents and its
  // loops unroll into registers.
  TailStrategy channelTail =
      cout >= V * vectors ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  // Row tasks take a few rows each (at least 8 tasks per image), so the
  // input rows they copy with the halo are shared by more outputs, and at
  // least ~64K multiply-adds, so a tiny layer (LeNet's) is not split into
  // tasks that cost less than waking a thread.
  int64_t macsPerRow = out[3] * cout * cinPerGroup * kh * kw;
  int rowsPerTask = static_cast<int>(std::min<int64_t>(
      out[2], std::max({int64_t{1}, std::min<int64_t>(4, out[2] / 8),
                        (int64_t{65536} + macsPerRow - 1) / macsPerRow})));
  // Channel-block tasks over whole tiles: the block's outputs stay in L1
  // while the reduction runs outermost in chunks of input channels, so each
  // chunk of weights is read once per task instead of once per row.
  int chunk = cinPerGroup % 64 == 0 ? 64 : cinPerGroup;
  bool blocked = channelBlocksOuter && out[3] % columns == 0;
  // Fewer output channels than a vector, written NCHW (LeNet's first conv,
  // 6 channels): vectorized along the row instead, a register tile of one
  // vector of columns by every channel, each weight a broadcast. (LeNet-5's
  // features.0: 5.7 -> 2.6 us; 16 lanes of channels kept 6 busy and
  // scattered every store.)
  bool alongRows = ctx.outputLayout == Layout::NCHW && cout < V;
  ctx.schedule = [=](Func output) mutable {
    Var co("co"), cv("cv"), xo("xo"), xi("xi"), yo("yo"), yi("yi"), task("task");
    if (alongRows) {
      TailStrategy rowTail = out[3] >= V ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
      output.split(v.x, xo, xi, V, rowTail)
          .split(v.y, yo, yi, rowsPerTask, TailStrategy::GuardWithIf)
          .reorder(xi, v.c, xo, yi, yo, v.n)
          .fuse(yo, v.n, task)
          .parallel(task)
          .vectorize(xi)
          .unroll(v.c);
      conv.compute_at(output, xo).reorder(v.x, v.c, v.y, v.n).vectorize(v.x).unroll(v.c);
      conv.update()
          .reorder(v.x, v.c, r.x, r.y, r.z, v.y, v.n)
          .vectorize(v.x)
          .unroll(v.c);
      if (!unpadded) {
        padded.compute_at(output, task);
        vectorizeInner(padded, inputLayout, V);
      }
      return;
    }
    if (blocked) {
      output.split(v.c, co, cv, V * vectors, channelTail)
          .reorder(cv, v.x, v.y, co, v.n)
          .fuse(co, v.n, task)
          .parallel(task)
          .vectorize(cv, V)
          .unroll(cv);
      conv.compute_at(output, task)
          .reorder_storage(v.c, v.x, v.y, v.n)
          .reorder(v.c, v.x, v.y, v.n)
          .vectorize(v.c, V, TailStrategy::RoundUp)
          .unroll(v.c);
      RVar rxo("rxo"), rxi("rxi");
      conv.update()
          .split(r.x, rxo, rxi, chunk)
          .split(v.x, xo, xi, columns)
          .reorder(v.c, xi, rxi, xo, v.y, rxo, r.y, r.z, v.n)
          .vectorize(v.c, V, TailStrategy::RoundUp)
          .unroll(v.c)
          .unroll(xi);
      if (!unpadded) {
        padded.compute_root().parallel(v.y);
        vectorizeInner(padded, inputLayout, V);
      }
      return;
    }
    output.split(v.c, co, cv, V * vectors, channelTail)
        .split(v.x, xo, xi, columns, TailStrategy::ShiftInwards);
    if (channelBlocksOuter) {
      output.reorder(cv, xi, xo, v.y, co, v.n).fuse(co, v.n, task);
    } else {
      output.split(v.y, yo, yi, rowsPerTask, TailStrategy::GuardWithIf)
          .reorder(cv, xi, xo, co, yi, yo, v.n)
          .fuse(yo, v.n, task);
    }
    output.parallel(task).vectorize(cv, V).unroll(cv).unroll(xi);
    conv.compute_at(output, xo)
        .reorder_storage(v.c, v.x, v.y, v.n)
        .reorder(v.c, v.x, v.y, v.n)
        .vectorize(v.c, V, TailStrategy::RoundUp)
        .unroll(v.c)
        .unroll(v.x);
    conv.update()
        .reorder(v.c, v.x, r.x, r.y, r.z, v.y, v.n)
        .vectorize(v.c, V, TailStrategy::RoundUp)
        .unroll(v.c)
        .unroll(v.x);
    // Row tasks: the input-channel loop unrolled by 4 (1x1 convs over 64
    // channels went from 56 % to 82 % of peak). Channel-block tasks, whose
    // tiles already hold 28 accumulators, are left as they are.
    if (!channelBlocksOuter && cinPerGroup % 4 == 0) {
      RVar rxo("rxo"), rxi("rxi");
      conv.update().split(r.x, rxo, rxi, 4).reorder(v.c, v.x, rxi, rxo).unroll(rxi);
    }
    // The halo'd input: per task's rows, or once for all tasks (in
    // parallel) when each task spans the whole image.
    if (unpadded)
      return;
    if (channelBlocksOuter)
      padded.compute_root().parallel(v.y);
    else
      padded.compute_at(output, task);
    vectorizeInner(padded, inputLayout, V);
  };
  return conv;
}

} // namespace netc::lowering
