//===- NNOps.td - The nn dialect: convolutional network layers -*- tablegen -*-===//
//
// One op per layer kind of the spec language, on float32 tensors. Shapes are
// static except the batch (dimension 0), which may be `?`. Every op's result
// type is inferred from its operands and attributes (NNShapes.cpp); the
// verifier recomputes it and quotes the values involved when they disagree.
//
// Weights are function arguments carrying their state_dict key:
//   func @lenet5(%x: tensor<?x1x28x28xf32> {nn.input = "x"},
//                %w: tensor<6x1x5x5xf32> {nn.key = "features.0.weight"}, ...)
//
//===----------------------------------------------------------------------===//
#ifndef NETC_DIALECT_NN_OPS
#define NETC_DIALECT_NN_OPS

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def NN_Dialect : Dialect {
  let name = "nn";
  let cppNamespace = "::netc::nn";
  let summary = "Layers of convolutional networks, as netc's spec language names them";
  let description = [{
    The nn dialect is netc's graph IR: the elaborated spec, one op per layer,
    each located at its spec file:line:col (wrapped in a NameLoc carrying the
    PyTorch module path). Graph passes rewrite it; the Halide lowering reads it.
    The function's `nn.weights` attribute is the checkpoint manifest (every
    tensor the weights file holds, with dtype and shape), so the IR alone is
    enough to build a library.
  }];
  let hasOperationAttrVerify = 1;
}

def NN_Tensor : RankedTensorOf<[F32]>;

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, !listconcat(traits, [NoSideEffect])> {
  let verifier = [{ return ::verify(*this); }];
}

/// Ops whose result has the operand's type.
class NN_UnaryOp<string mnemonic, string what>
    : NN_Op<mnemonic, [SameOperandsAndResultType]> {
  let summary = what;
  let arguments = (ins NN_Tensor:$input);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let verifier = ?;
}

//===----------------------------------------------------------------------===//
// Layers with weights
//===----------------------------------------------------------------------===//

def NN_Conv2dOp : NN_Op<"conv2d"> {
  let summary = "2-d convolution (torch.nn.Conv2d)";
  let description = [{
    NCHW input, OIHW weight (I = input channels / groups), optional bias.
    `stride`, `pad` and `dilation` are [height, width] pairs.

    ```mlir
    %y = nn.conv2d %x, %w, %b {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1}
         : (tensor<?x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<?x6x24x24xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, NN_Tensor:$weight, Optional<NN_Tensor>:$bias,
                       I64ArrayAttr:$stride, I64ArrayAttr:$pad, I64ArrayAttr:$dilation,
                       I64Attr:$groups);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def NN_FusedConv2dOp : NN_Op<"fused_conv2d", [AttrSizedOperandSegments]> {
  let summary = "conv2d with its epilogue: a folded BatchNorm, a residual sum, an activation";
  let description = [{
    Made by the `nn-fuse-conv-epilogue` pass from a conv2d and the ops that
    only it feeds:
    `activation(batch_norm(conv2d(input)) + residuals...)`, each part optional.
    The BatchNorm's four tensors (weight, bias, mean, variance) stay
    operands: the back end folds them into the packed conv weights once,
    when the weights are loaded. `activation` is "none", "relu", "sigmoid"
    or "tanh".

    ```mlir
    %y = nn.fused_conv2d %x, %w bn(%g, %b, %m, %v) residual(%skip)
         {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1,
          bn_eps = 1.0e-05 : f64, activation = "relu"}
         : (...) -> tensor<?x256x56x56xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, NN_Tensor:$weight, Optional<NN_Tensor>:$bias,
                       Variadic<NN_Tensor>:$bn, Variadic<NN_Tensor>:$residuals,
                       I64ArrayAttr:$stride, I64ArrayAttr:$pad, I64ArrayAttr:$dilation,
                       I64Attr:$groups, OptionalAttr<F64Attr>:$bn_eps, StrAttr:$activation);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? (`bn` `(` $bn^ `)`)? (`residual` `(` $residuals^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
}

def NN_LinearOp : NN_Op<"linear"> {
  let summary = "fully connected layer (torch.nn.Linear): y = x W^T + b";
  let description = [{
    ```mlir
    %y = nn.linear %x, %w, %b : (tensor<?x256xf32>, tensor<120x256xf32>, tensor<120xf32>)
         -> tensor<?x120xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, NN_Tensor:$weight, Optional<NN_Tensor>:$bias);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def NN_ChannelLinearOp : NN_Op<"channel_linear"> {
  let summary = "a linear layer over the channels of NCHW: y[n, o, h, w] = sum_c x[n, c, h, w] W[o, c] + b[o]";
  let description = [{
    torch.nn.Linear applied to the channels-last tensor (ConvNeXt's Permute,
    Linear, Permute); the weight is the Linear's [out, in].

    ```mlir
    %y = nn.channel_linear %x, %w, %b : (tensor<?x96x56x56xf32>, tensor<384x96xf32>,
         tensor<384xf32>) -> tensor<?x384x56x56xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, NN_Tensor:$weight, Optional<NN_Tensor>:$bias);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def NN_LayerNormOp : NN_Op<"layer_norm"> {
  let summary = "layer normalization over the channels (ConvNeXt's LayerNorm2d)";
  let description = [{
    y = (x - mean) / sqrt(var + eps) * weight + bias, the mean and (biased)
    variance over the channels of each pixel (of NCHW) or item (of [N, F]).

    ```mlir
    %y = nn.layer_norm %x, %gamma, %beta {eps = 1.0e-06 : f64}
         : (tensor<?x96x56x56xf32>, tensor<96xf32>, tensor<96xf32>) -> tensor<?x96x56x56xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, NN_Tensor:$weight, NN_Tensor:$bias, F64Attr:$eps);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

def NN_ChannelScaleOp : NN_Op<"channel_scale"> {
  let summary = "x times a learned per-channel scale of shape [C, 1, 1] (ConvNeXt's layer_scale)";
  let description = [{
    ```mlir
    %y = nn.channel_scale %x, %s : (tensor<?x96x56x56xf32>, tensor<96x1x1xf32>) -> tensor<?x96x56x56xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, NN_Tensor:$scale);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input `,` $scale attr-dict `:` functional-type(operands, results)";
}

def NN_BatchNormOp : NN_Op<"batch_norm"> {
  let summary = "inference batch normalization (torch.nn.BatchNorm2d, eval mode)";
  let description = [{
    y = (x - mean) / sqrt(var + eps) * weight + bias, per channel.

    ```mlir
    %y = nn.batch_norm %x, %gamma, %beta, %mean, %var {eps = 1.0e-05 : f64}
         : (tensor<?x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>,
            tensor<64xf32>) -> tensor<?x64x56x56xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, NN_Tensor:$weight, NN_Tensor:$bias,
                       NN_Tensor:$mean, NN_Tensor:$variance, F64Attr:$eps);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $mean `,` $variance attr-dict `:`
    functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

def NN_MaxPool2dOp : NN_Op<"max_pool2d"> {
  let summary = "2-d max pooling (torch.nn.MaxPool2d); padding is -inf";
  let description = [{
    ```mlir
    %y = nn.max_pool2d %x {kernel = [3, 3], stride = [2, 2], pad = [0, 0],
                           dilation = [1, 1], ceil_mode = true}
         : (tensor<?x64x112x112xf32>) -> tensor<?x64x56x56xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, I64ArrayAttr:$kernel, I64ArrayAttr:$stride,
                       I64ArrayAttr:$pad, I64ArrayAttr:$dilation, BoolAttr:$ceil_mode);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def NN_AvgPool2dOp : NN_Op<"avg_pool2d"> {
  let summary = "2-d average pooling (torch.nn.AvgPool2d)";
  let description = [{
    With `count_include_pad`, padded positions (but not the ceil-mode overhang)
    count in the divisor, as in PyTorch.

    ```mlir
    %y = nn.avg_pool2d %x {kernel = [2, 2], stride = [2, 2], pad = [0, 0],
                           ceil_mode = false, count_include_pad = true}
         : (tensor<?x8x8x8xf32>) -> tensor<?x8x4x4xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, I64ArrayAttr:$kernel, I64ArrayAttr:$stride,
                       I64ArrayAttr:$pad, BoolAttr:$ceil_mode, BoolAttr:$count_include_pad);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def NN_AdaptiveAvgPool2dOp : NN_Op<"adaptive_avg_pool2d"> {
  let summary = "adaptive average pooling (torch.nn.AdaptiveAvgPool2d)";
  let description = [{
    Output bin i spans input rows [floor(i*H/O), ceil((i+1)*H/O)).

    ```mlir
    %y = nn.adaptive_avg_pool2d %x {output_size = [1, 1]}
         : (tensor<?x512x7x7xf32>) -> tensor<?x512x1x1xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, I64ArrayAttr:$output_size);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Elementwise and normalization
//===----------------------------------------------------------------------===//

def NN_ReluOp : NN_UnaryOp<"relu", "max(x, 0)">;
def NN_SigmoidOp : NN_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def NN_TanhOp : NN_UnaryOp<"tanh", "hyperbolic tangent">;
def NN_HardswishOp : NN_UnaryOp<"hardswish", "x * min(max(x + 3, 0), 6) / 6 (MobileNetV3)">;
def NN_HardsigmoidOp : NN_UnaryOp<"hardsigmoid", "min(max(x + 3, 0), 6) / 6 (MobileNetV3's gates)">;
def NN_SiluOp : NN_UnaryOp<"silu", "x / (1 + exp(-x)), swish (EfficientNet)">;
def NN_GeluOp : NN_UnaryOp<"gelu", "x / 2 * (1 + erf(x / sqrt(2))), exact (ConvNeXt)">;

def NN_HardtanhOp : NN_Op<"hardtanh", [SameOperandsAndResultType]> {
  let summary = "min(max(x, min_val), max_val) (torch.nn.Hardtanh; ReLU6 is 0, 6)";
  let description = [{
    NaN stays NaN, as in PyTorch.

    ```mlir
    %y = nn.hardtanh %x {min_val = 0.0 : f64, max_val = 6.0 : f64} : tensor<?x32x112x112xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, F64Attr:$min_val, F64Attr:$max_val);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_LeakyReluOp : NN_Op<"leaky_relu", [SameOperandsAndResultType]> {
  let summary = "x for x > 0, else x * negative_slope (torch.nn.LeakyReLU)";
  let description = [{
    NaN stays NaN, as in PyTorch.

    ```mlir
    %y = nn.leaky_relu %x {negative_slope = 0.01 : f64} : tensor<?x32x56x56xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, F64Attr:$negative_slope);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let verifier = ?;
}

def NN_DropoutOp : NN_Op<"dropout", [SameOperandsAndResultType]> {
  let summary = "dropout: the identity at inference";
  let description = [{
    Kept in the IR so the graph mirrors the spec; `-nn-strip-inference-identities`
    removes it.

    ```mlir
    %y = nn.dropout %x {p = 5.000000e-01 : f64} : tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, F64Attr:$p);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_SoftmaxOp : NN_Op<"softmax", [SameOperandsAndResultType]> {
  let summary = "softmax along `axis` (with `log`: its logarithm, torch.log_softmax)";
  let description = [{
    ```mlir
    %y = nn.softmax %x {axis = 1} : tensor<?x10xf32>
    %z = nn.softmax %x {axis = 1, log = true} : tensor<?x10xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, I64Attr:$axis, DefaultValuedAttr<BoolAttr, "false">:$log);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_LocalResponseNormOp : NN_Op<"local_response_norm", [SameOperandsAndResultType]> {
  let summary = "local response normalization across channels (torch.nn.LocalResponseNorm)";
  let description = [{
    y = x / (k + alpha / size * sum over `size` neighbouring channels of x^2)^beta.

    ```mlir
    %y = nn.local_response_norm %x {size = 5, alpha = 1.0e-04 : f64, beta = 7.5e-01 : f64,
                                    k = 2.0 : f64} : tensor<?x96x55x55xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, I64Attr:$size, F64Attr:$alpha, F64Attr:$beta,
                       F64Attr:$k);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_ChannelAffineOp : NN_Op<"channel_affine", [SameOperandsAndResultType]> {
  let summary = "per-channel y = x * scale[c] + shift[c] with constant scale and shift";
  let description = [{
    GoogLeNet's `transform_input`.

    ```mlir
    %y = nn.channel_affine %x {scale = [0.458, 0.448, 0.45], shift = [-0.03, -0.088, -0.188]}
         : tensor<?x3x224x224xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, F64ArrayAttr:$scale, F64ArrayAttr:$shift);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def NN_AddOp : NN_Op<"add"> {
  let summary = "elementwise sum of two or more tensors of one type (residual joins)";
  let description = [{
    ```mlir
    %y = nn.add %a, %b : tensor<?x256x56x56xf32>, tensor<?x256x56x56xf32> -> tensor<?x256x56x56xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_Tensor>:$inputs);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
}

def NN_NarrowOp : NN_Op<"narrow"> {
  let summary = "`length` entries of `axis` from `start` (torch.narrow, ShuffleNet's split)";
  let description = [{
    ```mlir
    %y = nn.narrow %x {axis = 1, start = 58, length = 58} : (tensor<?x116x28x28xf32>) -> tensor<?x58x28x28xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, I64Attr:$axis, I64Attr:$start, I64Attr:$length);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def NN_PadOp : NN_Op<"pad"> {
  let summary = "`value` added around each image: pads [top, left, bottom, right]";
  let description = [{
    What a conv or pool padded unevenly reads (ONNX's pads [1,1,0,0], or
    auto_pad SAME_UPPER at stride 2): zeros for a conv, -inf for a max pool.

    ```mlir
    %y = nn.pad %x {pads = [0, 0, 1, 1], value = 0.0 : f64} : (tensor<?x32x112x112xf32>) -> tensor<?x32x113x113xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, I64ArrayAttr:$pads, F64Attr:$value);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def NN_ChannelShuffleOp : NN_Op<"channel_shuffle", [SameOperandsAndResultType]> {
  let summary = "channels of `groups` groups interleaved (ShuffleNet)";
  let description = [{
    Output channel c is input channel (c mod groups) * C / groups + c / groups,
    as PyTorch's view(N, groups, C / groups, H, W).transpose(1, 2).

    ```mlir
    %y = nn.channel_shuffle %x {groups = 2} : tensor<?x116x28x28xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, I64Attr:$groups);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_MulOp : NN_Op<"mul"> {
  let summary = "elementwise product of two tensors of one rank, broadcast where a size is 1";
  let description = [{
    Squeeze-excitation's gate: an [N, C, 1, 1] scale times its [N, C, H, W]
    input, as PyTorch's `*`.

    ```mlir
    %y = nn.mul %x, %gate : tensor<?x16x56x56xf32>, tensor<?x16x1x1xf32> -> tensor<?x16x56x56xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$lhs, NN_Tensor:$rhs);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
}

def NN_ConcatOp : NN_Op<"concat"> {
  let summary = "concatenation along `axis` (Inception's channel join)";
  let description = [{
    ```mlir
    %y = nn.concat %a, %b {axis = 1} : tensor<?x64x28x28xf32>, tensor<?x128x28x28xf32>
         -> tensor<?x192x28x28xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
}

def NN_FlattenOp : NN_Op<"flatten"> {
  let summary = "merges dimensions `start`.. into one, channel-major (torch.flatten)";
  let description = [{
    ```mlir
    %y = nn.flatten %x {start = 1} : (tensor<?x16x4x4xf32>) -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, I64Attr:$start);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

#endif // NETC_DIALECT_NN_OPS
