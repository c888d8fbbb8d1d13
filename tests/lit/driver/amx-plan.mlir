// conv.amx's plan: `flat` (a task's rows as one run of pixels) is for stride
// 1 and for 1x1 kernels of any stride (over the input subsampled); the
// planner chooses it there (driver/isa.nn), row by row elsewhere, and a
// plan written by hand that asks for it on a strided 3x3 conv is refused at
// the op.
// RUN: %expect-exit 1 %netc %s --entry p --precision bf16 --isa avx512-amx --emit=nn-opt 2>&1 | FileCheck %s --check-prefix=STRIDED
// RUN: sed -e 's/, nn.plan = {template = "conv.amx", flat = true}//' %s > %t.mlir
// RUN: %netc %t.mlir --entry p --precision bf16 --isa avx512-amx --emit=nn-opt | FileCheck %s --check-prefix=PLANNED

// STRIDED: error: nn.plan (template 'conv.amx'): flat runs of pixels need stride 1 or a 1x1 kernel; this conv's stride is 2 with a 3x3 kernel
// PLANNED: nn.conv2d {{.*}}nn.plan = {flat = false, rows_per_task = 1 : i64, template = "conv.amx"}{{.*}}stride = [2, 2]
// PLANNED: nn.conv2d {{.*}}nn.plan = {flat = true, rows_per_task = {{[0-9]+}} : i64, template = "conv.amx"}{{.*}}stride = [2, 2]
func @p(%x: tensor<?x32x16x32xf32> {nn.input = "x"}, %w: tensor<32x32x3x3xf32> {nn.key = "a.weight"}, %b: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x1x1xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}, %w3: tensor<32x32x1x1xf32> {nn.key = "c.weight"}, %b3: tensor<32xf32> {nn.key = "c.bias"}) -> tensor<?x32x4x8xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 1, 1]}, {dtype = "F32", key = "b.bias", shape = [32]}, {dtype = "F32", key = "c.weight", shape = [32, 32, 1, 1]}, {dtype = "F32", key = "c.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w, %b {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [2, 2], nn.plan = {template = "conv.amx", flat = true}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x8x16xf32>
  %1 = nn.conv2d %0, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [2, 2]} : (tensor<?x32x8x16xf32>, tensor<32x32x1x1xf32>, tensor<32xf32>) -> tensor<?x32x4x8xf32>
  %2 = nn.conv2d %1, %w3, %b3 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x32x4x8xf32>, tensor<32x32x1x1xf32>, tensor<32xf32>) -> tensor<?x32x4x8xf32>
  return %2 : tensor<?x32x4x8xf32>
}
