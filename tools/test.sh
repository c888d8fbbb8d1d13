#!/usr/bin/env bash
# Second README command: build (if needed) and run the whole test suite.
#   tools/test.sh              Release build in build/
#   tools/test.sh --sanitize   ASan + UBSan build in build-asan/
# Extra arguments go to ctest (e.g. -L unit for the quick tier).
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
