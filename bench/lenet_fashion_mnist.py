#!/usr/bin/env python3
"""LeNet-5 on the 10,000 Fashion-MNIST test images: netc's generated library
(the demo binary) against PyTorch (Debian's python3-torch) in the same script,
same batches of 250, median of several passes each. Prints both throughputs
and the ratio netc / PyTorch.

    /usr/bin/python3 bench/lenet_fashion_mnist.py [--demo build/examples/fashion-mnist-demo] [--runs 5]
"""
import argparse
import gzip
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'tools'))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'tests', 'e2e'))
import torch_models  # noqa: E402
from safetensors_io import load_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--demo', default=os.path.join(ROOT, 'build', 'examples', 'fashion-mnist-demo'))
    parser.add_argument('--runs', type=int, default=5)
    args = parser.parse_args()

    with gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz') as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    model = torch_models.LeNet5().eval()
    weights = load_safetensors(os.path.join(ROOT, 'weights', 'lenet5_fashion_mnist.safetensors'))
    model.load_state_dict({key: torch.from_numpy(array) for key, array in weights.items()})

    # PyTorch at one thread and at every core (for a net this small one thread
    # is often faster); netc's library uses Halide's default pool (every core).
    threads = sorted({1, os.cpu_count()})
    torch_rates = {t: [] for t in threads}
    netc_rates = []
    for _ in range(args.runs):
        for t in threads:
            torch.set_num_threads(t)
            with torch.no_grad():
                start = time.perf_counter()
                for first in range(0, len(x), 250):
                    model(x[first:first + 250])
                torch_rates[t].append(len(x) / (time.perf_counter() - start))
        out = subprocess.run([args.demo], capture_output=True, text=True, check=True).stdout
        netc_rates.append(float(re.search(r'images_per_s=([0-9.]+)', out).group(1)))
    best = 0
    for t in threads:
        rate = statistics.median(torch_rates[t])
        best = max(best, rate)
        print(f"PyTorch {torch.__version__}, {t} thread(s): {rate:.0f} images/s")
    n = statistics.median(netc_rates)
    print(f"netc generated library: {n:.0f} images/s")
    print(f"ratio netc / best PyTorch: {n / best:.2f} (medians of {args.runs} runs each)")

if __name__ == '__main__':
    main()
