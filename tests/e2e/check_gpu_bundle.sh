#!/usr/bin/env bash
# The device check's bundle (tools/cuda_check.sh): built for CUDA with all
# five networks; built for OpenCL and run here through pocl on resnet18,
# where it must print its result line and agree with PyTorch.
#
#   check_gpu_bundle.sh BUILD_DIR PYTHON
set -euo pipefail
build=$1
python=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/tools/cuda_check.sh" --build "$build" --out "$tmp/cuda"
for net in resnet18 resnet50 googlenet vgg16_bn alexnet; do
  test -x "$tmp/cuda/bin/run-$net" || { echo "FAILED: no runner for $net" >&2; exit 1; }
done
"$root/tools/cuda_check.sh" --build "$build" --api opencl --networks resnet18 --out "$tmp/opencl"
PYTHON=$python "$tmp/opencl/check" --batches 1 --seconds 0.2 | tee "$tmp/log"
grep -Eq '^resnet18 batch=1 netc_ms=[0-9.]+ torch_ms=[0-9.]+ ratio=[0-9.]+ max_error=[^ ]+ top1=same$' \
  "$tmp/log" || { echo "FAILED: no result line for resnet18" >&2; exit 1; }
