#!/usr/bin/env python3
"""A zoo network in INT8 (netc calibrate, then netc --precision int8
--qparams Q.json) through its generated library and `netc run`, against
PyTorch's own static post-training quantization of the same model (FX graph
mode, the onednn engine's default qconfig: u8 activations by histogram, s8
per-channel symmetric weights, BatchNorm folded), calibrated on the same
batch: random weights with randomized BatchNorm statistics, batches 1 and 3
of other inputs, and a batch with NaN and Inf pixels. The bound is the
reduced-precision issue's: max|netc - torch_fp32| <= 1.5 * max|torch_int8 -
torch_fp32| + 1e-3 * max|torch_fp32|, with identical top-1 where PyTorch's
INT8 agrees with its FP32 by a margin. The NaN/Inf batch: INT8 has no NaN
(a NaN pixel quantizes to code 0, +Inf to 255, as PyTorch's quantize does),
so the output is finite where PyTorch INT8's is and within the same bound
of it. The library must equal the JIT bit for bit. It is built with the code
variant this CPU runs (AMX tiles, vpdpbusd or vpmaddwd; the test says
which); check_isa.py runs and inspects every variant. Prints "INT8_ERROR
model ours torch_int8" (relative to max|torch_fp32|) for the record.

    check_int8.py HARNESS-FLAGS --entry ENTRY --input-shape N,C,H,W MODEL
"""
import argparse
import copy
import json
import os
import sys
import tempfile

import numpy as np
import torch
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

import netc_harness
from check_zoo import MODELS, test_model

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402

def int8_convs():
    """What computes the INT8 convs of the variant that runs here
    (runtime/lib/Cpu.cpp's levels)."""
    try:
        flags = open('/proc/cpuinfo').read()
    except OSError:
        flags = ''
    if all(f in flags for f in ('amx_tile', 'amx_int8', 'amx_bf16')):
        return "avx512-amx: the INT8 convs run on AMX tiles (tdpbusd, netc's kernels)"
    if all(f in flags for f in ('avx512_vnni', 'avx512_bf16', 'avx512ifma', 'avx512vbmi')):
        return "avx512-vnni: the INT8 convs are vpdpbusd"
    return ("avx512 or avx2: the INT8 convs are vpmaddwd (the same integer sums); "
            "check_isa.py inspects the other variants' code")


def torch_int8(model, calibration):
    """PyTorch's FX static PTQ of `model` (onednn), calibrated on the batch."""
    torch.backends.quantized.engine = 'onednn'
    prepared = prepare_fx(copy.deepcopy(model), get_default_qconfig_mapping('onednn'),
                          example_inputs=(calibration[:1],))
    with torch.no_grad():
        prepared(calibration)
    return convert_fx(prepared)


def check(label, ours, reference, fp32, int8_error):
    """ours against `reference` (torch FP32, or torch INT8 for the NaN batch)
    within 1.5 * int8_error + 1e-3 * max|reference|; finite where it is."""
    finite = np.isfinite(reference)
    if (np.isfinite(ours) != finite).any():
        i = np.unravel_index(int(np.argmax(np.isfinite(ours) != finite)), ours.shape)
        return f"{label}: element {i} is {ours[i]}, reference {reference[i]}", 0.0
    scale = float(np.abs(reference[finite]).max()) if finite.any() else 0.0
    error = float(np.abs(ours[finite] - reference[finite]).max()) if finite.any() else 0.0
    bound = 1.5 * int8_error + 1e-3 * scale
    print(f"  {label}: max|ours - reference| {error:.4g}, max|torch_int8 - torch_fp32| "
          f"{int8_error:.4g}, bound {bound:.4g} (max|reference| {scale:.4g})")
    if not error <= bound:
        diff = np.where(finite, np.abs(ours - reference), 0)
        i = np.unravel_index(int(np.argmax(diff)), ours.shape)
        return (f"{label}: max|ours - reference| = {error:.4g} at {i} (ours {ours[i]}, "
                f"reference {reference[i]}) exceeds {bound:.4g}"), error / max(scale, 1e-30)
    return None, error / max(scale, 1e-30)


def top1(label, ours, fp32, int8):
    """Identical top-1 to FP32 for every sample where PyTorch's INT8 keeps
    FP32's top-1 and FP32's margin to the runner-up exceeds twice
    PyTorch INT8's error (a near-tie may fall either way)."""
    error = np.abs(int8 - fp32).max()
    for n in range(fp32.shape[0]):
        order = np.argsort(-fp32[n])
        margin = fp32[n, order[0]] - fp32[n, order[1]]
        if int8[n].argmax() == order[0] and margin > 2 * error and ours[n].argmax() != order[0]:
            return (f"{label}: sample {n}: top-1 {ours[n].argmax()}, FP32's {order[0]} (margin "
                    f"{margin:.4g}, PyTorch INT8 keeps it)")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    netc_harness.add_arguments(parser)
    parser.add_argument('--entry', required=True)
    parser.add_argument('--input-shape', required=True)
    parser.add_argument('--calibration-batch', type=int, default=8)
    parser.add_argument('model', choices=sorted(MODELS))
    args = parser.parse_args()
    model = test_model(args.model).eval()
    shape = [int(d) for d in args.input_shape.split(',')]
    calibration = torch.rand([args.calibration_batch] + shape[1:],
                             generator=torch.Generator().manual_seed(11))
    batches = [torch.rand([batch] + shape[1:], generator=torch.Generator().manual_seed(batch))
               for batch in (1, 3)]
    special = torch.rand([2] + shape[1:], generator=torch.Generator().manual_seed(5))
    special[0, 0, 2, 3] = float('nan')
    special[1, :, 1, 1] = float('inf')
    quantized = torch_int8(model, calibration)
    with torch.no_grad():
        fp32 = [model(x).numpy() for x in batches + [special]]
        int8 = [quantized(x).numpy() for x in batches + [special]]
    int8_errors = [float(np.abs(int8[i] - fp32[i]).max()) for i in range(2)]
    print(f"this CPU runs {int8_convs()}")
    failures, worst = [], (0.0, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        weights = os.path.join(tmp, 'w.safetensors')
        save_safetensors(weights, model.state_dict())
        calib_path, qparams = os.path.join(tmp, 'calib.npy'), os.path.join(tmp, 'q.json')
        np.save(calib_path, calibration.numpy())
        netc_harness.run([args.netc, 'calibrate', '--entry', args.entry, '--weights', weights,
                          '--input', calib_path, '-o', qparams])
        print(f"  calibrated {len(json.load(open(qparams))['tensors'])} tensors")
        extra = ['--precision', 'int8', '--qparams', qparams]
        runner = netc.compile(None, args.entry, 'int8model', shape, extra=extra)
        inputs = [x.numpy() for x in batches + [special]]
        jit = netc.jit_batches(None, args.entry, weights, inputs, extra)
        for i, x in enumerate(inputs):
            print(f"{args.model} int8, batch {x.shape[0]}" + (" (NaN, Inf)" if i == 2 else "") +
                  ":")
            aot = netc.aot(runner, weights, x)
            for label, ours in (('AOT', aot), ('JIT', jit[i])):
                if i < 2:
                    problem, relative = check(label, ours, fp32[i], fp32[i], int8_errors[i])
                    problem = problem or top1(label, ours, fp32[i], int8[i])
                    worst = max(worst, (relative, int8_errors[i] / np.abs(fp32[i]).max()))
                else:  # against PyTorch INT8, whose NaN pixel is a code as ours
                    problem, _ = check(label, ours, int8[i], fp32[i], max(int8_errors))
                if problem:
                    failures.append(f"batch {i}: {problem}")
            problem = netc_harness.bitwise('AOT vs JIT', aot, jit[i])
            if problem:
                failures.append(f"batch {i}: {problem}")
    print(f"INT8_ERROR {args.model} {worst[0]:.3g} {worst[1]:.3g}")
    return netc_harness.report(failures)


if __name__ == '__main__':
    netc_harness.run_main(main)
