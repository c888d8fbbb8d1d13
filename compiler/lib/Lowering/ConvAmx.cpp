//===- ConvAmx.cpp - INT8 and BF16 convolutions on AMX tiles --------------===//
//
// conv.amx: a reduced-precision conv whose sums the runtime's AMX kernels
// compute (runtime/lib/Amx.cpp, Halide extern stages), the rest in Halide:
// the zero-padded, channels-innermost input the kernel reads, the packed
// weights (at load), and the epilogue (scales, bias, residual, activation,
// requantization), as conv.direct's. Only on the avx512-amx level
// (TargetInfo::amx), for ungrouped, undilated convs of at least 16 output
// channels.
//
// The kernel reads, for each kernel row, the kw * C contiguous input bytes
// (kx, ci) of an output pixel in 64-byte chunks; the packed weights follow
// that order: [block of 16 output channels][ky][chunk][16 x 64 bytes], each
// 64-byte row one (quad, in INT8; pair, in BF16) of k for 16 channels, k
// past kw * C zero. Channels are padded to a multiple of 64 (the kernel
// steps by up to 4 blocks) with zero weights.
//
// Tasks: output rows by a block of 64 output channels each, the kernel's
// sums kept in a task-sized buffer the epilogue reads. Stride 1 runs a
// task's rows as one run of pixels (`flat`, Amx.cpp), the sums buffer's
// rows as wide as the padded input's so that every tile goes to it in one
// store (the halo columns' sums are dropped); a strided 1x1 conv (ResNet's
// downsampling shortcuts) runs so too, over its input subsampled once. The
// padded input is made once, before the tasks, except where a 1x1 conv
// reads its input buffer as it is.
//
//===----------------------------------------------------------------------===//
#include "Templates.h"

namespace netc::lowering {

using namespace Halide;

namespace {

/// Output channels per task and per packed weight block stride.
constexpr int kChannelBlock = 64;

/// Pixels per task, at most, flat: the sums of 64 channels (4 bytes each)
/// in 128 KB.
constexpr int64_t kRunPixels = 512;

/// Whether a task's rows can run as one run of pixels: stride 1 (each
/// pixel's window one input pixel on from the one before, across rows too,
/// over the padded input's rows), or a 1x1 kernel of any stride (over the
/// input subsampled by the stride).
bool runsFlat(const ConvShape &conv) {
  return conv.stride[0] == 1 || (conv.kernel[0] == 1 && conv.kernel[1] == 1);
}

bool amxFits(mlir::Operation *op, const PlanContext &ctx) {
  if (!ctx.target.amx || !(computesInInt8(op) || computesInBf16(op)))
    return false;
  ConvShape conv = convShapeOf(op);
  bool int8 = computesInInt8(op);
  int bytes = int8 ? 1 : 2, unit = 4 / bytes;
  int rowBytes = conv.kernel[1] * ((conv.cin + unit - 1) / unit * unit) * bytes;
  // INT8 keeps on VNNI (conv.direct, its sums in registers for the
  // epilogue) the convs whose tile steps do little: a kernel row of fewer
  // than 64 bytes (ResNet's 7x7 stem over 3 channels, 28 bytes: 0.35 ms on
  // VNNI against 0.47 on tiles) and a whole reduction of one 64-byte chunk
  // (ResNet-50's 1x1 convs over 64 channels: each step 4 multiplies to 4
  // tile stores of int32 sums; VNNI ran them in 0.60-0.88x the time). BF16
  // takes them all: its stem ran in 0.47 ms on tiles against conv.direct's
  // 1.26 (batch 16: 9.9 against 23.3 ms).
  bool fewBytes = int8 && (rowBytes < 64 || conv.kernel[0] * rowBytes <= 64);
  // BF16 leaves to conv.direct the strided stems of few products per
  // output (fewer than 64: a 3x3 or 4x4 kernel over 3 channels), which
  // tiles run row by row, each tile step mostly padding (MobileNetV2's
  // stem, 3x3 stride 2 to 32 channels at 112x112: 0.25 ms on tiles, 0.07 by
  // conv.direct's FMAs on widened operands, as in FP32).
  bool fewProducts = !int8 && !runsFlat(conv) &&
                     conv.kernel[0] * conv.kernel[1] * conv.cin < 64;
  // An inverted-residual expansion that its depthwise conv computes per
  // task (expansionReader, Lower.cpp) is left to conv.direct (BF16: its
  // FMAs on the widened operands; INT8: its dot products): on tiles it is a
  // step of its own, its float32 result through memory. (MobileNetV2 at 224, 2 threads, Xeon: its
  // 112x112 block's expansion, 16 -> 96, 0.32 ms at 121 GFLOP/s on tiles
  // and its depthwise conv 0.11; staged, the two together 0.17 in FP32.)
  if (ctx.fusions && (int8 || !ctx.bf16Dot.value_or(ctx.target.bf16DotPays())))
    if (mlir::Operation *reader = expansionReader(op))
      if (templateNamed(reader, "conv.depthwise")->fits(reader, ctx))
        return false;
  return conv.groups == 1 && conv.dilation[0] == 1 && conv.dilation[1] == 1 &&
         conv.stride[0] == conv.stride[1] && conv.cout >= 16 && !fewBytes && !fewProducts &&
         layoutOf(op->getResult(0)) == Layout::NHWC;
}

/// The output's (N, C, H, W).
llvm::ArrayRef<int64_t> outShape(mlir::Operation *op) {
  return op->getResult(0).getType().cast<mlir::RankedTensorType>().getShape();
}

/// Whether the kernel reads the conv's input buffer as it is: a 1x1,
/// stride-1 conv without padding over an input already of the kernel's type
/// (u8, BF16 from a producer in the same precision), channels innermost,
/// kernel rows of whole 64-byte chunks (nothing read past a pixel), every
/// task a run of at least a tile's 16 pixels; no prologue (Lower.cpp's
/// prologueOf) to apply.
bool readsInputInPlace(mlir::Operation *op, const EmitContext &ctx, int64_t rows) {
  ConvShape conv = convShapeOf(op);
  bool int8 = computesInInt8(op);
  Halide::Type type = int8 ? UInt(8) : BFloat(16);
  int64_t width = outShape(op)[3];
  return !ctx.prologue && conv.kernel[0] == 1 && conv.kernel[1] == 1 &&
         conv.stride[0] == 1 && conv.pad[0] == 0 && conv.pad[1] == 0 &&
         ctx.inputParams[0].type() == type &&
         layoutOf(op->getOperand(0)) == Layout::NHWC && conv.cin * type.bytes() % 64 == 0 &&
         rows * width >= 16;
}

/// Stride 1 and strided 1x1 kernels: `flat` (the rows of a task as one run
/// of pixels, the halo columns computed and dropped: ResNet's 7x7 layers
/// fill 49 of 64 tile rows, not 7 of 16), with rows per task a divisor of
/// the height, as many as keep a task's sums within 128 KB (64 channels of
/// int32 or float32: 512 pixels), and tasks enough for the cores (at least
/// 8 of images, channel blocks of 64 and row blocks; 16 ran ResNet-50 INT8
/// 1.08x slower). Otherwise (strided kernels larger than 1x1) row by row, 2
/// rows per task from 28 rows, else 1.
PlanParams amxPlan(mlir::Operation *op, const PlanContext &, mlir::Builder &b) {
  ConvShape conv = convShapeOf(op);
  llvm::ArrayRef<int64_t> out = outShape(op);
  int64_t height = out[2], width = out[3];
  bool flat = runsFlat(conv);
  int64_t rows = height >= 28 ? 2 : 1;
  if (flat) {
    int64_t images = std::max<int64_t>(out[0], 1); // the batch may be dynamic: at least 1
    int64_t others = images * ((out[1] + kChannelBlock - 1) / kChannelBlock);
    rows = 1;
    for (int64_t d = 1; d <= height; ++d)
      if (height % d == 0 && d * width <= kRunPixels && (others * (height / d) >= 8 || d == 1))
        rows = d;
  }
  return {{"rows_per_task", b.getI64IntegerAttr(rows)}, {"flat", b.getBoolAttr(flat)}};
}

std::string amxCheck(mlir::Operation *op, const PlanContext &, mlir::DictionaryAttr plan) {
  ConvShape conv = convShapeOf(op);
  if (planBool(plan, "flat") && !runsFlat(conv))
    return "flat runs of pixels need stride 1 or a 1x1 kernel; this conv's stride is " +
           std::to_string(conv.stride[0]) + " with a " + std::to_string(conv.kernel[0]) + "x" +
           std::to_string(conv.kernel[1]) + " kernel";
  return checkInt(plan, "rows_per_task", 1, outShape(op)[2]);
}

Func amxEmit(mlir::Operation *op, EmitContext &ctx) {
  const Vars &v = vars();
  ConvShape conv = convShapeOf(op);
  bool int8 = computesInInt8(op);
  int elementBytes = int8 ? 1 : 2;
  // Input channels padded to whole int32 lanes (4 u8, 2 BF16), the kernel
  // row's bytes to whole 64-byte chunks.
  int unit = int8 ? 4 : 2;
  int channels = (conv.cin + unit - 1) / unit * unit;
  int kh = conv.kernel[0], kw = conv.kernel[1];
  int chunks = (kw * channels * elementBytes + 63) / 64;
  int perChunk = 64 / elementBytes; // k values per chunk
  int blocks = (conv.cout + kChannelBlock - 1) / kChannelBlock * (kChannelBlock / 16);
  int coutPadded = blocks * 16;

  // The packed weights: (j, n, q, chunk, ky, block), j innermost.
  Var pj("pj"), pn("pn"), pq("pq"), pk("pk"), py("py"), pb("pb");
  Expr k = pk * perChunk + pq * unit + pj; // in elements of the kernel row
  Expr kx = k / channels, ci = k % channels, co = pb * 16 + pn;
  Expr inside = kx < kw && ci < conv.cin && co < conv.cout;
  Expr cx = clamp(kx, 0, kw - 1), cc = clamp(ci, 0, conv.cin - 1), cco = clamp(co, 0, conv.cout - 1);
  Func packW(int8 ? "conv_pack_weight_amx_s8" : "conv_pack_weight_amx_bf16");
  ImageParam scale, sum;
  if (int8) {
    Int8Codes codes = int8Codes(conv, ctx, coutPadded);
    scale = codes.scale;
    sum = codes.sum;
    packW(pj, pn, pq, pk, py, pb) =
        cast<int8_t>(select(inside, codes.code(cco, cc, cx, py), 0.0f));
  } else {
    Expr w = convWeight(ctx, cx, py, cc, cco) * foldedScaleAndBias(ctx, cco, conv.hasBias).first;
    packW(pj, pn, pq, pk, py, pb) = roundToBf16(select(inside, w, 0.0f));
  }
  ImageParam weights = ctx.addPack(packW, {blocks, kh, chunks, 16, 16, unit},
                                   int8 ? DType::I8 : DType::BF16);
  ImageParam shift = packShift(conv, ctx, coutPadded);

  // The input the kernel reads: the input buffer itself, or a zero-padded
  // copy (the zero point in INT8), channels innermost, made once before
  // the tasks over what the kernel asks for.
  int rows = static_cast<int>(planInt(ctx.plan, "rows_per_task"));
  bool flat = planBool(ctx.plan, "flat");
  bool inPlace = flat && readsInputInPlace(op, ctx, rows);
  bool copied;
  Func padded;
  if (!inPlace)
    padded = int8 ? int8Input(conv, ctx, unit, copied, /*always=*/true)
                  : bf16Input(conv, ctx, copied, /*always=*/true);
  // A strided 1x1 conv: the kernel runs flat, stride 1 and unpadded, over
  // the input pixels the conv reads (one in stride x stride), made once.
  bool subsampled = flat && conv.stride[0] > 1;
  Func made = padded;
  if (subsampled) {
    made = Func(padded.name() + "_subsampled");
    made(v.x, v.y, v.c, v.n) =
        padded(v.x * conv.stride[1] - conv.pad[1], v.y * conv.stride[0] - conv.pad[0], v.c, v.n);
  }
  ExternFuncArgument source = inPlace ? ExternFuncArgument(ctx.inputParams[0])
                                      : ExternFuncArgument(made);
  int stride = subsampled ? 1 : conv.stride[0];
  int padTop = subsampled ? 0 : conv.pad[0], padLeft = subsampled ? 0 : conv.pad[1];
  // Flat with a halo (kernels wider than 1): the sums' rows hold the halo
  // columns too (Amx.cpp's flat = 2), kw - 1 after each row's pixels.
  int width = static_cast<int>(outShape(op)[3]);
  bool haloColumns = flat && kw > 1;

  Func sums(int8 ? "conv_amx_i32" : "conv_amx_f32");
  std::vector<ExternFuncArgument> args = {source, weights, stride,   kh,     kw,
                                          padTop, padLeft, channels, chunks, blocks,
                                          flat ? (haloColumns ? 2 : 1) : 0};
  sums.define_extern(int8 ? "netc_amx_conv_u8s8" : "netc_amx_conv_bf16", args,
                     int8 ? Int(32) : Float(32), {v.x, v.y, v.c, v.n}, NameMangling::C);

  Func result("conv");
  if (int8) {
    // As conv.direct's: sum((x - zero point) * q) exactly, then scales and
    // bias in IEEE order, the same on every level.
    Expr exact = sums(v.x, v.y, v.c, v.n) - cast<int>(ctx.inputZero(0)) * sum(v.c);
    result(v.x, v.y, v.c, v.n) =
        strict_float(cast<float>(exact) * (ctx.inputScale(0) * scale(v.c)) + shift(v.c));
  } else {
    result(v.x, v.y, v.c, v.n) = sums(v.x, v.y, v.c, v.n) + shift(v.c);
  }

  // Schedule: tasks of rows_per_task rows by 64 channels, the kernel's sums
  // computed per task, channels innermost.
  int V = ctx.vectorWidth;
  ctx.schedule = [=](Func output) mutable {
    Var co("co"), ci("ci"), yo("yo"), yi("yi"), block("block"), task("task");
    output.split(v.c, co, ci, kChannelBlock, TailStrategy::GuardWithIf)
        .split(v.y, yo, yi, rows, TailStrategy::GuardWithIf)
        .reorder(ci, v.x, yi, co, yo, v.n)
        .fuse(co, yo, block)
        .fuse(block, v.n, task)
        .parallel(task)
        .vectorize(ci, V, TailStrategy::GuardWithIf);
    sums.compute_at(output, task).reorder_storage(v.c, v.x, v.y, v.n);
    if (haloColumns)
      sums.bound(v.x, 0, width + kw - 1);
    if (inPlace)
      return;
    // The padded input once for all tasks, rows in parallel: per task, the
    // halos of strided convs' rows overlapped (ResNet's stem read its float
    // input 3 times over).
    made.compute_root()
        .bound(v.c, 0, channels)
        .reorder_storage(v.c, v.x, v.y, v.n)
        .reorder(v.c, v.x, v.y, v.n)
        .parallel(v.y);
    if (channels >= V)
      made.vectorize(v.c, V, TailStrategy::GuardWithIf);
    else
      made.vectorize(v.c).vectorize(v.x, V, TailStrategy::GuardWithIf);
  };
  return result;
}

} // namespace

Template convAmxTemplate() { return {"conv.amx", amxFits, amxPlan, amxCheck, amxEmit}; }

} // namespace netc::lowering
