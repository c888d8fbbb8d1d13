#!/usr/bin/env python3
"""The torchvision user's path, as the README tells it: a checkpoint saved by
torch.save (plain, wrapped as {'state_dict': ...} with DataParallel's
'module.' prefix, and in half precision) is converted by
tools/export_torch.py, the network is compiled by netc, linked into a plain C
program with the README's link line, and run; its output must match
PyTorch's. Checkpoints of another network are refused by the library, and
`netc run` / `netc --check-weights` say which entry they fit.

    check_torch_path.py HARNESS-FLAGS
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision.models as tvm

import netc_harness

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools')


def export(checkpoint, out):
    netc_harness.run([sys.executable, os.path.join(TOOLS, 'export_torch.py'), checkpoint, out])
    return out


def refused(command, *needles):
    """None when `command` fails and its stderr holds every needle."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode == 0:
        return f"{' '.join(command)} accepted the weights"
    for needle in needles:
        if needle not in result.stderr:
            return f"{' '.join(command)}: '{needle}' is not in its message:\n{result.stderr}"
    print(f"  refused as expected: {result.stderr.strip().splitlines()[-1]}")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    netc_harness.add_arguments(parser)
    args = parser.parse_args()
    torch.set_num_threads(2)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        torch.manual_seed(0)
        model = tvm.resnet18().eval()
        x = torch.rand(2, 3, 64, 80, generator=torch.Generator().manual_seed(5))
        with torch.no_grad():
            reference = model(x).numpy()
        runner = netc.compile(None, 'resnet18', 'resnet18', [1, 3, 64, 80])

        plain = os.path.join(tmp, 'plain.pth')
        torch.save(model.state_dict(), plain)
        wrapped = os.path.join(tmp, 'wrapped.pth')
        torch.save({'epoch': 3, 'state_dict': {'module.' + k: v
                                                for k, v in model.state_dict().items()}}, wrapped)
        for label, checkpoint in (('state_dict', plain), ('DataParallel, wrapped', wrapped)):
            print(f"resnet18 from a {label} checkpoint:")
            weights = export(checkpoint, os.path.join(tmp, 'w.safetensors'))
            error = netc_harness.compare('AOT vs torch', netc.aot(runner, weights, x.numpy()),
                                         reference)
            if error:
                failures.append(f"{label}: {error}")

        print("resnet18 from a half-precision checkpoint:")
        half = os.path.join(tmp, 'half.pth')
        torch.save(model.half().state_dict(), half)
        model.float()
        with torch.no_grad():
            rounded = model(x).numpy()  # weights rounded through float16
        weights = export(half, os.path.join(tmp, 'w16.safetensors'))
        error = netc_harness.compare('AOT vs torch', netc.aot(runner, weights, x.numpy()), rounded)
        if error:
            failures.append(f"half precision: {error}")

        print("checkpoints of other networks:")
        torch.manual_seed(0)
        r34 = os.path.join(tmp, 'r34.pth')
        torch.save(tvm.resnet34().state_dict(), r34)
        r34 = export(r34, os.path.join(tmp, 'r34.safetensors'))
        goog = os.path.join(tmp, 'goog.pth')
        torch.save(tvm.googlenet(aux_logits=True, init_weights=True).state_dict(), goog)
        goog = export(goog, os.path.join(tmp, 'goog.safetensors'))
        xp = os.path.join(tmp, 'x.npy')
        np.save(xp, x.numpy())
        for error in (
                refused([runner, r34, xp, os.path.join(tmp, 'y.npy')],
                        'NETC_ERROR_UNEXPECTED_TENSOR', "unexpected tensor 'layer1.2.bn1.bias'"),
                refused([args.netc, 'run', '--entry', 'resnet18', '--weights', r34, '--input', xp,
                         '--output', os.path.join(tmp, 'y.npy')],
                        "these weights fit --entry 'resnet34' (= resnet(34))"),
                refused([args.netc, '--entry', 'googlenet(aux=false)', '--check-weights', goog],
                        "unexpected tensor 'aux1.", "these weights fit --entry 'googlenet' "
                        "(googlenet(classes=1000, aux=true")):
            if error:
                failures.append(error)
        result = subprocess.run([args.netc, '--entry', 'resnet18', '--check-weights',
                                 os.path.join(tmp, 'w.safetensors')], capture_output=True, text=True)
        if result.returncode != 0 or 'fits' not in result.stdout:
            failures.append(f"--check-weights refused fitting weights: {result.stderr}")
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
