#!/usr/bin/env bash
# Installs the Debian 12 packages netc needs that are not installed yet.
# Safe to rerun: with everything present it only checks (about a second).
set -euo pipefail

packages=(
  cmake ninja-build g++ python3           # build
  llvm-14-dev llvm-14-tools               # LLVM 14: llvm::cl; lit and FileCheck for tests
  libmlir-14-dev mlir-14-tools            # MLIR 14: the nn dialect (mlir-tblgen)
  libhalide14-0-dev                       # Halide 14: code generation
  libgtest-dev libbenchmark-dev           # unit tests, benchmarks
  nlohmann-json3-dev zlib1g-dev           # safetensors headers; the demo reads .gz data
  libonnx-dev libprotobuf-dev             # the ONNX front end: model, checker, shape inference
  libonnx-testdata python3-onnx           # tests: ONNX's backend tests; writing ONNX files
  python3-torch python3-torchvision python3-numpy   # the numerical reference
  dataset-fashion-mnist                   # real data for LeNet-5 / NIN
  clang-14 libclang-rt-14-dev             # libFuzzer and sanitizer runtimes
  pocl-opencl-icd ocl-icd-opencl-dev      # tests: the GPU back end run on this CPU (OpenCL)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "netc: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
