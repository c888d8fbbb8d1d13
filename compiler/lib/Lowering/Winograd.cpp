//===- Winograd.cpp - 3x3 stride-1 convolution as Winograd's F(m x m, 3x3) ===//
//
// Each m x m tile of outputs comes from an (m+2) x (m+2) tile of inputs in
// (m+2)^2 products instead of 9 m^2 (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016):
//
//   Y = A^T [ (G g G^T) . (B^T d B) ] A
//
// Over channels the element-wise product becomes (m+2)^2 independent
// matrix products, tiles x Cin times Cin x Cout, and those carry the work:
// 2.25x (m = 2) or 4x (m = 4) fewer multiply-adds than the direct
// convolution. The weights' transform U = G g G^T is a pack (once, at
// load, BatchNorm folded in); the input's, V = B^T d B, and the output's
// are computed next to the products, per task.
//
//===----------------------------------------------------------------------===//
#include "Templates.h"

namespace netc::lowering {

using namespace Halide;

namespace {

using Matrix = std::vector<std::vector<double>>;

/// The transforms of F(m x m, 3x3), interpolation points 0, +-1 (, +-2).
struct Transform {
  int m; // output tile
  Matrix BT, G, AT; // alpha x alpha, alpha x 3, m x alpha
  /// A left inverse of G (3 x alpha): the kernel back from U = G g G^T.
  Matrix Ginv;
  int alpha() const { return m + 2; }
};

const Transform &transformFor(int m) {
  static const Transform f2{2,
                            {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
                            {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
                            {{1, 1, 1, 0}, {0, 1, -1, -1}},
                            {{1, 0, 0, 0}, {0, 1, -1, 0}, {0, 0, 0, 1}}};
  static const Transform f4{
      4,
      {{4, 0, -5, 0, 1, 0},
       {0, -4, -4, 1, 1, 0},
       {0, 4, -4, -1, 1, 0},
       {0, -2, -1, 2, 1, 0},
       {0, 2, -1, -2, 1, 0},
       {0, 4, 0, -5, 0, 1}},
      {{1.0 / 4, 0, 0},
       {-1.0 / 6, -1.0 / 6, -1.0 / 6},
       {-1.0 / 6, 1.0 / 6, -1.0 / 6},
       {1.0 / 24, 1.0 / 12, 1.0 / 6},
       {1.0 / 24, -1.0 / 12, 1.0 / 6},
       {0, 0, 1}},
      {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}},
      {{4, 0, 0, 0, 0, 0}, {0, -3, 3, 0, 0, 0}, {0, 0, 0, 0, 0, 1}}};
  return m == 4 ? f4 : f2;
}

/// sum_i coefficient_i * term_i, with the zero coefficients left out and
/// the +-1 ones as plain adds.
Expr linearCombination(const std::vector<std::pair<double, Expr>> &terms) {
  Expr sum;
  for (const auto &[coefficient, term] : terms) {
    if (coefficient == 0)
      continue;
    Expr scaled = std::abs(coefficient) == 1 ? term
                                             : term * static_cast<float>(std::abs(coefficient));
    if (!sum.defined())
      sum = coefficient < 0 ? -scaled : scaled;
    else
      sum = coefficient < 0 ? sum - scaled : sum + scaled;
  }
  return sum.defined() ? sum : Expr(0.0f);
}

/// L X L^T for the matrix X whose entries are x(a, b): its entries, row by
/// row, each a sum of L[i][a] L[j][b] x(a, b).
std::vector<Expr> sandwich(const Matrix &L, const std::function<Expr(int a, int b)> &x,
                           bool strict = false) {
  std::vector<Expr> entries;
  for (const std::vector<double> &row : L)
    for (const std::vector<double> &column : L) {
      std::vector<std::pair<double, Expr>> terms;
      for (size_t a = 0; a < row.size(); ++a)
        for (size_t b = 0; b < column.size(); ++b)
          terms.emplace_back(row[a] * column[b], x(static_cast<int>(a), static_cast<int>(b)));
      entries.push_back(strict ? strict_float(linearCombination(terms)) : linearCombination(terms));
    }
  return entries;
}

/// The output's height and width.
std::pair<int, int> outputSize(mlir::Operation *op) {
  llvm::ArrayRef<int64_t> s = op->getResult(0).getType().cast<mlir::RankedTensorType>().getShape();
  return {static_cast<int>(s[2]), static_cast<int>(s[3])};
}

bool winogradFits(mlir::Operation *op, const PlanContext &ctx) {
  ConvShape conv = convShapeOf(op);
  const int V = ctx.target.lanes();
  // (Its transforms are float32: a BF16 conv is computed directly.)
  return ctx.winograd && !ctx.target.gpu() && !computesInBf16(op) && !computesInInt8(op) &&
         conv.kernel[0] == 3 && conv.kernel[1] == 3 &&
         conv.stride[0] == 1 && conv.stride[1] == 1 && conv.dilation[0] == 1 &&
         conv.dilation[1] == 1 && conv.groups == 1 && conv.cin >= 2 * V && conv.cout >= 2 * V &&
         layoutOf(op->getOperand(0)) == Layout::NHWC;
}

// F(4x4, 3x3) where the image is whole 4x4 tiles, at least 8 to a row
// (ResNet-18's 56x56 layers, per step: 1.35x -> 1.7x the direct template's
// nominal peak); F(2x2, 3x3) elsewhere, whose smaller tiles waste less at a
// ragged edge and whose weights are 2.25x smaller to stream. A register
// tile of `vectors` x V channels by `columns` tiles.
//
// Tasks: a row of tiles each, with all output channels, when the
// transformed weights are small enough to re-read per row from cache;
// otherwise (as in the direct template) a block of output channels over the
// whole image, with the input transformed once for all of them.
PlanParams winogradPlan(mlir::Operation *op, const PlanContext &ctx, mlir::Builder &b) {
  ConvShape conv = convShapeOf(op);
  auto [outH, outW] = outputSize(op);
  const int V = ctx.target.lanes(), budget = ctx.target.accumulatorRegisters();
  int m = static_cast<int>(
      writtenInt(ctx, "tile", outW % 4 == 0 && outH % 4 == 0 && outW >= 32 ? 4 : 2));
  int points = (m + 2) * (m + 2);
  int tilesX = (outW + m - 1) / m, tilesY = (outH + m - 1) / m;
  int columns =
      static_cast<int>(writtenInt(ctx, "columns", columnsPerTile(tilesX, std::min(8, budget / 2))));
  int vectors = vectorsPerTile(conv.cout, V, columns, 4, budget);
  int tilesXPadded = (tilesX + columns - 1) / columns * columns;
  int coutPadded = (conv.cout + V * vectors - 1) / (V * vectors) * (V * vectors);
  int64_t weightBytes = int64_t{4} * points * conv.cin * coutPadded;
  int64_t inputBytes = int64_t{4} * points * conv.cin * tilesXPadded * tilesY;
  bool channels = channelBlockTasks(outH, weightBytes, inputBytes);
  return {{"tile", b.getI64IntegerAttr(m)},
          {"columns", b.getI64IntegerAttr(columns)},
          {"vectors", b.getI64IntegerAttr(vectors)},
          {"tasks", b.getStringAttr(channels ? "channels" : "rows")}};
}

std::string winogradCheck(mlir::Operation *op, const PlanContext &ctx, mlir::DictionaryAttr plan) {
  std::string problem = checkInt(plan, "tile", 2, 4);
  if (problem.empty() && planInt(plan, "tile") == 3)
    problem = "tile 3: Winograd's F(m x m, 3x3) is implemented for tiles 2 and 4";
  if (!problem.empty())
    return problem;
  int m = static_cast<int>(planInt(plan, "tile"));
  int tilesX = (outputSize(op).second + m - 1) / m;
  for (std::string p : {checkInt(plan, "columns", 1, std::min(tilesX, 16)),
                        checkInt(plan, "vectors", 1, 4),
                        checkChoice(plan, "tasks", {"rows", "channels"})})
    if (!p.empty())
      return p;
  return checkAccumulators(plan, ctx.target);
}

Func winogradEmit(mlir::Operation *op, EmitContext &ctx) {
  const Vars &v = vars();
  ConvShape conv = convShapeOf(op);
  const int V = ctx.vectorWidth;
  const std::vector<int64_t> &out = ctx.outputShape;
  const int cin = conv.cin, cout = conv.cout;
  const int outH = static_cast<int>(out[2]), outW = static_cast<int>(out[3]);
  const Transform &t = transformFor(static_cast<int>(planInt(ctx.plan, "tile")));
  const int m = t.m, alpha = t.alpha(), points = alpha * alpha;
  const int tilesX = (outW + m - 1) / m;
  const int columns = static_cast<int>(planInt(ctx.plan, "columns"));
  const int tilesXPadded = (tilesX + columns - 1) / columns * columns;
  const int vectors = static_cast<int>(planInt(ctx.plan, "vectors"));
  const int coutPadded = (cout + V * vectors - 1) / (V * vectors) * (V * vectors);
  const int block = V * vectors;
  bool channelBlocks = planString(ctx.plan, "tasks") == "channels";

  // Pack: U(co, ci, k) = (G g G^T)[k / alpha][k % alpha], scaled by the
  // folded BatchNorm, output channels innermost and zero past `cout`. One
  // update per transform point, so each is a plain sum of products. For
  // channel-block tasks, block after block (as in the direct template), so
  // a task streams its own block's weights in order.
  bool blockMajor = channelBlocks && cout % block == 0;
  Var pc("pc"), pi("pi"), pk("pk"), pb("pb");
  Expr co = clamp(pc, 0, cout - 1);
  auto [scale, bias] = foldedScaleAndBias(ctx, co, conv.hasBias);
  Func packU("winograd_pack_weight"), packB("winograd_pack_bias");
  Expr channel = blockMajor ? pb * block + pc : co;
  Expr channelScale = blockMajor ? foldedScaleAndBias(ctx, channel, conv.hasBias).first : scale;
  std::vector<Var> packArgs = {pc, pi, pk};
  if (blockMajor)
    packArgs.push_back(pb);
  packU(packArgs) = undef<float>();
  std::vector<Expr> weightPoints =
      sandwich(t.G, [&](int a, int b) { return ctx.weights[0](b, a, pi, channel); });
  for (int point = 0; point < points; ++point) {
    std::vector<Expr> at = {pc, pi, point};
    if (blockMajor)
      at.push_back(pb);
    packU(at) = blockMajor ? weightPoints[point] * channelScale
                           : select(pc < cout, weightPoints[point] * channelScale, 0.0f);
  }
  packB(pc) = select(pc < cout, bias, 0.0f);
  ImageParam U = blockMajor ? ctx.addPack(packU, {cout / block, points, cin, block})
                            : ctx.addPack(packU, {points, cin, coutPadded});
  auto uAt = [=](Expr c, Expr ci, Expr k) {
    return blockMajor ? U(c % block, ci, k, c / block) : U(c, ci, k);
  };
  ImageParam shift = ctx.addPack(packB, {coutPadded});

  // The input with its zero halo (and zeros past the last whole tile).
  Func padded = zeroHalo(ctx, "winograd_padded");

  // V(ci, k, tx, ty) = (B^T d B)[k / alpha][k % alpha] for the input tile d
  // at (tx, ty); `k` is unrolled in the schedule, so each point is its own
  // expression.
  Var ci("ci"), k("k"), tx("tx"), ty("ty");
  Func inputT("winograd_input");
  inputT(ci, k, tx, ty, v.n) = mux(k, sandwich(t.BT, [&](int a, int b) {
    return padded(tx * m - conv.pad[1] + b, ty * m - conv.pad[0] + a, ci, v.n);
  }, /*strict=*/true));

  // The products: M(c, k, tx, ty) = sum over ci of V(ci, k, tx, ty) U(c, ci, k).
  RDom r(0, cin, "r");
  Func product("winograd_product");
  product(v.c, k, tx, ty, v.n) = 0.0f;
  product(v.c, k, tx, ty, v.n) += inputT(r, k, tx, ty, v.n) * uAt(v.c, r, k);

  // The output tile: Y = A^T M A, plus the bias; (x % m, y % m) are
  // constants in the unrolled schedule.
  Func result("winograd_conv");
  result(v.x, v.y, v.c, v.n) =
      shift(v.c) + mux((v.y % m) * m + v.x % m, sandwich(t.AT, [&](int a, int b) {
        return product(v.c, a * alpha + b, v.x / m, v.y / m, v.n);
      }));

  // NaN and Inf: the transforms mix a tile's inputs, so one Inf or NaN
  // would turn the whole output tile into NaN, where PyTorch's direct sum
  // keeps the 3x3 neighbourhood's pattern. A tile whose transformed input
  // is not all finite (a non-finite input, or an overflow) is recomputed
  // as the direct sum, with the kernel recovered from U (g = G' U G'^T);
  // the check costs a compare per transformed value, the recomputation
  // runs only for such tiles.
  Var lane("lane");
  RDom rb(0, (cin + V - 1) / V, 0, points, "rb");
  Func badLanes("winograd_bad_lanes"), bad("winograd_bad");
  badLanes(lane, tx, ty, v.n) = 0;
  badLanes(lane, tx, ty, v.n) = max(
      badLanes(lane, tx, ty, v.n),
      select(isFinite(inputT(min(rb.x * V + lane, cin - 1), rb.y, tx, ty, v.n)), 0, 1));
  Expr anyLane = badLanes(0, tx, ty, v.n);
  for (int l = 1; l < V; ++l)
    anyLane = max(anyLane, badLanes(l, tx, ty, v.n));
  bad(tx, ty, v.n) = anyLane;
  RDom rd(0, cin, 0, 3, 0, 3, "rd");
  std::vector<Expr> kernelPoints = // g(c, rd.x, a, b), at a * 3 + b
      sandwich(t.Ginv, [&](int a, int b) { return uAt(v.c, rd.x, a * alpha + b); });
  Func direct("winograd_direct");
  direct(v.x, v.y, v.c, v.n) = shift(v.c);
  direct(v.x, v.y, v.c, v.n) +=
      padded(v.x - conv.pad[1] + rd.z, v.y - conv.pad[0] + rd.y, rd.x, v.n) *
      mux(rd.y * 3 + rd.z, kernelPoints);
  RDom once(0, 1, "once");
  once.where(bad(v.x / m, v.y / m, v.n) != 0);
  Func checked("winograd_checked");
  checked(v.x, v.y, v.c, v.n) = result(v.x, v.y, v.c, v.n);
  checked(v.x, v.y, v.c, v.n) = direct(v.x + once, v.y, v.c, v.n);

  Layout inputLayout = ctx.inputLayouts[0];
  ctx.schedule = [=](Func output) mutable {
    Var cb("cb"), cv("cv"), xo("xo"), xi("xi"), yo("yo"), yi("yi"), task("task");
    TailStrategy ragged = TailStrategy::GuardWithIf;
    output.split(v.x, xo, xi, m, outW % m ? ragged : TailStrategy::Auto)
        .split(v.y, yo, yi, m, outH % m ? ragged : TailStrategy::Auto);
    // A ragged last block of channels shifts inwards (cout >= V * vectors
    // always holds here), so every block has the register tile's width.
    output.split(v.c, cb, cv, V * vectors,
                 cout % (V * vectors) ? TailStrategy::ShiftInwards : TailStrategy::Auto);
    if (channelBlocks)
      output.reorder(cv, xi, yi, xo, yo, cb, v.n).fuse(cb, v.n, task);
    else
      output.reorder(cv, xi, yi, xo, cb, yo, v.n).fuse(yo, v.n, task);
    output.parallel(task).vectorize(cv, V).unroll(cv).unroll(xi).unroll(yi);

    // The products, a register tile of `vectors` x V channels by `columns`
    // tiles, the input channels innermost.
    product.compute_at(output, task)
        .bound(k, 0, points)
        .bound(tx, 0, tilesXPadded)
        .reorder_storage(v.c, tx, k, ty, v.n)
        .vectorize(v.c, V);
    if (!channelBlocks)
      product.bound(v.c, 0, coutPadded);
    Var pcb("pcb"), pcv("pcv"), txo("txo"), txi("txi");
    RVar ro("ro"), ri("ri");
    product.update()
        .split(v.c, pcb, pcv, V * vectors)
        .split(tx, txo, txi, columns)
        .split(r.x, ro, ri, 4)
        .reorder(pcv, txi, ri, ro, txo, ty, pcb, k, v.n)
        .vectorize(pcv, V)
        .unroll(pcv)
        .unroll(txi)
        .unroll(ri);

    // The input transform: per task's row of tiles, or once (in parallel)
    // for all channel-block tasks.
    Var cio("cio"), cii("cii");
    inputT.bound(k, 0, points)
        .reorder_storage(ci, tx, k, ty, v.n)
        .split(ci, cio, cii, V)
        .reorder(cii, k, cio, tx, ty, v.n)
        .vectorize(cii)
        .unroll(k);
    if (channelBlocks) {
      inputT.compute_root().parallel(ty);
      padded.compute_root().parallel(v.y);
    } else {
      inputT.compute_at(output, task);
      padded.compute_at(output, task);
    }
    vectorizeInner(padded, inputLayout, V);

    // The check next to the input transform; the output tile in a small
    // buffer, recomputed directly (per pixel, all the tile's channels)
    // where the check failed.
    badLanes.bound(lane, 0, V).vectorize(lane);
    badLanes.update().reorder(lane, rb.x, rb.y, tx, ty, v.n).vectorize(lane);
    if (channelBlocks) {
      Var rows("rows"); // the tile rows of every batch item, in parallel
      badLanes.compute_root().fuse(ty, v.n, rows).parallel(rows);
      badLanes.update().fuse(ty, v.n, rows).parallel(rows);
      bad.compute_root();
    } else {
      badLanes.compute_at(output, task);
      bad.compute_at(output, task);
    }
    checked.compute_at(output, xo)
        .align_bounds(v.x, m)
        .align_bounds(v.y, m)
        .bound_extent(v.x, m)
        .bound_extent(v.y, m)
        .reorder_storage(v.c, v.x, v.y, v.n)
        .reorder(v.c, v.x, v.y, v.n)
        .vectorize(v.c, V, TailStrategy::RoundUp)
        .unroll(v.x)
        .unroll(v.y);
    checked.update()
        .reorder(v.c, RVar(once.x), v.x, v.y, v.n)
        .vectorize(v.c, V, TailStrategy::RoundUp);
    direct.compute_at(checked, RVar(once.x)).vectorize(v.c, V, TailStrategy::RoundUp);
    direct.update()
        .reorder(v.c, rd.x, rd.y, rd.z, v.x, v.y, v.n)
        .vectorize(v.c, V, TailStrategy::RoundUp)
        .unroll(rd.y)
        .unroll(rd.z);
  };
  return checked;
}

} // namespace

Template convWinogradTemplate() {
  return {"conv.winograd", winogradFits, winogradPlan, winogradCheck, winogradEmit};
}

} // namespace netc::lowering
