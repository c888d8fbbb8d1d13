#!/usr/bin/env python3
"""The GPU back end, checked on a machine without a GPU.

1. OpenCL through pocl (a CPU OpenCL driver): every op case of check_ops.py
   and a few zoo networks, compiled with --target host-opencl, run through
   the generated library against PyTorch. Same GPU schedules as CUDA
   (Gpu.cpp), same device runtime (weights uploaded at load, arena and
   tensors on the device, input in and output out once), so this runs both
   for real; only the code generator's last step differs (and CUDA's warp
   lanes are threads here). Then one model in one process: batches in turn
   and 4 threads at once (device_runs.c).
2. CUDA: resnet18, googlenet and vgg11_bn compiled with --target host-cuda;
   each library must hold PTX (".target sm_"). One is linked and run: with
   no NVIDIA driver, loading must fail with NETC_ERROR_NO_DEVICE and a
   message saying so; with a GPU, its output must match PyTorch.

    check_gpu.py HARNESS-FLAGS [--skip-opencl]
"""
import argparse
import copy
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

import check_ops
import check_zoo
import netc_harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import load_safetensors, save_safetensors  # noqa: E402
from torch_models import LeNet5  # noqa: E402

WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'weights')
CUDA_TARGET = 'host-cuda-cuda_capability_70'

# Zoo networks on OpenCL, small images (pocl runs them on this CPU): name
# (check_zoo.MODELS), zoo entry, input shape (C, H, W).
ZOO = [
    ('resnet18', 'resnet18', [3, 64, 64]),
    ('googlenet_noaux', 'googlenet(aux=false)', [3, 64, 64]),
    ('vgg11_bn', 'vgg11_bn', [3, 32, 32]),
    ('alexnet', 'alexnet', [3, 64, 64]),
]


def randomized(name):
    """check_zoo's network `name` with its BatchNorm statistics randomized,
    so folding them into the conv weights is exercised."""
    torch.manual_seed(1)
    model = check_zoo.MODELS[name]()
    check_zoo.randomize_batch_norm(model)
    return model.eval()


def halide_runtime(netc, target, path):
    netc_harness.run([netc, '--halide-runtime', path, '--target', target])
    return path


def with_runtime(args, runtime):
    """The harness flags with another Halide runtime (one per device API)."""
    other = copy.copy(args)
    other.halide_runtime = runtime
    return other


def opencl_available(runner, weights, tmp):
    """Whether an OpenCL device answers: LeNet-5 loads on it."""
    x = os.path.join(tmp, 'probe.npy')
    np.save(x, np.zeros((1, 1, 28, 28), np.float32))
    result = subprocess.run([runner, weights, x, os.path.join(tmp, 'probe_out.npy')],
                            capture_output=True, text=True, env=netc_harness.opencl_env())
    if result.returncode != 0:
        print(f"no OpenCL device: {result.stderr.strip()}")
    return result.returncode == 0


def check_opencl(args, tmp, failures):
    runtime = halide_runtime(args.netc, 'host-opencl', os.path.join(tmp, 'opencl_runtime.a'))
    netc = netc_harness.Netc(with_runtime(args, runtime), tmp, env=netc_harness.opencl_env())
    lenet = os.path.join(WEIGHTS, 'lenet5_fashion_mnist.safetensors')
    runner = netc.compile(None, 'lenet5', 'lenet5_ocl', target='host-opencl')
    if not opencl_available(runner, lenet, tmp):
        failures.append('OpenCL: no device (install pocl-opencl-icd; tools/deps.sh does)')
        return
    cases = []
    for name in sorted(check_ops.CASES):
        entry, factory, shape = check_ops.CASES[name][:3]
        extra = check_ops.CASES[name][3] if len(check_ops.CASES[name]) > 3 else {}
        cases.append((name, check_ops.SPEC, entry, factory, shape, extra))
    for name, spec, entry, factory, shape, extra in cases:
        torch.manual_seed(0)
        model = factory().eval()
        weights = os.path.join(tmp, f'{name}.safetensors')
        save_safetensors(weights, model.state_dict())
        runner = netc.compile(spec, entry, f'{name}_ocl', target='host-opencl')
        scale, atol = extra.get('scale', 1.0), extra.get('atol', 1e-5)
        for batch in (1, 3):
            for label, x in check_ops.inputs(shape, batch, seed=batch):
                x = x * np.float32(scale)
                print(f"OpenCL {name}, batch {batch}, {label} input:")
                with torch.no_grad():
                    reference = model(torch.from_numpy(x)).numpy()
                error = netc_harness.compare('AOT (OpenCL) vs torch', netc.aot(runner, weights, x),
                                             reference, atol=atol)
                if error:
                    failures.append(f"OpenCL {name}, batch {batch}, {label}: {error}")
    # LeNet-5 with its trained weights, then torchvision's networks.
    model = LeNet5().eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in load_safetensors(lenet).items()})
    for name, entry, shape in [('lenet5', 'lenet5', [1, 28, 28])] + ZOO:
        net = randomized(name) if name != 'lenet5' else model
        weights = lenet if name == 'lenet5' else os.path.join(tmp, f'{name}.safetensors')
        if name != 'lenet5':
            save_safetensors(weights, net.state_dict())
        runner = netc.compile(None, entry, f'{name}_zoo_ocl', input_shape=[1] + shape,
                              target='host-opencl')
        for batch in (1, 2):
            x = torch.rand([batch] + shape, generator=torch.Generator().manual_seed(batch))
            print(f"OpenCL {name}, batch {batch}:")
            with torch.no_grad():
                reference = net(x).numpy()
            ours = netc.aot(runner, weights, x.numpy())
            error = netc_harness.compare('AOT (OpenCL) vs torch', ours, reference)
            if not error and (ours.argmax(1) != reference.argmax(1)).any():
                error = f"top-1 differs: ours {ours.argmax(1)}, torch {reference.argmax(1)}"
            if error:
                failures.append(f"OpenCL {name}, batch {batch}: {error}")
    check_device_runs(with_runtime(args, runtime), tmp, failures)


def check_device_runs(args, tmp, failures):
    """One OpenCL model in one process (device_runs.c): batches 1, 3 and 2
    in turn, each against PyTorch, then 4 threads running it at once."""
    args.runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'device_runs.c')
    netc = netc_harness.Netc(args, tmp, env=netc_harness.opencl_env())
    net = randomized('resnet18')
    weights = os.path.join(tmp, 'resnet18_runs.safetensors')
    save_safetensors(weights, net.state_dict())
    runner = netc.compile(None, 'resnet18', 'resnet18_runs_ocl', input_shape=[1, 3, 32, 32],
                          target='host-opencl')
    x = torch.rand([3, 3, 32, 32], generator=torch.Generator().manual_seed(5))
    xp, prefix = os.path.join(tmp, 'runs_x.npy'), os.path.join(tmp, 'runs_y')
    np.save(xp, x.numpy())
    result = subprocess.run([runner, weights, xp, prefix], capture_output=True, text=True,
                            env=netc_harness.opencl_env())
    print(f"OpenCL resnet18, one process: {result.stdout.strip()}")
    if result.returncode != 0:
        failures.append(f"OpenCL resnet18, one process: {result.stderr.strip()}")
        return
    for batch in (1, 3, 2):
        with torch.no_grad():
            reference = net(x[:batch]).numpy()
        error = netc_harness.compare(f'batch {batch} in turn vs torch',
                                     np.load(f'{prefix}{batch}.npy'), reference)
        if error:
            failures.append(f"OpenCL resnet18, one process: {error}")


def check_cuda(args, tmp, failures):
    runtime = halide_runtime(args.netc, CUDA_TARGET, os.path.join(tmp, 'cuda_runtime.a'))
    netc = netc_harness.Netc(with_runtime(args, runtime), tmp)
    runners = {}
    for name in ('resnet18', 'googlenet', 'vgg11_bn'):
        runners[name] = netc.compile(None, name, f'{name}_cuda', input_shape=[1, 3, 224, 224],
                                     target=CUDA_TARGET)
        library = os.path.join(tmp, f'{name}_cuda', f'lib{name}_cuda.a')
        with open(library, 'rb') as f:
            kernels = f.read().count(b'.target sm_70')
        print(f"CUDA {name}: {kernels} PTX modules for sm_70 in {os.path.basename(library)}")
        if kernels == 0:
            failures.append(f"CUDA {name}: no PTX (.target sm_70) in {library}")
    net = randomized('resnet18')
    weights = os.path.join(tmp, 'resnet18_cuda.safetensors')
    save_safetensors(weights, net.state_dict())
    x = torch.rand([1, 3, 224, 224], generator=torch.Generator().manual_seed(0))
    xp, yp = os.path.join(tmp, 'cuda_x.npy'), os.path.join(tmp, 'cuda_y.npy')
    np.save(xp, x.numpy())
    result = subprocess.run([runners['resnet18'], weights, xp, yp], capture_output=True,
                            text=True)
    if result.returncode == 0:
        with torch.no_grad():
            reference = net(x).numpy()
        print("CUDA resnet18 ran on a GPU:")
        error = netc_harness.compare('AOT (CUDA) vs torch', np.load(yp), reference)
        if error:
            failures.append(f"CUDA resnet18: {error}")
        return
    message = result.stderr.strip()
    print(f"CUDA resnet18 without a GPU: exit {result.returncode}: {message}")
    expected = 'NETC_ERROR_NO_DEVICE: resnet18_cuda_load: no usable CUDA device'
    if result.returncode != 1 or not message.startswith(expected):
        failures.append(f"CUDA resnet18 without a GPU: expected exit 1 and '{expected}...', got "
                        f"exit {result.returncode}: {message}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    netc_harness.add_arguments(parser)
    parser.add_argument('--skip-opencl', action='store_true',
                        help='only the CUDA checks (no OpenCL driver here)')
    args = parser.parse_args()
    torch.set_num_threads(1)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_opencl:
            check_opencl(args, tmp, failures)
        check_cuda(args, tmp, failures)
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    print("all GPU checks passed" if not failures else f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
