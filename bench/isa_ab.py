#!/usr/bin/env python3
"""One network's reduced-precision libraries, two code variants each, in turns.

    bench/isa_ab.py [--network resnet50] [--batch 1] [--rounds 7] [--seconds 3] [--torch]

The AMX tile path against the level below it, in the same rounds (the
machine's speed drifts by 1.5x within minutes; per-round ratios hold): one
INT8 library with the avx512-amx and avx512-vnni variants (calibrated by
netc calibrate on a random batch of 4), one BF16 library with avx512-amx and
avx512, each variant chosen by NETC_ISA; with --torch, PyTorch's BF16 (as
bench/zoo_bench.py measures it) in the same rounds. Prints each round's
medians and the median of the per-round ratios. Needs the build in build/
(tools/test.sh or tools/bench.sh makes it) and PyTorch with torchvision.
"""
import argparse
import copy
import os
import statistics
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zoo_bench import (NETWORKS, ROOT, median_ms, netc_bench_for, run,  # noqa: E402
                       save_safetensors, torch_ms)

LOWER = {'int8': 'avx512-vnni', 'bf16': 'avx512'}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--network', default='resnet50', choices=sorted(NETWORKS))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--seconds', type=float, default=3)
    parser.add_argument('--torch', action='store_true', help="PyTorch's BF16 in the same rounds")
    args = parser.parse_args()
    build = os.path.join(ROOT, 'build')
    netc = os.path.join(build, 'compiler', 'tools', 'netc', 'netc')
    if not os.access(netc, os.X_OK):
        raise SystemExit('bench/isa_ab.py: build netc first (tools/test.sh)')
    torch.set_num_threads(2)
    constructor, entry, sample = NETWORKS[args.network]
    model = constructor().eval()
    with tempfile.TemporaryDirectory() as tmp:
        weights, calib = os.path.join(tmp, 'w.safetensors'), os.path.join(tmp, 'calib.npy')
        save_safetensors(weights, model.state_dict())
        np.save(calib, np.random.default_rng(0).random([4] + sample, dtype=np.float32))
        qparams = os.path.join(tmp, 'q.json')
        run([netc, 'calibrate', '--entry', entry, '--weights', weights, '--input', calib,
             '-o', qparams])
        benches = {p: netc_bench_for(build, netc, entry, sample, p, os.path.join(tmp, p),
                                     ['--precision', p, '--isa', f'avx512-amx,{LOWER[p]}'] +
                                     (['--qparams', qparams] if p == 'int8' else []))
                   for p in LOWER}
        half = copy.deepcopy(model).to(torch.bfloat16).to(memory_format=torch.channels_last)
        x = torch.rand([args.batch] + sample).to(torch.bfloat16).to(
            memory_format=torch.channels_last)
        print(f"{args.network} batch={args.batch}, 2 threads, {args.rounds} rounds of >= "
              f"{args.seconds:g} s, each variant in turn")
        rounds = {p: [] for p in LOWER}
        for precision, bench in benches.items():
            for i in range(args.rounds):
                times = {}
                for isa in ('avx512-amx', LOWER[precision]):
                    times[isa] = median_ms(run(
                        [bench, precision, weights, str(args.batch), str(args.seconds), '2'],
                        env=dict(os.environ, NETC_ISA=isa)))
                if precision == 'bf16' and args.torch:
                    times['torch'] = torch_ms(half, x, args.seconds)
                print(precision, i + 1, ' '.join(f'{k} {v:.3f}' for k, v in times.items()),
                      flush=True)
                rounds[precision].append(times)
    for precision, runs in rounds.items():
        lower = LOWER[precision]
        amx = statistics.median(r['avx512-amx'] for r in runs)
        low = statistics.median(r[lower] for r in runs)
        ratio = statistics.median(r['avx512-amx'] / r[lower] for r in runs)
        print(f"{precision}: avx512-amx {amx:.2f} ms, {lower} {low:.2f} ms (medians), "
              f"per-round ratio median {ratio:.2f}")
        if 'torch' in runs[0]:
            vs = statistics.median(r['avx512-amx'] / r['torch'] for r in runs)
            print(f"{precision}: PyTorch {statistics.median(r['torch'] for r in runs):.2f} ms "
                  f"(median), avx512-amx / PyTorch per-round ratio median {vs:.2f}")


if __name__ == '__main__':
    main()
