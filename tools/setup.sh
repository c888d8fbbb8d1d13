#!/usr/bin/env bash
# First README command: install what is missing, build netc, run the demo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
echo
echo "== netc --entry lenet5 --print-keys   (LeNet-5's parameters, named as PyTorch names them)"
build/compiler/tools/netc/netc --entry lenet5 --print-keys
echo
echo "== netc --entry lenet5 --print-shapes"
build/compiler/tools/netc/netc --entry lenet5 --print-shapes
