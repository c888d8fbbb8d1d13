#!/usr/bin/env bash
# The speed benchmark, one command on a clean clone: installs what is missing
# (Debian packages, node and npm, onnxruntime-node into bench/ort), builds
# netc and the benchmark's networks, and prints one line per network and
# batch against PyTorch and ONNX Runtime (bench/zoo_bench.py).
#   tools/bench.sh                        all networks, batch 1 and 16
#   tools/bench.sh --networks resnet50    options go to bench/zoo_bench.py
#   tools/bench.sh --profile resnet50     netc's per-step profile
#   tools/bench.sh --precision fp32,bf16,int8   BF16 and INT8 lines (PyTorch's, ORT's QDQ)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/deps.sh
missing=()
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
# python3-onnx writes ONNX Runtime's INT8 (QDQ) models (bench/ort_int8.py).
dpkg-query -W -f='${Status}' python3-onnx 2>/dev/null | grep -q "install ok installed" ||
  missing+=(python3-onnx)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ! -d bench/ort/node_modules/onnxruntime-node ]; then
  # --ignore-scripts: the install script only fetches CUDA binaries; the CPU
  # library ships in the package.
  mkdir -p bench/ort
  (cd bench/ort && npm install --ignore-scripts --no-audit --no-fund --silent onnxruntime-node@1.30.0)
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target netc bench
exec /usr/bin/python3 bench/zoo_bench.py --build build --ort-dir bench/ort "$@"
