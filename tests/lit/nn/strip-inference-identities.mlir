// RUN: %netc-opt %s -nn-strip-inference-identities | FileCheck %s

// CHECK-LABEL: func @classifier
// CHECK-NOT: nn.dropout
// CHECK: %[[R:.*]] = nn.relu %arg0
// CHECK: nn.linear %[[R]], %arg1
func @classifier(%x: tensor<?x32xf32>, %w: tensor<10x32xf32>) -> tensor<?x10xf32> {
  %0 = nn.relu %x : tensor<?x32xf32>
  %1 = nn.dropout %0 {p = 0.5 : f64} : tensor<?x32xf32>
  %2 = nn.linear %1, %w : (tensor<?x32xf32>, tensor<10x32xf32>) -> tensor<?x10xf32>
  return %2 : tensor<?x10xf32>
}
