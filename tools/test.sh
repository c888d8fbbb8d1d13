#!/usr/bin/env bash
# Second README command: build (if needed) and run the whole test suite.
#   tools/test.sh              Release build in build/
#   tools/test.sh --sanitize   ASan + UBSan build in build-asan/
# Extra arguments go to ctest (e.g. -L unit for the quick tier). The whole
# suite (no extra arguments) ends with the spec, weights and ONNX fuzzers, each for
# NETC_FUZZ_SECONDS (default 60; 0 skips them) from their corpora.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=build
flags=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build=build-asan
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETC_SANITIZE=ON)
fi
tools/deps.sh
cmake -S . -B "$build" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$build" -j2
ctest --test-dir "$build" -j2 --output-on-failure "$@"
fuzz_seconds=${NETC_FUZZ_SECONDS:-60}
if [ $# -eq 0 ] && [ "$fuzz_seconds" -gt 0 ]; then
  for target in dsl runtime onnx; do
    echo "fuzzing the $target reader for ${fuzz_seconds} s (tools/fuzz.sh $target)"
    log="$build/fuzz-$target.log"
    if ! tools/fuzz.sh "$target" "$fuzz_seconds" >"$log" 2>&1; then
      tail -n 60 "$log"
      echo "the $target fuzzer failed: $log; the input is in build-fuzz/" >&2
      exit 1
    fi
    grep -E "^stat::(number_of_executed_units|new_units_added)" "$log" || tail -n 4 "$log"
  done
fi
