// Every op parses, verifies and prints back to a form that parses again.
// RUN: %netc-opt %s | %netc-opt | FileCheck %s

// CHECK-LABEL: func @all_ops
func @all_ops(%x: tensor<?x4x8x8xf32>, %w: tensor<8x2x3x3xf32>, %b: tensor<8xf32>,
              %g: tensor<8xf32>, %lw: tensor<10x32xf32>) -> tensor<?x10xf32> {
  // CHECK: nn.conv2d %{{.*}}, %{{.*}}, %{{.*}} {dilation = [1, 1], groups = 2 : i64, pad = [1, 1], stride = [2, 2]}
  %0 = nn.conv2d %x, %w, %b {stride = [2, 2], pad = [1, 1], dilation = [1, 1], groups = 2}
       : (tensor<?x4x8x8xf32>, tensor<8x2x3x3xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  // CHECK: nn.batch_norm
  %1 = nn.batch_norm %0, %g, %b, %g, %g {eps = 1.0e-05 : f64}
       : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
       -> tensor<?x8x4x4xf32>
  // CHECK: nn.relu
  %2 = nn.relu %1 : tensor<?x8x4x4xf32>
  %3 = nn.sigmoid %2 : tensor<?x8x4x4xf32>
  %4 = nn.tanh %3 : tensor<?x8x4x4xf32>
  // CHECK: nn.add
  %5 = nn.add %4, %2 : tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32> -> tensor<?x8x4x4xf32>
  // CHECK: nn.concat {{.*}} {axis = 1 : i64} : tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32> -> tensor<?x16x4x4xf32>
  %6 = nn.concat %5, %4 {axis = 1} : tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32> -> tensor<?x16x4x4xf32>
  // CHECK: nn.max_pool2d
  %7 = nn.max_pool2d %6 {kernel = [3, 3], stride = [2, 2], pad = [0, 0], dilation = [1, 1],
                         ceil_mode = true} : (tensor<?x16x4x4xf32>) -> tensor<?x16x2x2xf32>
  // CHECK: nn.avg_pool2d
  %8 = nn.avg_pool2d %7 {kernel = [1, 1], stride = [1, 1], pad = [0, 0], ceil_mode = false,
                         count_include_pad = true} : (tensor<?x16x2x2xf32>) -> tensor<?x16x2x2xf32>
  // CHECK: nn.local_response_norm
  %9 = nn.local_response_norm %8 {size = 5, alpha = 1.0e-4 : f64, beta = 0.75 : f64, k = 2.0 : f64}
       : tensor<?x16x2x2xf32>
  // CHECK: nn.adaptive_avg_pool2d
  %10 = nn.adaptive_avg_pool2d %9 {output_size = [1, 2]} : (tensor<?x16x2x2xf32>) -> tensor<?x16x1x2xf32>
  // CHECK: nn.flatten
  %11 = nn.flatten %10 {start = 1} : (tensor<?x16x1x2xf32>) -> tensor<?x32xf32>
  // CHECK: nn.dropout
  %12 = nn.dropout %11 {p = 0.5 : f64} : tensor<?x32xf32>
  // CHECK: nn.linear %{{.*}}, %{{.*}} : (tensor<?x32xf32>, tensor<10x32xf32>) -> tensor<?x10xf32>
  %13 = nn.linear %12, %lw : (tensor<?x32xf32>, tensor<10x32xf32>) -> tensor<?x10xf32>
  // CHECK: nn.softmax
  %14 = nn.softmax %13 {axis = 1} : tensor<?x10xf32>
  return %14 : tensor<?x10xf32>
}

// CHECK-LABEL: func @affine
func @affine(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // CHECK: nn.channel_affine %{{.*}} {scale = [4.580000e-01, 4.480000e-01, 4.500000e-01], shift = [-3.000000e-02, -0.087999999999999994, -1.880000e-01]}
  %0 = nn.channel_affine %x {scale = [0.458, 0.448, 0.45], shift = [-0.03, -0.088, -0.188]}
       : tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// CHECK-LABEL: func @mobile
func @mobile(%x: tensor<?x8x4x4xf32>, %g: tensor<?x8x1x1xf32>) -> tensor<?x8x4x4xf32> {
  // CHECK: nn.hardtanh %{{.*}} {max_val = 6.000000e+00 : f64, min_val = 0.000000e+00 : f64} : tensor<?x8x4x4xf32>
  %0 = nn.hardtanh %x {min_val = 0.0 : f64, max_val = 6.0 : f64} : tensor<?x8x4x4xf32>
  // CHECK: nn.hardswish
  %1 = nn.hardswish %0 : tensor<?x8x4x4xf32>
  // CHECK: nn.hardsigmoid
  %2 = nn.hardsigmoid %g : tensor<?x8x1x1xf32>
  // CHECK: nn.silu
  %3 = nn.silu %1 : tensor<?x8x4x4xf32>
  // CHECK: nn.mul %{{.*}}, %{{.*}} : tensor<?x8x4x4xf32>, tensor<?x8x1x1xf32> -> tensor<?x8x4x4xf32>
  %4 = nn.mul %3, %2 : tensor<?x8x4x4xf32>, tensor<?x8x1x1xf32> -> tensor<?x8x4x4xf32>
  return %4 : tensor<?x8x4x4xf32>
}

// CHECK-LABEL: func @shuffle
func @shuffle(%x: tensor<?x8x4x4xf32>) -> tensor<?x4x4x4xf32> {
  // CHECK: nn.narrow %{{.*}} {axis = 1 : i64, length = 4 : i64, start = 4 : i64} : (tensor<?x8x4x4xf32>) -> tensor<?x4x4x4xf32>
  %0 = nn.narrow %x {axis = 1, start = 4, length = 4} : (tensor<?x8x4x4xf32>) -> tensor<?x4x4x4xf32>
  // CHECK: nn.channel_shuffle %{{.*}} {groups = 2 : i64} : tensor<?x4x4x4xf32>
  %1 = nn.channel_shuffle %0 {groups = 2} : tensor<?x4x4x4xf32>
  return %1 : tensor<?x4x4x4xf32>
}

// CHECK-LABEL: func @convnext
func @convnext(%x: tensor<?x8x4x4xf32>, %g: tensor<8xf32>, %w: tensor<16x8xf32>,
               %b: tensor<16xf32>, %s: tensor<16x1x1xf32>) -> tensor<?x16x4x4xf32> {
  // CHECK: nn.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {eps = 9.9999999999999995E-7 : f64}
  %0 = nn.layer_norm %x, %g, %g {eps = 1.0e-06 : f64}
       : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  // CHECK: nn.channel_linear
  %1 = nn.channel_linear %0, %w, %b : (tensor<?x8x4x4xf32>, tensor<16x8xf32>, tensor<16xf32>)
       -> tensor<?x16x4x4xf32>
  // CHECK: nn.gelu
  %2 = nn.gelu %1 : tensor<?x16x4x4xf32>
  // CHECK: nn.channel_scale
  %3 = nn.channel_scale %2, %s : (tensor<?x16x4x4xf32>, tensor<16x1x1xf32>) -> tensor<?x16x4x4xf32>
  return %3 : tensor<?x16x4x4xf32>
}
