// A plan written in the IR decides the code: this 3x3 conv, which the
// planner gives Winograd's template, is built by the direct one with the
// tile written here (4 columns by 1 vector), and --emit=nn-opt keeps it.
// RUN: %netc %s --entry p --target x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41 --emit=halide-stmt | FileCheck %s
// RUN: %netc %s --entry p --target x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41 --emit=nn-opt | FileCheck %s --check-prefix=IR

// CHECK-NOT: winograd_product
// CHECK: p_avx512_g5: conv2d [conv.direct]
// IR: nn.plan = {columns = 4 : i64, rows_per_task = 2 : i64, tasks = "rows", template = "conv.direct", vectors = 1 : i64}

module {
func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.direct", columns = 4, vectors = 1}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}
}
