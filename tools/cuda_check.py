#!/usr/bin/env python3
"""netc's GPU libraries against PyTorch on the same GPU: parity and time.

Runs from a bundle made by tools/cuda_check.sh (bin/run-NETWORK, this
script as check.py, safetensors_io.py), with the PyTorch found on the GPU
machine and no network: it makes each network's weights with torchvision
(random, seeded, BatchNorm statistics randomized so folding them matters)
and a random input, runs the netc library and PyTorch in FP32 (TF32 off for
cuDNN and matmul), checks max |netc - torch| <= 1e-4 * max|torch| + 1e-5
and the same top-1 for every item, and times both for at least --seconds,
each run from a host input to a host output (the copies in and out
included for both), median:

  NETWORK batch=B netc_ms=X torch_ms=Y ratio=X/Y max_error=E top1=same

Exit status 1 when any network's output disagrees with PyTorch's.

    ./check [--networks resnet18,...] [--batches 1,8] [--seconds 2]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision.models as tvm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_io import save_safetensors  # noqa: E402

NETWORKS = {
    'resnet18': tvm.resnet18,
    'resnet50': tvm.resnet50,
    'googlenet': lambda: tvm.googlenet(aux_logits=False, init_weights=True),
    'vgg16_bn': tvm.vgg16_bn,
    'alexnet': tvm.alexnet,
}


def make_model(name):
    torch.manual_seed(0)
    model = NETWORKS[name]()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def time_torch(model, x, device, seconds):
    """Median ms of model(x) from host to host, over at least `seconds`."""
    def once():
        with torch.no_grad():
            return model(x.to(device)).cpu()
    once()
    times, start = [], time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        once()  # .cpu() waits for the device
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--networks', default=','.join(NETWORKS))
    parser.add_argument('--batches', default='1,8')
    parser.add_argument('--seconds', type=float, default=2.0)
    parser.add_argument('--size', type=int, default=224, help='input height and width (the '
                        'bundle was compiled for 224)')
    parser.add_argument('--api', choices=['cuda', 'opencl'], default='cuda',
                        help='what the bundle was built for; opencl (a self-test on a CPU '
                             'machine) compares with PyTorch on the CPU')
    args = parser.parse_args()
    if args.api == 'cuda':
        if not torch.cuda.is_available():
            print("error: PyTorch sees no CUDA device here", file=sys.stderr)
            return 2
        device = torch.device('cuda')
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        print(f"GPU: {torch.cuda.get_device_name(0)}; PyTorch {torch.__version__}, FP32, "
              "TF32 off", flush=True)
    else:
        device = torch.device('cpu')
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.networks.split(','):
            if name not in NETWORKS:
                print(f"error: unknown network '{name}' (known: {', '.join(NETWORKS)})",
                      file=sys.stderr)
                return 2
            runner = os.path.join(HERE, 'bin', f'run-{name}')
            model = make_model(name)
            weights = os.path.join(tmp, f'{name}.safetensors')
            save_safetensors(weights, model.state_dict())
            model = model.to(device)
            for batch in (int(b) for b in args.batches.split(',')):
                x = torch.rand([batch, 3, args.size, args.size],
                               generator=torch.Generator().manual_seed(batch))
                xp, yp = os.path.join(tmp, 'x.npy'), os.path.join(tmp, 'y.npy')
                np.save(xp, x.numpy())
                run = subprocess.run([runner, weights, xp, yp, '0', str(args.seconds)],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    failures.append(f"{name} batch={batch}: {run.stderr.strip()}")
                    print(f"{name} batch={batch} netc failed: {run.stderr.strip()}", flush=True)
                    continue
                netc_ms = float(run.stdout.split('median_ms=')[1].split()[0])
                with torch.no_grad():
                    reference = model(x.to(device)).cpu().numpy()
                ours = np.load(yp)
                error = float(np.abs(ours - reference).max())
                bound = 1e-4 * float(np.abs(reference).max()) + 1e-5
                same = bool((ours.argmax(1) == reference.argmax(1)).all())
                torch_ms = time_torch(model, x, device, args.seconds)
                print(f"{name} batch={batch} netc_ms={netc_ms:.3f} torch_ms={torch_ms:.3f} "
                      f"ratio={netc_ms / torch_ms:.2f} max_error={error:.3g} "
                      f"top1={'same' if same else 'DIFFERS'}", flush=True)
                if not (error <= bound and same):
                    failures.append(f"{name} batch={batch}: max error {error:.3g} (bound "
                                    f"{bound:.3g}), top-1 {'same' if same else 'differs'}")
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    print("parity: all networks agree with PyTorch" if not failures
          else f"parity: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
