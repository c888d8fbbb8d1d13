#!/usr/bin/env bash
# A program linking a netc-generated library needs no compiler at run time
# (the Halide *runtime*, Halide::Runtime::*, is expected):
# no LLVM, MLIR or Halide compiler library among its dynamic dependencies and
# no symbol of theirs linked in.   check_symbols.sh BINARY
set -euo pipefail
binary=$1
if ldd "$binary" | grep -E 'libLLVM|libMLIR|libHalide\.so'; then
  echo "FAILED: $binary depends on a compiler library (above)" >&2
  exit 1
fi
symbols=$(nm -C "$binary" | grep -E ' (Halide::|mlir::|llvm::)' | grep -v ' Halide::Runtime::' || true)
if [ -n "$symbols" ]; then
  echo "FAILED: $binary links compiler symbols:" >&2
  echo "$symbols" | head -20 >&2
  exit 1
fi
echo "$binary: $(nm "$binary" | wc -l) symbols, none from LLVM, MLIR or the Halide compiler"
echo "dynamic dependencies: $(ldd "$binary" | awk '{print $1}' | tr '\n' ' ')"
