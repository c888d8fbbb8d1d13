#!/usr/bin/env python3
"""Trains a narrow ResNet (dsl/models/resnet.nn's resnet_fashion: BatchNorm and
residual sums, 3 stages of 2 BasicBlocks, widths 16-32-64) on Fashion-MNIST
and exports it for netc: the second trained network of the INT8 tests, whose
BatchNorm folding and residual sums LeNet-5 does not have.

Deterministic: fixed seed, one thread, deterministic kernels, a fixed data
order. Reads Debian's dataset-fashion-mnist and writes, next to each other:
  resnet_fashion.safetensors   the state_dict, keys as netc names them
  resnet_fashion.json          accuracy and how it was obtained
Input preprocessing: pixel / 255, no normalization (as LeNet-5's).

    /usr/bin/python3 tools/train_fashion_resnet.py [--out weights] [--epochs 6]
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'e2e'))
import torch_models  # noqa: E402
from safetensors_io import save_safetensors  # noqa: E402
from train_lenet import images, read_idx  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'weights'))
    parser.add_argument('--epochs', type=int, default=6)
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    import numpy as np
    train_x, train_y = images('train-images-idx3-ubyte.gz'), torch.from_numpy(
        read_idx('train-labels-idx1-ubyte.gz').astype(np.int64))
    test_x, test_y = images('t10k-images-idx3-ubyte.gz'), torch.from_numpy(
        read_idx('t10k-labels-idx1-ubyte.gz').astype(np.int64))

    model = torch_models.FashionResNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4,
                                nesterov=True)
    steps = args.epochs * ((len(train_x) + 127) // 128)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=steps)
    generator = torch.Generator().manual_seed(0)
    for epoch in range(args.epochs):
        start = time.time()
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        for first in range(0, len(order), 128):
            batch = order[first:first + 128]
            x = train_x[batch]
            # Horizontal flips of half the batch: the only augmentation.
            flip = torch.rand(len(batch), generator=generator) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), train_y[batch])
            loss.backward()
            optimizer.step()
            schedule.step()
        model.eval()
        with torch.no_grad():
            predictions = torch.cat([model(test_x[i:i + 1000]).argmax(1)
                                     for i in range(0, len(test_x), 1000)])
        accuracy = (predictions == test_y).float().mean().item()
        print(f'epoch {epoch + 1}: loss {loss.item():.4f} test accuracy {accuracy:.4f} '
              f'({time.time() - start:.0f} s)', flush=True)

    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, 'resnet_fashion')
    save_safetensors(stem + '.safetensors', model.state_dict())
    with open(stem + '.json', 'w') as f:
        json.dump({'model': 'resnet_fashion (dsl/models/resnet.nn)',
                   'dataset': 'Fashion-MNIST (Debian dataset-fashion-mnist)',
                   'preprocessing': 'pixel / 255', 'epochs': args.epochs,
                   'optimizer': 'SGD nesterov momentum 0.9, weight decay 5e-4, one-cycle lr to '
                                '0.1, batch 128, horizontal flips, seed 0',
                   'test_accuracy': round(accuracy, 4), 'torch': torch.__version__}, f, indent=1)
        f.write('\n')
    print(f'accuracy={accuracy:.4f} written to {stem}.*')


if __name__ == '__main__':
    main()
