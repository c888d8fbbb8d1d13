// INT8 as IR: under precision=int8 the planner writes each conv's operand
// precision, which stored tensors are u8 (nn.storage = "u8") and every
// quantized tensor's parameters (nn.quant), here written by hand as a Q.json
// gives them through netc: on the input argument the first INT8 conv reads,
// on the op that stores the u8 tensor the next reads (the relu its step ends with), and on a max pool its
// input's (it moves u8 codes as they are). A malformed nn.quant, or a
// tensor an INT8 layer reads without one, is an error naming it.
// RUN: %netc-opt %s -split-input-file --nn-plan="target=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41 precision=int8" -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func @p
// CHECK-SAME: nn.quant = {scale = 3.{{[0-9]+}}e-02 : f64, zero_point = 128 : i64}
// CHECK: nn.conv2d {{.*}}nn.precision = "int8"
// CHECK-NEXT: nn.relu {{.*}}nn.quant = {scale = 5.000000e-02 : f64, zero_point = 0 : i64}, nn.storage = "u8"
// CHECK: nn.max_pool2d {{.*}}nn.quant = {scale = 5.000000e-02 : f64, zero_point = 0 : i64}, nn.storage = "u8"
// CHECK: nn.conv2d {{.*}}template = "conv.direct"{{.*}}nn.precision = "int8"
// CHECK-NOT: nn.storage
// CHECK: return
func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x", nn.quant = {scale = 0.03 : f64, zero_point = 128 : i64}}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}) -> tensor<?x32x8x16xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}]} {
  %0 = nn.conv2d %x, %w1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>) -> tensor<?x32x16x32xf32> loc("a")
  %1 = nn.relu %0 {nn.quant = {scale = 0.05 : f64, zero_point = 0 : i64}} : tensor<?x32x16x32xf32>
  %2 = nn.max_pool2d %1 {kernel = [2, 2], stride = [2, 2], pad = [0, 0], dilation = [1, 1], ceil_mode = false} : (tensor<?x32x16x32xf32>) -> tensor<?x32x8x16xf32> loc("pool")
  %3 = nn.conv2d %2, %w2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1]} : (tensor<?x32x8x16xf32>, tensor<32x32x3x3xf32>) -> tensor<?x32x8x16xf32> loc("b")
  return %3 : tensor<?x32x8x16xf32>
}

// -----

func @q(%x: tensor<?x32x8x8xf32> {nn.input = "x"}, %w: tensor<32x32x1x1xf32> {nn.key = "a.weight"}) -> tensor<?x32x8x8xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 32, 1, 1]}]} {
  // expected-error @+1 {{'nn.quant' is {scale = S : f64, zero_point = Z : i64} with S positive and finite and Z in [0, 255], on an op with one result; got {scale = 1.000000e-01 : f64, zero_point = 300 : i64}}}
  %0 = nn.conv2d %x, %w {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1], nn.quant = {scale = 0.1 : f64, zero_point = 300 : i64}} : (tensor<?x32x8x8xf32>, tensor<32x32x1x1xf32>) -> tensor<?x32x8x8xf32>
  return %0 : tensor<?x32x8x8xf32>
}

// -----

// expected-error @+1 {{INT8 needs the quantization of tensor 'input': give --qparams Q.json (written by netc calibrate)}}
func @r(%x: tensor<?x32x8x8xf32> {nn.input = "x"}, %w: tensor<32x32x1x1xf32> {nn.key = "a.weight"}) -> tensor<?x32x8x8xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 32, 1, 1]}]} {
  %0 = nn.conv2d %x, %w {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x32x8x8xf32>, tensor<32x32x1x1xf32>) -> tensor<?x32x8x8xf32>
  return %0 : tensor<?x32x8x8xf32>
}
