// nn IR written by hand reaches the back end only in the shape it relies on;
// anything else is a located error, never a crash.
// RUN: rm -rf %t && %python %S/../split.py %s %t
// RUN: %expect-exit 1 %netc %t/weight-as-input.mlir --entry f -o %t/o 2>&1 | FileCheck %s --check-prefix=ROLE
// RUN: %expect-exit 1 %netc %t/dynamic.mlir --entry f -o %t/o 2>&1 | FileCheck %s --check-prefix=DYN
// RUN: %expect-exit 1 %netc %t/no-body.mlir --entry f -o %t/o 2>&1 | FileCheck %s --check-prefix=BODY
// RUN: %expect-exit 1 %netc %t/weight-as-input.mlir --entry g -o %t/o 2>&1 | FileCheck %s --check-prefix=ENTRY
// ROLE: error: operand 0 of nn.relu is a weight argument where an activation is expected
// DYN: error: the code generator needs float32 tensors with static sizes (only the batch, dimension 0, may be ?), got 'tensor<?x3x?x8xf32>'
// BODY: error: the function needs a body and the network input as argument 0
// ENTRY: netc: error: {{.*}}weight-as-input.mlir: the module's function is 'f', not 'g'; give --entry f

// ---- weight-as-input.mlir
func @f(%x: tensor<?x4xf32> {nn.input = "x"}, %w: tensor<4xf32> {nn.key = "w"}) -> tensor<4xf32>
    attributes {nn.weights = [{dtype = "F32", key = "w", shape = [4]}]} {
  %0 = nn.relu %w : tensor<4xf32>
  return %0 : tensor<4xf32>
}
// ---- dynamic.mlir
func @f(%x: tensor<?x3x?x8xf32> {nn.input = "x"}) -> tensor<?x3x?x8xf32>
    attributes {nn.weights = []} {
  %0 = nn.relu %x : tensor<?x3x?x8xf32>
  return %0 : tensor<?x3x?x8xf32>
}
// ---- no-body.mlir
func private @f(%x: tensor<?x4xf32>) -> tensor<?x4xf32> attributes {nn.weights = []}
