#!/usr/bin/env python3
"""Runs torchvision networks through `netc run` (the JIT over the same Halide
pipelines the code generator emits) and compares with PyTorch at a small,
unusual input size: max |ours - torch| <= 1e-4 * max |torch| + 1e-6.
BatchNorm statistics are randomized so that folding mistakes would show.

    check_jit_torchvision.py --netc NETC MODEL
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision.models as tvm

from check_run import compare
from safetensors_io import save_safetensors

# name -> (constructor, netc entry, input shape)
MODELS = {
    'alexnet': (tvm.alexnet, 'alexnet', [2, 3, 99, 99]),
    'vgg11_bn': (tvm.vgg11_bn, 'vgg11_bn', [1, 3, 64, 48]),
    'resnet18': (tvm.resnet18, 'resnet18', [2, 3, 64, 64]),
    'googlenet': (lambda: tvm.googlenet(aux_logits=False, transform_input=True, init_weights=True),
                  'googlenet(aux=false, transform_input=true)', [2, 3, 96, 96]),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--netc', required=True)
    parser.add_argument('model', choices=sorted(MODELS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    constructor, entry, size = MODELS[args.model]
    model = constructor().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        x = torch.rand(size, generator=torch.Generator().manual_seed(1))
        reference = model(x).numpy()
    with tempfile.TemporaryDirectory() as tmp:
        w, xp, yp = (os.path.join(tmp, f) for f in ('w.safetensors', 'x.npy', 'y.npy'))
        save_safetensors(w, model.state_dict())
        np.save(xp, x.numpy())
        result = subprocess.run([args.netc, 'run', '--entry', entry, '--weights', w,
                                 '--input', xp, '--output', yp], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"netc run failed ({result.returncode}):\n{result.stderr}", file=sys.stderr)
            return 1
        print(f"{args.model} at input {size}:")
        error = compare('JIT vs torch', np.load(yp), reference)
    if error:
        print("FAILED:", error, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
