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

#endif // NETC_TRANSFORMS_PASSES
