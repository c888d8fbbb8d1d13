#!/usr/bin/env python3
"""Runs a zoo network through netc's JIT (`netc run`) and its generated
library (the aot_run harness), and compares both with PyTorch:
max |ours - torch| <= 1e-4 * max |torch| + 1e-6, for random weights and (for
LeNet-5) the trained ones, at batch 1 and batch 7, and at batch 7 with NaN,
+-Inf and huge pixels (NaN and Inf exactly where PyTorch has them). JIT and
AOT must agree to the same tolerance. `netc run --profile` is checked against
--summary's MAC counts and its own totals.

    check_run.py --netc NETC --aot AOT_RUN --weights-dir DIR MODEL
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import torch

import netc_harness
import torch_models

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402

MODELS = {
    'lenet5': (torch_models.LeNet5, [1, 28, 28]),
    'nin': (torch_models.NIN, [1, 224, 224]),
}


def check_profile(args, weights, tmp):
    """`netc run --profile`: one line per step; the MACs behind each conv and
    linear step's GFLOP/s are --summary's; the shares and times add up; the
    output written alongside is the plain run's."""
    print(f"{args.model}, netc run --profile:")
    batch = 3
    sample = MODELS[args.model][1]
    x = torch.rand([batch] + sample, generator=torch.Generator().manual_seed(3)).numpy()
    xp, plain, profiled = (os.path.join(tmp, f) for f in ('xp.npy', 'plain.npy', 'prof.npy'))
    np.save(xp, x)
    base = [args.netc, 'run', '--entry', args.model, '--weights', weights, '--input', xp]
    netc_harness.run(base + ['--output', plain])
    out = netc_harness.run(base + ['--profile', '--repeat', '3', '--output', profiled]).stdout
    summary = netc_harness.run([args.netc, '--entry', args.model, '--summary',
                                '--input-shape', ','.join(map(str, [1] + sample))]).stdout
    macs = {}
    for line in summary.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4 and fields[1] in ('conv', 'linear'):
            macs[fields[0]] = int(fields[-1].replace(',', ''))
    failures = []
    if not np.array_equal(np.load(plain), np.load(profiled)):
        failures.append("--profile changed the output written with it")
    lines = out.splitlines()
    head = lines[0].split()
    total, steps = float(head[-4]), int(head[0])
    rows = [line.split() for line in lines[2:]]
    if len(rows) != steps:
        failures.append(f"--profile: the head says {steps} steps, {len(rows)} lines follow")
    seen = set()
    for row in rows:
        name, ms, share = row[0], float(row[1]), float(row[2].rstrip('%'))
        seen.add(name)
        # Shares are printed to 0.1 %, times to 0.1 us: what those roundings allow.
        if abs(share - 100 * ms / total) > 0.05 + 100 * 0.00005 / total * (1 + ms / total):
            failures.append(f"--profile: step {name}: share {share}% of {total} ms for {ms} ms")
        if name in macs and ms >= 0.001:
            gflops = float(row[3])
            expected = 2 * batch * macs[name] / ms / 1e6
            # Times are printed to 0.1 us: the rate is as exact as they are.
            if abs(gflops - expected) > 0.05 + expected * 0.00005 / ms:
                failures.append(f"--profile: step {name}: {gflops} GFLOP/s, but --summary's "
                                f"{macs[name]} MACs x batch {batch} in {ms} ms are {expected:.1f}")
    missing = sorted(set(macs) - seen)
    if missing:
        failures.append(f"--profile lists no step for {missing} (in --summary)")
    if abs(sum(float(row[1]) for row in rows) - total) > 0.0001 * len(rows) + 0.001:
        failures.append(f"--profile: the steps' times do not add up to {total} ms")
    print(f"  {len(rows)} steps, {len(macs)} with MACs as --summary counts them"
          + ("" if failures else ": ok"))
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--netc', required=True)
    parser.add_argument('--aot', required=True)
    parser.add_argument('--weights-dir', required=True)
    parser.add_argument('model', choices=sorted(MODELS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    constructor, sample = MODELS[args.model]

    cases = [('random weights', None)]
    trained = os.path.join(args.weights_dir, f'{args.model}_fashion_mnist.safetensors')
    if os.path.exists(trained):
        cases.append(('trained weights', trained))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, weights in cases:
            torch.manual_seed(0)
            model = constructor().eval()
            if weights is None:
                weights = os.path.join(tmp, 'w.safetensors')
                save_safetensors(weights, model.state_dict())
            else:
                model.load_state_dict({key: torch.from_numpy(array)
                                       for key, array in load_safetensors(weights).items()})
            # The last batch holds NaN, +-Inf and huge pixels (LeNet-5 once lost
            # a NaN pixel in its sigmoid after the second conv).
            for batch, specials in ((1, False), (7, False), (7, True)):
                print(f"{args.model}, {label}, batch {batch}"
                      f"{', NaN/Inf/huge pixels' if specials else ''}:")
                generator = torch.Generator().manual_seed(batch)
                x = torch.rand([batch] + sample, generator=generator)
                if specials:
                    x = torch.from_numpy(netc_harness.with_specials(x.numpy()))
                with torch.no_grad():
                    reference = model(x).numpy()
                xp, jit, aot = (os.path.join(tmp, f) for f in ('x.npy', 'jit.npy', 'aot.npy'))
                np.save(xp, x.numpy())
                netc_harness.run([args.netc, 'run', '--entry', args.model, '--weights', weights,
                     '--input', xp, '--output', jit])
                netc_harness.run([args.aot, weights, xp, aot])
                jit_out, aot_out = np.load(jit), np.load(aot)
                for name, ours, ref in (('JIT vs torch', jit_out, reference),
                                        ('AOT vs torch', aot_out, reference),
                                        ('AOT vs JIT', aot_out, jit_out)):
                    error = netc_harness.compare(name, ours, ref, atol=1e-6)
                    if error:
                        failures.append(f"{label}, batch {batch}: {error}")
        failures += check_profile(args, weights, tmp)
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
