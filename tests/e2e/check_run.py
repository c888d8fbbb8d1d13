#!/usr/bin/env python3
"""Runs a zoo network through netc's JIT (`netc run`) and its generated
library (the aot_run harness), and compares both with PyTorch:
max |ours - torch| <= 1e-4 * max |torch| + 1e-6, for random weights and (for
LeNet-5) the trained ones, at batch 1 and batch 7, and at batch 7 with NaN,
+-Inf and huge pixels (NaN and Inf exactly where PyTorch has them). JIT and
AOT must agree to the same tolerance.

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
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
