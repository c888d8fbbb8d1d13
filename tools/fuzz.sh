#!/usr/bin/env bash
# Builds the libFuzzer target with clang-14 (ASan + UBSan) in build-fuzz/ and
# fuzzes the spec front end for SECONDS (default 600), seeded with the zoo and
# fuzz/corpus/dsl. New inputs go to build-fuzz/corpus; crashes to build-fuzz/.
#   tools/fuzz.sh [SECONDS]
set -euo pipefail
seconds=${1:-600}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETC_FUZZ=ON -DNETC_TORCH_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target netc-dsl-fuzzer
mkdir -p "$build/corpus"
cd "$build"
./fuzz/netc-dsl-fuzzer -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 corpus "$root/fuzz/corpus/dsl" "$root/dsl/models"
