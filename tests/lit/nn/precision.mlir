// Reduced precision as IR: under precision=bf16 the planner writes each
// conv's operand precision (nn.precision) and which stored tensors are BF16
// (nn.storage, on the op that writes them); a precision written by hand is
// checked. --fp32-layers keeps layers in fp32 by module path.
// RUN: %netc-opt %s -split-input-file --nn-plan="target=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41 precision=bf16" -verify-diagnostics | FileCheck %s
// RUN: %netc-opt %s -split-input-file --nn-plan="target=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41 precision=bf16 fp32-layers=b" -verify-diagnostics | FileCheck %s --check-prefix=KEEP
// RUN: not %netc-opt %s -split-input-file --nn-plan="target=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41 precision=bf16 fp32-layers=zz" 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// Both convs in BF16, by FMAs on widened operands (bf16_dot = false, the
// default), the 3x3 one directly (Winograd's transforms are fp32); the
// tensor between them is stored BF16, the network's output float32.
// CHECK-LABEL: func @p
// CHECK: nn.conv2d {{.*}}nn.precision = "bf16"
// CHECK: nn.relu {{.*}}nn.storage = "bf16"
// CHECK: nn.conv2d {{.*}}nn.plan = {bf16_dot = false, {{.*}}template = "conv.direct"{{.*}}}, nn.precision = "bf16"
// CHECK-NOT: nn.storage
// CHECK: return
// With b kept in fp32, a's output is read in fp32 and so stored float32.
// KEEP-LABEL: func @p
// KEEP: nn.conv2d {{.*}}nn.precision = "bf16"
// KEEP-NOT: nn.storage
// KEEP: nn.conv2d {{.*}}nn.precision = "fp32"
// UNKNOWN: error: --fp32-layers names 'zz', which is no conv or linear layer of p
func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32> loc("a")
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1]} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32> loc("b")
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @q(%x: tensor<?x32x8x8xf32> {nn.input = "x"}, %w: tensor<32x32x1x1xf32> {nn.key = "a.weight"}) -> tensor<?x32x8x8xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 32, 1, 1]}]} {
  // expected-error @+1 {{'nn.precision' must be "bf16", "int8" or "fp32", got "int4"}}
  %0 = nn.conv2d %x, %w {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1], nn.precision = "int4"} : (tensor<?x32x8x8xf32>, tensor<32x32x1x1xf32>) -> tensor<?x32x8x8xf32>
  return %0 : tensor<?x32x8x8xf32>
}

// -----

func @r(%x: tensor<?x32x8x8xf32> {nn.input = "x"}, %w: tensor<32x8x1x1xf32> {nn.key = "a.weight"}) -> tensor<?x32x8x8xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 8, 1, 1]}]} {
  // expected-error @+1 {{nn.precision is "bf16", but grouped convs compute in fp32 only}}
  %0 = nn.conv2d %x, %w {dilation = [1, 1], groups = 4 : i64, pad = [0, 0], stride = [1, 1], nn.precision = "bf16"} : (tensor<?x32x8x8xf32>, tensor<32x8x1x1xf32>) -> tensor<?x32x8x8xf32>
  return %0 : tensor<?x32x8x8xf32>
}

// -----

// Linears: BF16 but for the classifier's last (the logits), whose input is
// then float32; the first's input (the network's) is float32 too.
// CHECK-LABEL: func @s
// CHECK: nn.linear {{.*}}nn.precision = "bf16"
// CHECK-NEXT: nn.relu
// CHECK-NOT: nn.storage
// CHECK: nn.linear {{.*}}nn.precision = "fp32"
func @s(%x: tensor<?x64xf32> {nn.input = "x"}, %w1: tensor<32x64xf32> {nn.key = "a.weight"}, %w2: tensor<10x32xf32> {nn.key = "b.weight"}) -> tensor<?x10xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 64]}, {dtype = "F32", key = "b.weight", shape = [10, 32]}]} {
  %0 = nn.linear %x, %w1 : (tensor<?x64xf32>, tensor<32x64xf32>) -> tensor<?x32xf32>
  %1 = nn.relu %0 : tensor<?x32xf32>
  %2 = nn.linear %1, %w2 : (tensor<?x32xf32>, tensor<10x32xf32>) -> tensor<?x10xf32> loc("b")
  return %2 : tensor<?x10xf32>
}

// -----

// Channel linears (ConvNeXt's pointwise layers) compute in BF16 as 1x1
// convs, by the conv templates (conv.direct here; conv.amx where the target
// has tiles); the one to 8 channels, fewer than a vector, stays fp32, so
// the tensor it reads is stored float32 while the one between the first
// two is BF16.
// CHECK-LABEL: func @t
// CHECK: nn.channel_linear {{.*}}nn.plan = {bf16_dot = false, {{.*}}template = "conv.direct"{{.*}}}, nn.precision = "bf16"
// CHECK-NEXT: nn.gelu {{.*}}nn.storage = "bf16"
// CHECK-NEXT: nn.channel_linear {{.*}}template = "conv.direct"{{.*}}nn.precision = "bf16"
// CHECK-NOT: nn.storage
// CHECK: nn.channel_linear {{.*}}nn.plan = {template = "channel_linear"}, nn.precision = "fp32"
func @t(%x: tensor<?x32x8x8xf32> {nn.input = "x"}, %w1: tensor<64x32xf32> {nn.key = "a.weight"}, %b1: tensor<64xf32> {nn.key = "a.bias"}, %w2: tensor<32x64xf32> {nn.key = "b.weight"}, %w3: tensor<8x32xf32> {nn.key = "c.weight"}) -> tensor<?x8x8x8xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [64, 32]}, {dtype = "F32", key = "a.bias", shape = [64]}, {dtype = "F32", key = "b.weight", shape = [32, 64]}, {dtype = "F32", key = "c.weight", shape = [8, 32]}]} {
  %0 = nn.channel_linear %x, %w1, %b1 : (tensor<?x32x8x8xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<?x64x8x8xf32>
  %1 = nn.gelu %0 : tensor<?x64x8x8xf32>
  %2 = nn.channel_linear %1, %w2 : (tensor<?x64x8x8xf32>, tensor<32x64xf32>) -> tensor<?x32x8x8xf32> loc("b")
  %3 = nn.channel_linear %2, %w3 : (tensor<?x32x8x8xf32>, tensor<8x32xf32>) -> tensor<?x8x8x8xf32>
  return %3 : tensor<?x8x8x8xf32>
}
