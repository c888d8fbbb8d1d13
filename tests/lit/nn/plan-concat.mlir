// Concats in place (nn.in_place): each producer writes its slice of the
// concat's tensor. An operand other ops read too (%1, which conv b reads)
// and an in-place concat (%3) are written in place as well, so DenseNet's
// chain cat(cat(x, b(x)), c(...)) is one tensor, the readers of %3 reading
// a prefix of %5's. Under bf16 a shared operand is stored as the concat is:
// in place only where it is stored so anyway (all BF16 in @dense; in
// @dense_mixed conv b computes in fp32, so %1 stays float32 and the
// concats copy).
// RUN: %netc-opt %s --nn-plan="target=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41" | FileCheck %s
// RUN: %netc-opt %s --nn-plan="target=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41 precision=bf16" | FileCheck %s --check-prefix=BF16

// CHECK-LABEL: func @dense
// CHECK: %3 = nn.concat %1, %2 {axis = 1 : i64, nn.in_place, nn.layout = "nhwc"}
// CHECK: %5 = nn.concat %3, %4 {axis = 1 : i64, nn.in_place, nn.layout = "nhwc"}
// BF16-LABEL: func @dense(
// BF16: %1 = nn.relu %0 {nn.layout = "nhwc", nn.storage = "bf16"}
// BF16: %3 = nn.concat %1, %2 {axis = 1 : i64, nn.in_place, nn.layout = "nhwc", nn.storage = "bf16"}
// BF16: %5 = nn.concat %3, %4 {axis = 1 : i64, nn.in_place, nn.layout = "nhwc", nn.storage = "bf16"}
// BF16-LABEL: func @dense_mixed
// BF16: %1 = nn.relu %0 {nn.layout = "nhwc"}
// BF16-NOT: nn.in_place
// BF16: return
func @dense(%x: tensor<?x16x8x8xf32> {nn.input = "x"}, %w0: tensor<16x16x1x1xf32> {nn.key = "a.weight"}, %w1: tensor<16x16x3x3xf32> {nn.key = "b.weight"}, %w2: tensor<16x32x3x3xf32> {nn.key = "c.weight"}, %w3: tensor<16x48x1x1xf32> {nn.key = "d.weight"}) -> tensor<?x16x8x8xf32> {
  %0 = nn.conv2d %x, %w0 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x16x8x8xf32>, tensor<16x16x1x1xf32>) -> tensor<?x16x8x8xf32>
  %1 = nn.relu %0 : tensor<?x16x8x8xf32>
  %2 = nn.conv2d %1, %w1 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1]} : (tensor<?x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<?x16x8x8xf32>
  %3 = nn.concat %1, %2 {axis = 1} : tensor<?x16x8x8xf32>, tensor<?x16x8x8xf32> -> tensor<?x32x8x8xf32>
  %4 = nn.conv2d %3, %w2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1]} : (tensor<?x32x8x8xf32>, tensor<16x32x3x3xf32>) -> tensor<?x16x8x8xf32>
  %5 = nn.concat %3, %4 {axis = 1} : tensor<?x32x8x8xf32>, tensor<?x16x8x8xf32> -> tensor<?x48x8x8xf32>
  %6 = nn.conv2d %5, %w3 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x48x8x8xf32>, tensor<16x48x1x1xf32>) -> tensor<?x16x8x8xf32>
  return %6 : tensor<?x16x8x8xf32>
}

func @dense_mixed(%x: tensor<?x16x8x8xf32> {nn.input = "x"}, %w0: tensor<16x16x1x1xf32> {nn.key = "a.weight"}, %w1: tensor<16x16x3x3xf32> {nn.key = "b.weight"}, %w2: tensor<16x32x3x3xf32> {nn.key = "c.weight"}, %w3: tensor<16x48x1x1xf32> {nn.key = "d.weight"}) -> tensor<?x16x8x8xf32> {
  %0 = nn.conv2d %x, %w0 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x16x8x8xf32>, tensor<16x16x1x1xf32>) -> tensor<?x16x8x8xf32>
  %1 = nn.relu %0 : tensor<?x16x8x8xf32>
  %2 = nn.conv2d %1, %w1 {dilation = [1, 1], groups = 1 : i64, nn.precision = "fp32", pad = [1, 1], stride = [1, 1]} : (tensor<?x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<?x16x8x8xf32>
  %3 = nn.concat %1, %2 {axis = 1} : tensor<?x16x8x8xf32>, tensor<?x16x8x8xf32> -> tensor<?x32x8x8xf32>
  %4 = nn.conv2d %3, %w2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1]} : (tensor<?x32x8x8xf32>, tensor<16x32x3x3xf32>) -> tensor<?x16x8x8xf32>
  %5 = nn.concat %3, %4 {axis = 1} : tensor<?x32x8x8xf32>, tensor<?x16x8x8xf32> -> tensor<?x48x8x8xf32>
  %6 = nn.conv2d %5, %w3 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x48x8x8xf32>, tensor<16x48x1x1xf32>) -> tensor<?x16x8x8xf32>
  return %6 : tensor<?x16x8x8xf32>
}
