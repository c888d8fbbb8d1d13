//===- Passes.td - Graph passes on the nn dialect --------------*- tablegen -*-===//
#ifndef NETC_TRANSFORMS_PASSES
#define NETC_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def StripInferenceIdentities : Pass<"nn-strip-inference-identities", "mlir::FuncOp"> {
  let summary = "Removes ops that are the identity at inference (nn.dropout)";
  let description = [{
    Dropout only acts in training. Before:
    ```mlir
    %1 = nn.dropout %0 {p = 5.000000e-01 : f64} : tensor<?x4096xf32>
    %2 = nn.linear %1, %w, %b : ...
    ```
    After:
    ```mlir
    %2 = nn.linear %0, %w, %b : ...
    ```
  }];
  let constructor = "netc::nn::createStripInferenceIdentitiesPass()";
}

def FuseConvEpilogue : Pass<"nn-fuse-conv-epilogue", "mlir::FuncOp"> {
  let summary = "Fuses a conv2d with the BatchNorm, residual sum and activation it alone feeds";
  let description = [{
    A conv2d whose result only a BatchNorm reads, whose result only a sum
    reads, whose result only relu, sigmoid or tanh reads, becomes one
    nn.fused_conv2d (each part optional), placed where the last fused op
    was, so every operand of the sum is already computed. The back end
    folds the BatchNorm into the conv's weights when it packs them at load
    and applies the sum and the activation to each register tile before it
    is stored: one pass over memory instead of four. Before:
    ```mlir
    %c = nn.conv2d %x, %w {...}
    %b = nn.batch_norm %c, %g, %bb, %m, %v {eps = 1.0e-05 : f64}
    %s = nn.add %b, %skip
    %y = nn.relu %s
    ```
    After:
    ```mlir
    %y = nn.fused_conv2d %x, %w bn(%g, %bb, %m, %v) residual(%skip)
         {..., bn_eps = 1.0e-05 : f64, activation = "relu"}
    ```
  }];
  let constructor = "netc::nn::createFuseConvEpiloguePass()";
}

#endif // NETC_TRANSFORMS_PASSES
