// Plans and layouts written by hand: kept (the parameters a plan leaves out
// are the planner's), or refused with a message at the op, by the planner
// or, for their form, by the dialect's verifier.
// RUN: %netc-opt %s -split-input-file --nn-plan="target=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41" -verify-diagnostics | FileCheck %s

// A plan written by hand names its template; the parameters it leaves out
// are the planner's.
// CHECK-LABEL: func @p
// CHECK: nn.plan = {columns = 4 : i64, rows_per_task = 2 : i64, tasks = "rows", template = "conv.direct", vectors = 1 : i64}
func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.direct", columns = 4, vectors = 1}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{nn.plan names template 'conv.fast'; nn.conv2d has 'conv.gpu', 'conv.amx', 'conv.winograd', 'conv.depthwise', 'conv.rows', 'conv.direct'}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.fast"}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{nn.plan names template 'conv.rows', which does not fit this op on}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.rows"}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{nn.plan: template 'conv.direct' has no parameter 'colums' (it takes tasks, columns, vectors, rows_per_task)}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.direct", colums = 4}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{nn.plan (template 'conv.direct'): parameter 'columns' is 40, out of range for this op (1 to 16)}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.direct", columns = 40}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{nn.plan (template 'conv.winograd'): tile 3: Winograd's F(m x m, 3x3) is implemented for tiles 2 and 4}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.winograd", tile = 3}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{nn.plan (template 'conv.direct'): parameter 'tasks' is 'pixels', expected one of 'rows', 'channels'}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.direct", tasks = "pixels"}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{nn.plan (template 'conv.direct'): parameter 'vectors' must be an integer}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.direct", vectors = "two"}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{nn.layout is "nhwc", but this tensor is the network's output or read by a flatten, which take NCHW}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.layout = "nhwc"} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{'nn.layout' must be "nchw" or "nhwc", got "chwn"}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.layout = "chwn"} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{'nn.plan' must be a dictionary naming its template}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {columns = 4}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

// A register tile larger than the target's register file (it would spill).
func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{nn.plan (template 'conv.direct'): a register tile of vectors 4 x columns 8 = 32 accumulators; avx512 has room for 28 (32 vector registers, less 4)}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.direct", vectors = 4, columns = 8}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

func @p(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x32x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}) -> tensor<?x32x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 32, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.relu %0 : tensor<?x32x16x32xf32>
  // expected-error @+1 {{nn.plan (template 'conv.winograd'): a register tile of vectors 4 x columns 8 = 32 accumulators; avx512 has room for 28}}
  %2 = nn.conv2d %1, %w2, %b2 {dilation = [1, 1], groups = 1 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.winograd", tile = 4, vectors = 4, columns = 8}} : (tensor<?x32x16x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  return %2 : tensor<?x32x16x32xf32>
}

// -----

// Row tasks written over the planner's channel blocks (a weight-heavy 7x7
// layer) get the planner's rows_per_task, not its chunk.
// CHECK-LABEL: func @rows
// CHECK: nn.plan = {columns = 7 : i64, rows_per_task = {{[0-9]+}} : i64, tasks = "rows", template = "conv.direct", vectors = {{[0-9]}} : i64}
func @rows(%x: tensor<?x512x7x7xf32> {nn.input = "x"}, %w: tensor<512x512x1x1xf32> {nn.key = "a.weight"}, %b: tensor<512xf32> {nn.key = "a.bias"}) -> tensor<?x512x7x7xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [512, 512, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [512]}]} {
  %0 = nn.relu %x : tensor<?x512x7x7xf32>
  %1 = nn.conv2d %0, %w, %b {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1], nn.plan = {template = "conv.direct", tasks = "rows"}} : (tensor<?x512x7x7xf32>, tensor<512x512x1x1xf32>, tensor<512xf32>) -> tensor<?x512x7x7xf32>
  return %1 : tensor<?x512x7x7xf32>
}

// -----

// A depthwise conv between channels-last tensors takes conv.depthwise; a
// written plan for it is checked as any other.
// CHECK-LABEL: func @dw
// CHECK: nn.conv2d {{.*}}groups = 32 : i64, nn.layout = "nhwc", nn.plan = {columns = 4 : i64, rows_per_task = 8 : i64, template = "conv.depthwise", vectors = 2 : i64}
func @dw(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x1x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}, %w3: tensor<8x32x1x1xf32> {nn.key = "c.weight"}, %b3: tensor<8xf32> {nn.key = "c.bias"}) -> tensor<?x8x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 1, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}, {dtype = "F32", key = "c.weight", shape = [8, 32, 1, 1]}, {dtype = "F32", key = "c.bias", shape = [8]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %1 = nn.conv2d %0, %w2, %b2 {dilation = [1, 1], groups = 32 : i64, pad = [1, 1], stride = [1, 1]} : (tensor<?x32x16x32xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %2 = nn.conv2d %1, %w3, %b3 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x32x16x32xf32>, tensor<8x32x1x1xf32>, tensor<8xf32>) -> tensor<?x8x16x32xf32>
  return %2 : tensor<?x8x16x32xf32>
}

// -----

func @dw(%x: tensor<?x3x16x32xf32> {nn.input = "x"}, %w1: tensor<32x3x1x1xf32> {nn.key = "a.weight"}, %b1: tensor<32xf32> {nn.key = "a.bias"}, %w2: tensor<32x1x3x3xf32> {nn.key = "b.weight"}, %b2: tensor<32xf32> {nn.key = "b.bias"}, %w3: tensor<8x32x1x1xf32> {nn.key = "c.weight"}, %b3: tensor<8xf32> {nn.key = "c.bias"}) -> tensor<?x8x16x32xf32> attributes {nn.weights = [{dtype = "F32", key = "a.weight", shape = [32, 3, 1, 1]}, {dtype = "F32", key = "a.bias", shape = [32]}, {dtype = "F32", key = "b.weight", shape = [32, 1, 3, 3]}, {dtype = "F32", key = "b.bias", shape = [32]}, {dtype = "F32", key = "c.weight", shape = [8, 32, 1, 1]}, {dtype = "F32", key = "c.bias", shape = [8]}]} {
  %0 = nn.conv2d %x, %w1, %b1 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x3x16x32xf32>, tensor<32x3x1x1xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  // expected-error @+1 {{vectors}}
  %1 = nn.conv2d %0, %w2, %b2 {dilation = [1, 1], groups = 32 : i64, pad = [1, 1], stride = [1, 1], nn.plan = {template = "conv.depthwise", vectors = 3}} : (tensor<?x32x16x32xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>) -> tensor<?x32x16x32xf32>
  %2 = nn.conv2d %1, %w3, %b3 {dilation = [1, 1], groups = 1 : i64, pad = [0, 0], stride = [1, 1]} : (tensor<?x32x16x32xf32>, tensor<8x32x1x1xf32>, tensor<8xf32>) -> tensor<?x8x16x32xf32>
  return %2 : tensor<?x8x16x32xf32>
}
