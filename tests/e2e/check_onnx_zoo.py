#!/usr/bin/env python3
"""One torchvision network exported to ONNX by torch.onnx, compiled by netc
from the ONNX file, against PyTorch and against the library netc builds
from its spec.

Two exports, each with a dynamic batch axis (exported at batch 1, run at 3):
  folded  opset 17, do_constant_folding=True, BatchNorm folded into the
          convs by the exporter (weight names like onnx::Conv_123): the
          library, with the weights `netc --export-weights` writes, and
          `netc run` on the model's own initializers, against PyTorch; the
          two bit for bit equal.
  named   opset 13 (--named-opset), do_constant_folding=False, BatchNorm kept
          (training=PRESERVE), torchvision's names: the library loads the
          torchvision checkpoint itself (the tensors the graph reads) and
          matches PyTorch, and the spec's library on the same checkpoint
          gives the same outputs (the difference is printed; bit for bit
          where both graphs are the same layers). The folded export's
          difference from the spec's library is printed too: torch.onnx
          folds BatchNorm into the weights in its own order of operations.
The zoo bound: max |ours - torch| <= 1e-4 * max|torch| + 1e-5.

    check_onnx_zoo.py [harness flags] --model NAME --entry ENTRY
                      --input-shape 1,C,H,W [--spec-runner RUNNER] [--named-opset 17]

--spec-runner is the zoo's runner for ENTRY at that size (aot_run-MODEL);
without it the spec runs through `netc run --entry ENTRY`.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch

import check_zoo
import netc_harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402


def export(model, sample, path, opset, fold, preserve):
    kwargs = {'training': torch.onnx.TrainingMode.PRESERVE} if preserve else {}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(model, torch.zeros([1] + sample), path, opset_version=opset,
                          do_constant_folding=fold, input_names=['input'],
                          output_names=['output'],
                          dynamic_axes={'input': {0: 'N'}, 'output': {0: 'N'}}, **kwargs)


def keys_of(netc, onnx_path):
    lines = netc_harness.run([netc, onnx_path, '--print-keys']).stdout.splitlines()
    return [line.split()[0] for line in lines]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    netc_harness.add_arguments(parser)
    parser.add_argument('--model', required=True, choices=sorted(check_zoo.MODELS))
    parser.add_argument('--entry', required=True)
    parser.add_argument('--input-shape', required=True)
    parser.add_argument('--spec-runner')
    parser.add_argument('--named-opset', type=int, default=13,
                        help="17 for ConvNeXt, whose LayerNorm opset 13 spells in primitives")
    args = parser.parse_args()
    model = check_zoo.test_model(args.model)
    sample = [int(d) for d in args.input_shape.split(',')][1:]
    x = torch.rand([3] + sample, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        reference = model(x).numpy()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        state = model.state_dict()
        full = os.path.join(tmp, 'full.safetensors')
        save_safetensors(full, state)
        if args.spec_runner:
            spec = netc.aot(args.spec_runner, full, x.numpy())
        else:
            spec = netc.jit(None, args.entry, full, x.numpy())

        def versus_spec(label, ours):
            if np.array_equal(ours, spec, equal_nan=True):
                print(f'  {label} vs spec library: identical')
                return None
            difference = np.abs(ours - spec).max()
            print(f'  {label} vs spec library: max difference {difference:.3g} '
                  f'(relative {difference / np.abs(spec).max():.2g})')
            return difference

        print(f'{args.model} at {[3] + sample}, folded (opset 17, constant folding):')
        folded = os.path.join(tmp, 'folded.onnx')
        export(model, sample, folded, 17, True, False)
        weights = os.path.join(tmp, 'folded.safetensors')
        netc_harness.run([args.netc, folded, '--export-weights', weights])
        runner = netc.compile(folded, None, 'folded')
        aot = netc.aot(runner, weights, x.numpy())
        jit = netc.jit(folded, None, None, x.numpy())
        failures += [e for e in (netc_harness.compare('AOT vs torch', aot, reference),
                                 netc_harness.compare('JIT vs torch', jit, reference),
                                 netc_harness.bitwise('AOT vs JIT', aot, jit)) if e]
        versus_spec('folded ONNX library', aot)

        print(f'{args.model}, named (opset {args.named_opset}, no folding, BatchNorm kept):')
        named = os.path.join(tmp, 'named.onnx')
        export(model, sample, named, args.named_opset, False, True)
        keys = keys_of(args.netc, named)
        missing = [k for k in keys if k not in state]
        if missing:
            failures.append(f'the named export reads {len(missing)} tensors the checkpoint '
                            f'lacks (torchvision names lost): {missing[:5]}')
        else:
            checkpoint = os.path.join(tmp, 'checkpoint.safetensors')
            save_safetensors(checkpoint, {k: state[k] for k in keys})
            unread = [k for k in state if k not in keys]
            if unread:
                print(f'  the graph reads {len(keys)} of the checkpoint\'s {len(state)} tensors '
                      f'(not: {", ".join(unread[:3])}{", ..." if len(unread) > 3 else ""})')
            runner = netc.compile(named, None, 'named')
            ours = netc.aot(runner, checkpoint, x.numpy())
            failures += [e for e in [netc_harness.compare('AOT vs torch', ours, reference)] if e]
            if versus_spec('named ONNX library', ours) is not None:
                failures += [e for e in [netc_harness.compare(
                    'named ONNX library vs spec library', ours, spec, rtol=1e-5, atol=1e-6)]
                    if e]
    return netc_harness.report(failures)


if __name__ == '__main__':
    netc_harness.run_main(main)
