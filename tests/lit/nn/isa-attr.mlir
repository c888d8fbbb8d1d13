// nn.isa, the instruction set a function's plan is for, is a known name on
// a function; a plan is only used for the level it was made for.
// RUN: %netc-opt %s -split-input-file --nn-plan="target=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41" -verify-diagnostics

// expected-error@+1 {{'nn.isa' is one of "avx2", "avx512", "avx512-vnni", "avx512-amx", "cuda", "opencl", "other" on a function; got "sse2"}}
func @bad(%x: tensor<?x4xf32> {nn.input = "x"}) -> tensor<?x4xf32> attributes {nn.isa = "sse2", nn.weights = []} {
  %0 = nn.relu %x : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// expected-error@+1 {{this nn IR was planned for avx2 (nn.isa), not avx512: build it for that (netc --isa avx2 on a CPU), or plan it anew from IR without a plan (netc --emit=nn)}}
func @planned(%x: tensor<?x4xf32> {nn.input = "x"}) -> tensor<?x4xf32> attributes {nn.isa = "avx2", nn.weights = []} {
  %0 = nn.relu %x : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}
