// RUN: %netc-opt %s -nn-fuse-conv-epilogue | FileCheck %s
// RUN: %netc-opt %s -nn-fuse-conv-epilogue | %netc-opt | FileCheck %s

// A residual block: conv -> bn -> sum -> relu becomes one op at the sum's
// place, after the shortcut (itself conv -> bn) it reads.
// CHECK-LABEL: func @block
// CHECK: %[[A:.*]] = nn.fused_conv2d %arg0, %arg1 bn(%arg2, %arg3, %arg4, %arg5) {activation = "relu", bn_eps = 1.000000e-05 : f64
// CHECK: %[[S:.*]] = nn.fused_conv2d %arg0, %arg6 bn(%arg2, %arg3, %arg4, %arg5) {activation = "none", bn_eps = 1.000000e-03 : f64
// CHECK: %[[Y:.*]] = nn.fused_conv2d %[[A]], %arg1 bn(%arg2, %arg3, %arg4, %arg5) residual(%[[S]]) {activation = "relu"
// CHECK-NOT: nn.batch_norm
// CHECK-NOT: nn.add
// CHECK-NOT: nn.relu
// CHECK: return %[[Y]]
func @block(%x: tensor<?x8x6x6xf32>, %w: tensor<8x8x3x3xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>,
            %m: tensor<8xf32>, %v: tensor<8xf32>, %ws: tensor<8x8x1x1xf32>) -> tensor<?x8x6x6xf32> {
  %0 = nn.conv2d %x, %w {stride = [1, 1], pad = [1, 1], dilation = [1, 1], groups = 1}
       : (tensor<?x8x6x6xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x6x6xf32>
  %1 = nn.batch_norm %0, %g, %b, %m, %v {eps = 1.0e-05 : f64}
       : (tensor<?x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x6x6xf32>
  %2 = nn.relu %1 : tensor<?x8x6x6xf32>
  %3 = nn.conv2d %2, %w {stride = [1, 1], pad = [1, 1], dilation = [1, 1], groups = 1}
       : (tensor<?x8x6x6xf32>, tensor<8x8x3x3xf32>) -> tensor<?x8x6x6xf32>
  %4 = nn.batch_norm %3, %g, %b, %m, %v {eps = 1.0e-05 : f64}
       : (tensor<?x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x6x6xf32>
  %5 = nn.conv2d %x, %ws {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1}
       : (tensor<?x8x6x6xf32>, tensor<8x8x1x1xf32>) -> tensor<?x8x6x6xf32>
  %6 = nn.batch_norm %5, %g, %b, %m, %v {eps = 1.0e-03 : f64}
       : (tensor<?x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x6x6xf32>
  %7 = nn.add %4, %6 : tensor<?x8x6x6xf32>, tensor<?x8x6x6xf32> -> tensor<?x8x6x6xf32>
  %8 = nn.relu %7 : tensor<?x8x6x6xf32>
  return %8 : tensor<?x8x6x6xf32>
}

// A result read twice is not fused into either reader; a bias and a
// sigmoid are.
// CHECK-LABEL: func @shared
// CHECK: %[[C:.*]] = nn.conv2d %arg0, %arg1, %arg2
// CHECK: nn.batch_norm %[[C]]
// CHECK: nn.relu %[[C]]
// CHECK: nn.fused_conv2d %arg0, %arg1, %arg2 {activation = "sigmoid"
func @shared(%x: tensor<?x8x6x6xf32>, %w: tensor<8x8x1x1xf32>, %bias: tensor<8xf32>,
             %g: tensor<8xf32>) -> tensor<?x8x6x6xf32> {
  %0 = nn.conv2d %x, %w, %bias {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1}
       : (tensor<?x8x6x6xf32>, tensor<8x8x1x1xf32>, tensor<8xf32>) -> tensor<?x8x6x6xf32>
  %1 = nn.batch_norm %0, %g, %g, %g, %g {eps = 1.0e-05 : f64}
       : (tensor<?x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x6x6xf32>
  %2 = nn.relu %0 : tensor<?x8x6x6xf32>
  %3 = nn.conv2d %x, %w, %bias {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1}
       : (tensor<?x8x6x6xf32>, tensor<8x8x1x1xf32>, tensor<8xf32>) -> tensor<?x8x6x6xf32>
  %4 = nn.sigmoid %3 : tensor<?x8x6x6xf32>
  %5 = nn.add %1, %2, %4 : tensor<?x8x6x6xf32>, tensor<?x8x6x6xf32>, tensor<?x8x6x6xf32> -> tensor<?x8x6x6xf32>
  return %5 : tensor<?x8x6x6xf32>
}
