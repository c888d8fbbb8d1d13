#!/usr/bin/env python3
"""A zoo network in BF16 (netc --precision bf16) through its generated
library and `netc run`, against PyTorch: random weights with randomized
BatchNorm statistics, batches 1 and 3, and a batch with NaN and Inf pixels.
BF16 is held to PyTorch's own BF16 (the same model .to(torch.bfloat16)):
max|netc - torch_fp32| <= 1.5 * max|torch_bf16 - torch_fp32| + 1e-3 *
max|torch_fp32|, NaN where PyTorch's FP32 output is NaN. Both BF16 conv
templates run through the JIT (FP32 FMAs on widened BF16 operands, the
default, and vdpbf16ps, --bf16-dot); the library must equal the JIT's
default bit for bit. On a CPU without AVX512-BF16, --bf16-dot runs
Halide's emulation, which the test says. Prints "BF16_ERROR model ours
torch_bf16" (relative to max|torch_fp32|) for the record.

    check_bf16.py HARNESS-FLAGS --entry ENTRY --input-shape N,C,H,W MODEL
"""
import argparse
import copy
import os
import sys
import tempfile

import numpy as np
import torch

import netc_harness
from check_zoo import MODELS, test_model

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402


def has_avx512_bf16():
    try:
        return 'avx512_bf16' in open('/proc/cpuinfo').read()
    except OSError:
        return False


def check(label, ours, fp32, bf16):
    """The bound against PyTorch's BF16, NaN where PyTorch's FP32 has NaN;
    returns (problem or None, our error, torch's)."""
    nan = np.isnan(fp32)
    if (np.isnan(ours) != nan).any():
        i = np.unravel_index(int(np.argmax(np.isnan(ours) != nan)), ours.shape)
        return f"{label}: NaN at {i} is {ours[i]}, torch fp32 {fp32[i]}", 0.0, 0.0
    finite = ~nan
    scale = float(np.abs(fp32[finite]).max()) if finite.any() else 0.0
    ours_error = float(np.abs(ours[finite] - fp32[finite]).max()) if finite.any() else 0.0
    # Where PyTorch's BF16 itself overflows to NaN (its sums are BF16),
    # it sets no bound: those elements are left out of its error.
    fair = finite & ~np.isnan(bf16)
    if (finite & ~fair).any():
        print(f"  ({int((finite & ~fair).sum())} elements NaN in torch_bf16 only: left out "
              f"of its error)")
    torch_error = float(np.abs(bf16[fair] - fp32[fair]).max()) if fair.any() else 0.0
    bound = 1.5 * torch_error + 1e-3 * scale
    print(f"  {label}: max|ours - torch_fp32| {ours_error:.4g}, max|torch_bf16 - torch_fp32| "
          f"{torch_error:.4g}, bound {bound:.4g} (max|torch_fp32| {scale:.4g})")
    if not ours_error <= bound:  # (NaN fails)
        diff = np.where(finite, np.abs(ours - fp32), 0)
        i = np.unravel_index(int(np.argmax(diff)), ours.shape)
        return (f"{label}: max|ours - torch_fp32| = {ours_error:.4g} at {i} (ours {ours[i]}, "
                f"torch {fp32[i]}) exceeds {bound:.4g}"), ours_error, torch_error
    return None, ours_error / max(scale, 1e-30), torch_error / max(scale, 1e-30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    netc_harness.add_arguments(parser)
    parser.add_argument('--entry', required=True)
    parser.add_argument('--input-shape', required=True)
    parser.add_argument('model', choices=sorted(MODELS))
    args = parser.parse_args()
    model = test_model(args.model)
    shape = [int(d) for d in args.input_shape.split(',')]
    batches = [torch.rand([batch] + shape[1:], generator=torch.Generator().manual_seed(batch))
               for batch in (1, 3)]
    special = torch.rand([2] + shape[1:], generator=torch.Generator().manual_seed(5))
    special[0, 0, 2, 3] = float('nan')
    special[1, :, 1, 1] = float('inf')
    batches.append(special)
    with torch.no_grad():
        fp32 = [model(x).numpy() for x in batches]
        half = copy.deepcopy(model).to(torch.bfloat16)
        bf16 = [half(x.to(torch.bfloat16)).float().numpy() for x in batches]
    if not has_avx512_bf16():
        print("this CPU has no AVX512-BF16: --bf16-dot runs through Halide's emulation of "
              "vdpbf16ps (same arithmetic, slower)")
    failures, worst = [], (0.0, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        weights = os.path.join(tmp, 'w.safetensors')
        save_safetensors(weights, model.state_dict())
        runner = netc.compile(None, args.entry, 'bf16model', shape, extra=['--precision', 'bf16'])
        inputs = [x.numpy() for x in batches]
        widened = netc.jit_batches(None, args.entry, weights, inputs, ['--precision', 'bf16'])
        dot = netc.jit_batches(None, args.entry, weights, inputs,
                               ['--precision', 'bf16', '--bf16-dot'])
        for i, x in enumerate(inputs):
            print(f"{args.model} bf16, batch {x.shape[0]}" + (" (NaN, Inf)" if i == 2 else "") +
                  ":")
            aot = netc.aot(runner, weights, x)
            results = [check('AOT', aot, fp32[i], bf16[i]),
                       check('JIT', widened[i], fp32[i], bf16[i]),
                       check('JIT --bf16-dot', dot[i], fp32[i], bf16[i])]
            for problem, ours, theirs in results:
                if problem:
                    failures.append(f"batch {i}: {problem}")
                elif i < 2:
                    worst = max(worst, (ours, theirs))
            problem = netc_harness.bitwise('AOT vs JIT', aot, widened[i])
            if problem:
                failures.append(f"batch {i}: {problem}")
    print(f"BF16_ERROR {args.model} {worst[0]:.3g} {worst[1]:.3g}")
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
