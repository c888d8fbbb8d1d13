#!/usr/bin/env bash
# First README command: install what is missing, build netc, run the demo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
echo
echo "== LeNet-5 (dsl/models/lenet.nn), compiled by netc, on the Fashion-MNIST test set"
build/examples/fashion-mnist-demo
