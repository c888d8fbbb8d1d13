// The planner (nn-plan): each step's layout and template with its
// parameters, as attributes that lowering only reads; a plan already on the
// IR wins, filled up with the chosen parameters and checked
// (plan-written.mlir).
// RUN: %netc-opt %s -split-input-file --nn-plan="target=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41" -verify-diagnostics | FileCheck %s
// RUN: %netc-opt %s -split-input-file --nn-plan="target=x86-64-linux-avx-avx2-f16c-fma-sse41" -verify-diagnostics | FileCheck %s --check-prefix=AVX2
// RUN: %netc-opt %s -split-input-file --nn-plan="target=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41 winograd=false" -verify-diagnostics | FileCheck %s --check-prefix=NOWINOGRAD
// RUN: %netc-opt %s -split-input-file --nn-plan="target=host-cuda" -verify-diagnostics | FileCheck %s --check-prefix=CUDA

// Chosen: a 1x1 conv by the direct template (AVX-512: 2 vectors x 8
// columns of 16 lanes), the 3x3 one by Winograd F(4x4) (whole 4x4 tiles,
// 8 to a row); the 1x1 conv writes channels innermost, the output is NCHW.
// CHECK-LABEL: func @p
// CHECK: nn.conv2d {{.*}}nn.layout = "nhwc", nn.plan = {columns = 8 : i64, rows_per_task = 16 : i64, tasks = "rows", template = "conv.direct", vectors = 2 : i64}
// CHECK: nn.relu {{.*}}nn.layout = "nhwc"
// CHECK: nn.conv2d {{.*}}nn.layout = "nchw", nn.plan = {columns = 8 : i64, tasks = "rows", template = "conv.winograd", tile = 4 : i64, vectors = 2 : i64}
// AVX2 has 16 registers: 12 accumulators, so tiles of 2 vectors x 4 columns.
// AVX2: nn.plan = {columns = 4 : i64, rows_per_task = 16 : i64, tasks = "rows", template = "conv.direct", vectors = 2 : i64}
// AVX2: nn.plan = {columns = 4 : i64, tasks = "rows", template = "conv.winograd", tile = 4 : i64, vectors = 2 : i64}
// NOWINOGRAD: template = "conv.direct"
// NOWINOGRAD: nn.plan = {columns = 8 : i64, rows_per_task = 2 : i64, tasks = "rows", template = "conv.direct", vectors = 2 : i64}
// On a GPU: tiles of pixels per thread small enough for 256 blocks (2x1 on
// this 32x16 image), input channels staged 8 at a time.
// CUDA: nn.plan = {chunk = 3 : i64, template = "conv.gpu", tile_x = 2 : i64, tile_y = 1 : i64}
// CUDA: nn.plan = {chunk = 8 : i64, template = "conv.gpu", tile_x = 2 : i64, tile_y = 1 : i64}
func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1]} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}
