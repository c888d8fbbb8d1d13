#!/usr/bin/env python3
"""netc_add_model with an ONNX file: the trained LeNet-5 as torch.onnx
exports it (weights/lenet5_fashion_mnist.onnx, tools/export_lenet5_onnx.py),
compiled at build time like a spec. Its library loads the PyTorch checkpoint
(weights/lenet5_fashion_mnist.safetensors), matches PyTorch (1e-4·max +
1e-6) and equals the spec's library bit for bit, on random images and on a
batch with NaN, ±Inf and huge pixels.

    check_onnx_cmake.py --onnx RUNNER --spec RUNNER --weights W
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
from safetensors_io import load_safetensors  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--onnx', required=True, help="the ONNX model's runner")
    parser.add_argument('--spec', required=True, help="the spec's runner (lenet5)")
    parser.add_argument('--weights', required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = torch_models.LeNet5().eval()
    model.load_state_dict({k: torch.from_numpy(v)
                           for k, v in load_safetensors(args.weights).items()})
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for batch, specials in ((1, False), (9, False), (9, True)):
            print(f'batch {batch}{", NaN/Inf/huge pixels" if specials else ""}:')
            x = torch.rand([batch, 1, 28, 28], generator=torch.Generator().manual_seed(batch))
            if specials:
                x = torch.from_numpy(netc_harness.with_specials(x.numpy()))
            with torch.no_grad():
                reference = model(x).numpy()
            xp = os.path.join(tmp, 'x.npy')
            np.save(xp, x.numpy())
            outputs = {}
            for name, runner in (('ONNX library', args.onnx), ('spec library', args.spec)):
                yp = os.path.join(tmp, 'y.npy')
                netc_harness.run([runner, args.weights, xp, yp])
                outputs[name] = np.load(yp)
            failures += [e for e in (
                netc_harness.compare('ONNX library vs torch', outputs['ONNX library'], reference,
                                     atol=1e-6),
                netc_harness.bitwise('ONNX library vs spec library', outputs['ONNX library'],
                                     outputs['spec library'])) if e]
    return netc_harness.report(failures)


if __name__ == '__main__':
    netc_harness.run_main(main)
