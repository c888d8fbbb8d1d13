#!/usr/bin/env bash
# One network's reduced-precision library, two of its code variants, run in
# turns: the AMX tile path against the level below it, in the same rounds
# (the machine's speed drifts by 1.5x within minutes; per-round ratios hold).
#   bench/isa_ab.sh [--network resnet50] [--batch 1] [--rounds 7] [--seconds 3] [--torch]
# INT8: one library with avx512-amx and avx512-vnni (calibrated by netc
# calibrate on a random batch of 4); BF16: avx512-amx and avx512, and with
# --torch PyTorch's BF16 (oneDNN, channels-last, as bench/zoo_bench.py) in
# the same rounds. Prints each round's medians, and the median of the
# per-round ratios. Needs the build (tools/test.sh or tools/bench.sh made
# it) and PyTorch with torchvision (the weights).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
network=resnet50 batch=1 rounds=7 seconds=3 torch=0
while [ $# -gt 0 ]; do
  case "$1" in
    --network) network=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --torch) torch=1; shift ;;
    *) echo "usage: bench/isa_ab.sh [--network NAME] [--batch N] [--rounds N] [--seconds S] [--torch]" >&2
       exit 2 ;;
  esac
done
case "$network" in
  resnet18|resnet50) spec=resnet.nn ;;
  vgg16) spec=vgg.nn ;;
  alexnet) spec=alexnet.nn ;;
  *) echo "bench/isa_ab.sh: --network $network: one of resnet18, resnet50, vgg16, alexnet" >&2
     exit 2 ;;
esac
netc=$root/build/compiler/tools/netc/netc
[ -x "$netc" ] || { echo "bench/isa_ab.sh: build netc first (tools/test.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
/usr/bin/python3 "$root/tools/export_torch.py" --torchvision "$network" --seed 1 w.safetensors >/dev/null
/usr/bin/python3 -c "import numpy as np; np.save('calib.npy', np.random.default_rng(0).random((4, 3, 224, 224), dtype=np.float32))"
"$netc" calibrate "$root/dsl/models/$spec" --entry "$network" --weights w.safetensors \
  --input calib.npy -o q.json >/dev/null
build() { # PRECISION ISAS [netc options]
  local precision=$1 isas=$2
  shift 2
  "$netc" "$root/dsl/models/$spec" --entry "$network" --input-shape 1,3,224,224 \
    --precision "$precision" --isa "$isas" --name m "$@" -o "lib_$precision"
  mkdir -p "inc_$precision"
  printf '#include "m.h"\nstatic const struct { const char *name; const struct netc_program *(*program)(void); } kModels[] = {{"%s", m_program}};\n' \
    "$precision" >"inc_$precision/bench_models.h"
  c++ -O2 -std=c++17 -I"inc_$precision" -I"lib_$precision" -I"$root/runtime/include" \
    "$root/bench/netc_bench.cpp" "lib_$precision/libm.a" "$root/build/runtime/libnetc_runtime.a" \
    "$root/build/netc/libnetc_halide_runtime.a" -lpthread -ldl -o "bench_$precision"
}
build int8 avx512-amx,avx512-vnni --qparams q.json
build bf16 avx512-amx,avx512
grep -m1 'model name' /proc/cpuinfo
echo "$network batch=$batch, 2 threads, $rounds rounds of >= ${seconds} s, each variant in turn"
for precision in int8 bf16; do
  [ "$precision" = int8 ] && other=avx512-vnni || other=avx512
  for round in $(seq "$rounds"); do
    for isa in avx512-amx "$other"; do
      ms=$(NETC_ISA=$isa "./bench_$precision" "$precision" w.safetensors "$batch" "$seconds" 2 |
           sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p')
      echo "$precision $round $isa $ms"
    done
    if [ "$precision" = bf16 ] && [ "$torch" = 1 ]; then
      ms=$(/usr/bin/python3 "$root/bench/torch_bf16_ms.py" "$network" "$batch" "$seconds")
      echo "$precision $round torch $ms"
    fi
  done
done | tee rounds.txt
/usr/bin/python3 - <<'EOF'
import collections, statistics
runs = collections.defaultdict(dict)
for line in open('rounds.txt'):
    precision, round_, isa, ms = line.split()
    runs[precision, round_][isa] = float(ms)
for precision, other in (('int8', 'avx512-vnni'), ('bf16', 'avx512')):
    rounds = [r for (p, _), r in runs.items() if p == precision]
    amx = statistics.median(r['avx512-amx'] for r in rounds)
    low = statistics.median(r[other] for r in rounds)
    ratio = statistics.median(r['avx512-amx'] / r[other] for r in rounds)
    print(f"{precision}: avx512-amx {amx:.2f} ms, {other} {low:.2f} ms (medians), "
          f"per-round ratio median {ratio:.2f}")
    if all('torch' in r for r in rounds):
        torch_ms = statistics.median(r['torch'] for r in rounds)
        vs = statistics.median(r['avx512-amx'] / r['torch'] for r in rounds)
        print(f"{precision}: PyTorch {torch_ms:.2f} ms (median), avx512-amx / PyTorch "
              f"per-round ratio median {vs:.2f}")
EOF
