#!/usr/bin/env bash
# Makes the bundle for the CUDA device check, here on the CPU machine:
# netc's CUDA libraries of resnet18, resnet50, googlenet, vgg16_bn and
# alexnet (224x224 inputs), each linked into the plain-C runner
# (tests/e2e/aot_run.c, which also times runs) that needs only glibc,
# libstdc++ and the NVIDIA driver's libcuda; the check script
# (tools/cuda_check.py) and its safetensors writer. No weights: the check
# makes them with torchvision on the GPU machine.
#
#   tools/cuda_check.sh [--build build] [--out build/cuda_check]
#                       [--capability 80] [--networks "resnet18 resnet50 ..."]
#                       [--api cuda|opencl]
#
# Then, on a machine with an NVIDIA GPU and PyTorch (no network needed),
# one command, about 2-4 minutes:
#
#   build/cuda_check/check            # or: check --networks resnet50 --batches 1
#
# --api opencl builds the same bundle for OpenCL, which tests the bundle on
# a CPU machine through pocl (check --api opencl compares with PyTorch on
# the CPU).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
out=
capability=80
api=cuda
networks="resnet18 resnet50 googlenet vgg16_bn alexnet"
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --capability) capability=$2; shift 2 ;;
    --networks) networks=$2; shift 2 ;;
    --api) api=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "cuda_check.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
out=${out:-$build/cuda_check}
case "$api" in
  cuda)
    case "$capability" in
      30|32|35|50|61|70|75|80|86) target=host-cuda-cuda_capability_$capability ;;
      *) echo "cuda_check.sh: --capability $capability: Halide 14 knows 30 32 35 50 61 70 75 80 86 (newer GPUs run the PTX of an older one)" >&2; exit 2 ;;
    esac ;;
  opencl) target=host-opencl ;;
  *) echo "cuda_check.sh: --api is cuda or opencl, not '$api'" >&2; exit 2 ;;
esac
netc=$build/compiler/tools/netc/netc
runtime_lib=$build/runtime/libnetc_runtime.a
for f in "$netc" "$runtime_lib"; do
  [ -e "$f" ] || { echo "cuda_check.sh: $f is missing: build netc first (tools/setup.sh)" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out/bin" "$out/tmp"
trap 'rm -rf "$out/tmp"' EXIT
"$netc" --halide-runtime "$out/tmp/halide_runtime.a" --target "$target"
for net in $networks; do
  entry=$net
  [ "$net" = googlenet ] && entry='googlenet(aux=false)'
  echo "netc: $entry for $target"
  "$netc" --entry "$entry" --name "$net" --target "$target" --input-shape 1,3,224,224 \
    -o "$out/tmp/$net"
  upper=$(echo "$net" | tr '[:lower:]' '[:upper:]')
  cc -std=c11 -O2 -Wall -Wextra -Werror "-DNETC_MODEL=$net" "-DNETC_MODEL_UPPER=$upper" \
    -I "$out/tmp/$net" -I "$root/runtime/include" -c "$root/tests/e2e/aot_run.c" \
    -o "$out/tmp/run-$net.o"
  # Needs glibc >= 2.34 and GCC 12's libstdc++ (Debian 12, Ubuntu 22.04 and
  # later); a static libstdc++ would need glibc 2.36 (arc4random).
  g++ "$out/tmp/run-$net.o" "$out/tmp/$net/lib$net.a" \
    "$runtime_lib" "$out/tmp/halide_runtime.a" -lpthread -ldl -lm -o "$out/bin/run-$net"
done
cp "$root/tools/cuda_check.py" "$out/check.py"
cp "$root/tools/safetensors_io.py" "$out/"
cat > "$out/check" <<EOF
#!/bin/sh
# netc's $api libraries against PyTorch on this machine: see check.py --help.
exec "\${PYTHON:-python3}" "\$(dirname "\$0")/check.py" --api $api --networks $(echo $networks | tr ' ' ',') "\$@"
EOF
chmod +x "$out/check"
echo "bundle: $out ($(du -sh "$out" | cut -f1)); run $out/check on the GPU machine"
