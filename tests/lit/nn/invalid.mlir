// Every verifier message, each on a minimal op.
// RUN: %netc-opt %s -split-input-file -verify-diagnostics

func @conv_groups(%x: tensor<?x4x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{input has 4 channels but the weight 8x3x3x3 with groups=1 expects 3}}
  %0 = nn.conv2d %x, %w {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1}
       : (tensor<?x4x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<?x8x6x6xf32>
  return
}

// -----

func @conv_out_groups(%x: tensor<?x4x8x8xf32>, %w: tensor<6x1x3x3xf32>) {
  // expected-error @+1 {{6 output channels, groups=4 does not divide them}}
  %0 = nn.conv2d %x, %w {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 4}
       : (tensor<?x4x8x8xf32>, tensor<6x1x3x3xf32>) -> tensor<?x6x6x6xf32>
  return
}

// -----

func @conv_result(%x: tensor<?x3x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{result shape ?x8x8x8 does not match the inferred ?x8x6x6}}
  %0 = nn.conv2d %x, %w {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1}
       : (tensor<?x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<?x8x8x8xf32>
  return
}

// -----

func @conv_bias(%x: tensor<?x3x8x8xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{bias 4 does not match 8 output channels}}
  %0 = nn.conv2d %x, %w, %b {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1}
       : (tensor<?x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<4xf32>) -> tensor<?x8x6x6xf32>
  return
}

// -----

func @conv_stride(%x: tensor<?x3x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{stride must be at least 1, got (0, 1)}}
  %0 = nn.conv2d %x, %w {stride = [0, 1], pad = [0, 0], dilation = [1, 1], groups = 1}
       : (tensor<?x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<?x8x6x6xf32>
  return
}

// -----

func @conv_pair(%x: tensor<?x3x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{'pad' must have 2 elements, got 3}}
  %0 = nn.conv2d %x, %w {stride = [1, 1], pad = [0, 0, 0], dilation = [1, 1], groups = 1}
       : (tensor<?x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<?x8x6x6xf32>
  return
}

// -----

func @conv_too_small(%x: tensor<?x3x2x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{input height 2 is too small for kernel 3 with padding 0}}
  %0 = nn.conv2d %x, %w {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1}
       : (tensor<?x3x2x8xf32>, tensor<8x3x3x3xf32>) -> tensor<?x8x1x6xf32>
  return
}

// -----

func @conv_rank(%x: tensor<?x3x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{expects a 4-d NCHW input, got [N,3,8]}}
  %0 = nn.conv2d %x, %w {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1}
       : (tensor<?x3x8xf32>, tensor<8x3x3x3xf32>) -> tensor<?x8x6x6xf32>
  return
}

// -----

func @linear_features(%x: tensor<?x31xf32>, %w: tensor<10x32xf32>) {
  // expected-error @+1 {{input has 31 features but the weight 10x32 expects 32}}
  %0 = nn.linear %x, %w : (tensor<?x31xf32>, tensor<10x32xf32>) -> tensor<?x10xf32>
  return
}

// -----

func @linear_rank(%x: tensor<?x2x16xf32>, %w: tensor<10x32xf32>) {
  // expected-error @+1 {{expects a 2-d [N, features] input, got [N,2,16]}}
  %0 = nn.linear %x, %w : (tensor<?x2x16xf32>, tensor<10x32xf32>) -> tensor<?x10xf32>
  return
}

// -----

func @linear_bias(%x: tensor<?x32xf32>, %w: tensor<10x32xf32>, %b: tensor<11xf32>) {
  // expected-error @+1 {{bias 11 does not match 10 output features}}
  %0 = nn.linear %x, %w, %b : (tensor<?x32xf32>, tensor<10x32xf32>, tensor<11xf32>) -> tensor<?x10xf32>
  return
}

// -----

func @bn_channels(%x: tensor<?x8x4x4xf32>, %g: tensor<8xf32>, %v: tensor<7xf32>) {
  // expected-error @+1 {{variance 7 does not match 8 channels}}
  %0 = nn.batch_norm %x, %g, %g, %g, %v {eps = 1.0e-05 : f64}
       : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<7xf32>)
       -> tensor<?x8x4x4xf32>
  return
}

// -----

func @bn_eps(%x: tensor<?x8x4x4xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{eps must be positive, got}}
  %0 = nn.batch_norm %x, %g, %g, %g, %g {eps = 0.0 : f64}
       : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
       -> tensor<?x8x4x4xf32>
  return
}

// -----

func @pool_pad(%x: tensor<?x8x8x8xf32>) {
  // expected-error @+1 {{pad 2 is more than half the kernel 3}}
  %0 = nn.max_pool2d %x {kernel = [3, 3], stride = [1, 1], pad = [2, 2], dilation = [1, 1],
                         ceil_mode = false} : (tensor<?x8x8x8xf32>) -> tensor<?x8x10x10xf32>
  return
}

// -----

func @pool_ceil(%x: tensor<?x8x112x112xf32>) {
  // expected-error @+1 {{result shape ?x8x55x55 does not match the inferred ?x8x56x56}}
  %0 = nn.max_pool2d %x {kernel = [3, 3], stride = [2, 2], pad = [0, 0], dilation = [1, 1],
                         ceil_mode = true} : (tensor<?x8x112x112xf32>) -> tensor<?x8x55x55xf32>
  return
}

// -----

func @avg_pool_kernel(%x: tensor<?x8x8x8xf32>) {
  // expected-error @+1 {{k must be at least 1, got (0, 2)}}
  %0 = nn.avg_pool2d %x {kernel = [0, 2], stride = [1, 1], pad = [0, 0], ceil_mode = false,
                         count_include_pad = true} : (tensor<?x8x8x8xf32>) -> tensor<?x8x8x8xf32>
  return
}

// -----

func @adaptive_size(%x: tensor<?x8x8x8xf32>) {
  // expected-error @+1 {{h must be at least 1, got (0, 1)}}
  %0 = nn.adaptive_avg_pool2d %x {output_size = [0, 1]} : (tensor<?x8x8x8xf32>) -> tensor<?x8x1x1xf32>
  return
}

// -----

func @add_shapes(%a: tensor<?x8x4x4xf32>, %b: tensor<?x4x4x4xf32>) {
  // expected-error @+1 {{input 1 has shape [N,4,4,4] but input 0 has [N,8,4,4]}}
  %0 = nn.add %a, %b : tensor<?x8x4x4xf32>, tensor<?x4x4x4xf32> -> tensor<?x8x4x4xf32>
  return
}

// -----

func @add_one(%a: tensor<?x8x4x4xf32>) {
  // expected-error @+1 {{needs at least two inputs, got 1}}
  %0 = nn.add %a : tensor<?x8x4x4xf32> -> tensor<?x8x4x4xf32>
  return
}

// -----

func @concat_shapes(%a: tensor<?x8x4x4xf32>, %b: tensor<?x4x2x4xf32>) {
  // expected-error @+1 {{input 1 has shape [N,4,2,4] but input 0 has [N,8,4,4]; only dimension 1 may differ}}
  %0 = nn.concat %a, %b {axis = 1} : tensor<?x8x4x4xf32>, tensor<?x4x2x4xf32> -> tensor<?x12x4x4xf32>
  return
}

// -----

func @concat_axis(%a: tensor<?x8x4x4xf32>, %b: tensor<?x8x4x4xf32>) {
  // expected-error @+1 {{axis 4 is out of range [1, 4) for input}}
  %0 = nn.concat %a, %b {axis = 4} : tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32> -> tensor<?x8x4x4xf32>
  return
}

// -----

func @flatten_start(%x: tensor<?x8x4x4xf32>) {
  // expected-error @+1 {{start 0 is out of range [1, 4) for input}}
  %0 = nn.flatten %x {start = 0} : (tensor<?x8x4x4xf32>) -> tensor<?x128xf32>
  return
}

// -----

func @flatten_result(%x: tensor<?x8x4x4xf32>) {
  // expected-error @+1 {{result shape ?x64 does not match the inferred ?x128}}
  %0 = nn.flatten %x {start = 1} : (tensor<?x8x4x4xf32>) -> tensor<?x64xf32>
  return
}

// -----

func @dropout_p(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{p must be between 0 and 1, got 1.5}}
  %0 = nn.dropout %x {p = 1.5 : f64} : tensor<?x8xf32>
  return
}

// -----

func @softmax_axis(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range [1, 2) for input [N,8]}}
  %0 = nn.softmax %x {axis = 2} : tensor<?x8xf32>
  return
}

// -----

func @lrn_size(%x: tensor<?x8x4x4xf32>) {
  // expected-error @+1 {{size must be at least 1, got 0}}
  %0 = nn.local_response_norm %x {size = 0, alpha = 1.0e-4 : f64, beta = 0.75 : f64, k = 2.0 : f64}
       : tensor<?x8x4x4xf32>
  return
}

// -----

func @lrn_rank(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{expects a 4-d NCHW input, got}}
  %0 = nn.local_response_norm %x {size = 3, alpha = 1.0e-4 : f64, beta = 0.75 : f64, k = 2.0 : f64}
       : tensor<?x8xf32>
  return
}

// -----

func @affine_channels(%x: tensor<?x3x4x4xf32>) {
  // expected-error @+1 {{scale and shift need one value per channel (3), got 2 and 3}}
  %0 = nn.channel_affine %x {scale = [1.0, 2.0], shift = [0.0, 0.0, 0.0]} : tensor<?x3x4x4xf32>
  return
}

// -----

func @not_f32(%x: tensor<?x8xf16>) {
  // expected-error @+1 {{must be ranked tensor of 32-bit float values}}
  %0 = nn.relu %x : tensor<?x8xf16>
  return
}

// -----

func @fused_bn_count(%x: tensor<?x3x8x8xf32>, %w: tensor<8x3x3x3xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{a folded BatchNorm needs its 4 tensors (weight, bias, mean, variance) and 'bn_eps', got 2 tensors}}
  %0 = nn.fused_conv2d %x, %w bn(%g, %g) {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1, bn_eps = 1.0e-05 : f64, activation = "none"}
       : (tensor<?x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x6x6xf32>
  return
}

// -----

func @fused_residual(%x: tensor<?x3x8x8xf32>, %w: tensor<8x3x3x3xf32>, %r: tensor<?x8x8x8xf32>) {
  // expected-error @+1 {{residual of type 'tensor<?x8x8x8xf32>' does not match the result type 'tensor<?x8x6x6xf32>'}}
  %0 = nn.fused_conv2d %x, %w residual(%r) {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1, activation = "relu"}
       : (tensor<?x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<?x8x8x8xf32>) -> tensor<?x8x6x6xf32>
  return
}

// -----

func @fused_activation(%x: tensor<?x3x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{unknown activation 'gelu' (expected none, relu, sigmoid or tanh)}}
  %0 = nn.fused_conv2d %x, %w {stride = [1, 1], pad = [0, 0], dilation = [1, 1], groups = 1, activation = "gelu"}
       : (tensor<?x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<?x8x6x6xf32>
  return
}

// -----

func @hardtanh_bounds(%x: tensor<?x8x4x4xf32>) {
  // expected-error @+1 {{'nn.hardtanh' op max_val (-1.000000e+00) is below min_val (2.000000e+00)}}
  %0 = nn.hardtanh %x {min_val = 2.0 : f64, max_val = -1.0 : f64} : tensor<?x8x4x4xf32>
  return
}

// -----

func @mul_broadcast(%x: tensor<?x8x4x4xf32>, %g: tensor<?x4x1x1xf32>) {
  // expected-error @+1 {{input 1 has shape [N,4,1,1] but input 0 has [N,8,4,4]; each dimension must be equal or 1 in one of them (dimension 1)}}
  %0 = nn.mul %x, %g : tensor<?x8x4x4xf32>, tensor<?x4x1x1xf32> -> tensor<?x8x4x4xf32>
  return
}

// -----

func @mul_result(%x: tensor<?x8x4x4xf32>, %g: tensor<?x8x1x1xf32>) {
  // expected-error @+1 {{result}}
  %0 = nn.mul %x, %g : tensor<?x8x4x4xf32>, tensor<?x8x1x1xf32> -> tensor<?x8x1x1xf32>
  return
}

// -----

func @narrow_range(%x: tensor<?x8x4x4xf32>) {
  // expected-error @+1 {{length 5 from 4 runs past dimension 1's 8 entries (input [N,8,4,4])}}
  %0 = nn.narrow %x {axis = 1, start = 4, length = 5} : (tensor<?x8x4x4xf32>) -> tensor<?x5x4x4xf32>
  return
}

// -----

func @shuffle_groups(%x: tensor<?x8x4x4xf32>) {
  // expected-error @+1 {{groups 3 must be at least 1 and divide the 8 channels}}
  %0 = nn.channel_shuffle %x {groups = 3} : tensor<?x8x4x4xf32>
  return
}

// -----

func @layer_norm_weight(%x: tensor<?x8x4x4xf32>, %g: tensor<4xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{weight 4 does not match 8 channels}}
  %0 = nn.layer_norm %x, %g, %b {eps = 1.0e-06 : f64}
       : (tensor<?x8x4x4xf32>, tensor<4xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  return
}

// -----

func @channel_scale_shape(%x: tensor<?x8x4x4xf32>, %s: tensor<8xf32>) {
  // expected-error @+1 {{scale 8 is not 8x1x1}}
  %0 = nn.channel_scale %x, %s : (tensor<?x8x4x4xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  return
}

// -----

func @channel_linear_width(%x: tensor<?x8x4x4xf32>, %w: tensor<16x6xf32>) {
  // expected-error @+1 {{input has 8 channels but the weight 16x6 expects 6}}
  %0 = nn.channel_linear %x, %w : (tensor<?x8x4x4xf32>, tensor<16x6xf32>) -> tensor<?x16x4x4xf32>
  return
}
