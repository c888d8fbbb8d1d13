#!/usr/bin/env python3
"""Configures and builds examples/user_project (a project outside netc's tree
that uses find_package(netc) and netc_add_model), runs its C program, built
for the CPU and for a GPU target (OpenCL, run here through pocl), and
compares their outputs with the same network in PyTorch."""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402
from netc_harness import opencl_env  # noqa: E402



class Tiny(nn.Module):
    def __init__(self, classes=4):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
                                  nn.Conv2d(8, 16, 3, padding=1, groups=2), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.body(x)), 1))


def check(source, build, netc_dir):
    """Builds the project at `source` in `build` against the netc whose
    netcConfig.cmake is in `netc_dir`; 0 when its output matches PyTorch."""
    for command in (['cmake', '-S', source, '-B', build, '-G', 'Ninja',
                     f'-Dnetc_DIR={netc_dir}', '-DTINY_GPU_TARGET=host-opencl'],
                    ['cmake', '--build', build]):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stdout + result.stderr, file=sys.stderr)
            return 1
    torch.manual_seed(3)
    model = Tiny().eval()
    x = torch.rand(5, 3, 16, 16)
    with torch.no_grad():
        reference = model(x).numpy()
    with tempfile.TemporaryDirectory() as tmp:
        w, xp, yp = (os.path.join(tmp, f) for f in ('w.safetensors', 'x.npy', 'y.npy'))
        save_safetensors(w, model.state_dict())
        np.save(xp, x.numpy())
        worst = 0
        # classify (CPU) and classify_gpu (TARGETS host-opencl, run here
        # through pocl): the same C program on the same API.
        for program in ('classify', 'classify_gpu'):
            result = subprocess.run([os.path.join(build, program), w, xp, yp],
                                    capture_output=True, text=True,
                                    env=opencl_env() if program == 'classify_gpu' else None)
            if result.returncode != 0:
                print(f"{program}: {result.stderr}", file=sys.stderr)
                return 1
            error = np.abs(np.load(yp) - reference).max()
            bound = 1e-4 * np.abs(reference).max() + 1e-6
            print(f"user project, {program}: max |ours - torch| = {error:.3g} (bound {bound:.3g})")
            worst = max(worst, error / bound)
    return 0 if worst <= 1 else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--source', required=True)
    parser.add_argument('--build', required=True)
    parser.add_argument('--netc-dir', required=True)
    args = parser.parse_args()
    return check(args.source, args.build, args.netc_dir)


if __name__ == '__main__':
    sys.exit(main())
