#!/usr/bin/env python3
"""One torchvision network exported to ONNX by torch.onnx, compiled by netc
from the ONNX file, against PyTorch and against the library netc builds
from its spec.

Four exports, opset 13 and 17, each with and without constant folding, all
with a dynamic batch axis (exported at batch 1, run at 3); each compiled
once, through the library or through `netc run` (the JIT):
  folded  do_constant_folding=True: BatchNorm folded into the convs by the
          exporter (weight names like onnx::Conv_123). Opset 17 through the
          library with the weights `netc --export-weights` writes, opset 13
          through `netc run` on the model's own initializers; both against
          PyTorch, and bit for bit equal to each other (the same layers).
  named   do_constant_folding=False, BatchNorm kept (training=PRESERVE),
          torchvision's names: the graph reads the torchvision checkpoint
          itself. Opset 13 through the library, opset 17 through `netc run
          --weights`; both against PyTorch and bit for bit equal; the spec's
          library on the same checkpoint gives the same outputs (the
          difference is printed; bit for bit where both graphs are the same
          layers). The folded library's difference from the spec's is
          printed too: torch.onnx folds BatchNorm into the weights in its own
          order of operations.
The zoo bound: max |ours - torch| <= 1e-4 * max|torch| + 1e-5.

    check_onnx_zoo.py [harness flags] --model NAME --entry ENTRY
                      --input-shape 1,C,H,W [--spec-runner RUNNER]

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

        def exported(opset, fold):
            path = os.path.join(tmp, f'{"folded" if fold else "named"}{opset}.onnx')
            export(model, sample, path, opset, fold, not fold)
            return path

        def versus_torch(label, ours):
            failures.extend(e for e in [netc_harness.compare(label, ours, reference)] if e)

        print(f'{args.model} at {[3] + sample}, folded (constant folding, BatchNorm folded):')
        folded17 = exported(17, True)
        weights = os.path.join(tmp, 'folded.safetensors')
        netc_harness.run([args.netc, folded17, '--export-weights', weights])
        aot = netc.aot(netc.compile(folded17, None, 'folded17'), weights, x.numpy())
        versus_torch('opset 17 library vs torch', aot)
        jit = netc.jit(exported(13, True), None, None, x.numpy())
        versus_torch('opset 13 netc run vs torch', jit)
        failures += [e for e in [netc_harness.bitwise('opset 17 library vs opset 13 netc run',
                                                      aot, jit)] if e]
        versus_spec('folded ONNX library', aot)

        print(f'{args.model}, named (no folding, BatchNorm kept, torchvision\'s names):')
        named13, named17 = exported(13, False), exported(17, False)
        keys = keys_of(args.netc, named13)
        missing = [k for k in keys if k not in state]
        if keys_of(args.netc, named17) != keys:
            failures.append('the opset 13 and 17 exports read different tensors')
        elif missing:
            failures.append(f'the named export reads {len(missing)} tensors the checkpoint '
                            f'lacks (torchvision names lost): {missing[:5]}')
        else:
            checkpoint = os.path.join(tmp, 'checkpoint.safetensors')
            save_safetensors(checkpoint, {k: state[k] for k in keys})
            unread = [k for k in state if k not in keys]
            if unread:
                print(f'  the graph reads {len(keys)} of the checkpoint\'s {len(state)} tensors '
                      f'(not: {", ".join(unread[:3])}{", ..." if len(unread) > 3 else ""})')
            aot = netc.aot(netc.compile(named13, None, 'named13'), checkpoint, x.numpy())
            versus_torch('opset 13 library vs torch', aot)
            jit = netc.jit(named17, None, checkpoint, x.numpy())
            versus_torch('opset 17 netc run vs torch', jit)
            failures += [e for e in [netc_harness.bitwise(
                'opset 13 library vs opset 17 netc run', aot, jit)] if e]
            if versus_spec('named ONNX library', aot) is not None:
                failures += [e for e in [netc_harness.compare(
                    'named ONNX library vs spec library', aot, spec, rtol=1e-5, atol=1e-6)]
                    if e]
    return netc_harness.report(failures)


if __name__ == '__main__':
    netc_harness.run_main(main)
