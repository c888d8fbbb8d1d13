#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (ASan + UBSan) in build-fuzz/ and
# runs one for SECONDS (default 600):
#   tools/fuzz.sh [dsl|runtime|onnx] [SECONDS]
# dsl: the spec front end, seeded with the zoo and fuzz/corpus/dsl.
# runtime: the safetensors and .npy readers, seeded with fuzz/corpus/runtime.
# onnx: the ONNX front end (libonnx's checker and shape inference, then
# netc's conversions), seeded with fuzz/corpus/onnx.
# New inputs go to build-fuzz/corpus-TARGET; crashes to build-fuzz/.
set -euo pipefail
target=${1:-dsl}
seconds=${2:-600}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
case "$target" in
  dsl) seeds=("$root/fuzz/corpus/dsl" "$root/dsl/models") ;;
  runtime) seeds=("$root/fuzz/corpus/runtime") ;;
  onnx) seeds=("$root/fuzz/corpus/onnx") ;;
  *) echo "usage: tools/fuzz.sh [dsl|runtime|onnx] [SECONDS]" >&2; exit 2 ;;
esac
CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETC_FUZZ=ON -DNETC_TORCH_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target "netc-$target-fuzzer"
mkdir -p "$build/corpus-$target"
cd "$build"
"./fuzz/netc-$target-fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "corpus-$target" "${seeds[@]}"
