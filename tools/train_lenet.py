#!/usr/bin/env python3
"""Trains the seed's LeNet-5 (sigmoid) on Fashion-MNIST and exports it for netc.

Deterministic: fixed seed, one thread, deterministic kernels, a fixed data
order. Reads Debian's dataset-fashion-mnist (IDX files) and writes, next to
each other:
  lenet5_fashion_mnist.safetensors   the state_dict, keys as netc names them
  lenet5_fashion_mnist.predictions   PyTorch's top-1 class for each of the
                                     10,000 test images, one digit per image
  lenet5_fashion_mnist.json          accuracy and how it was obtained
Input preprocessing (the demo must match it): pixel / 255, no normalization.

    /usr/bin/python3 tools/train_lenet.py [--out weights] [--epochs 12]
"""
import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'e2e'))
import torch_models  # noqa: E402
from safetensors_io import save_safetensors  # noqa: E402

DATA = '/usr/share/datasets/fashion-mnist'


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), 'rb') as f:
        data = f.read()
    magic, count = struct.unpack('>II', data[:8])
    if magic == 2051:
        rows, cols = struct.unpack('>II', data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(count, 1, rows, cols)
    return np.frombuffer(data, np.uint8, offset=8)


def images(name):
    return torch.from_numpy(read_idx(name).astype(np.float32) / 255.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'weights'))
    parser.add_argument('--epochs', type=int, default=12)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    train_x, train_y = images('train-images-idx3-ubyte.gz'), torch.from_numpy(
        read_idx('train-labels-idx1-ubyte.gz').astype(np.int64))
    test_x, test_y = images('t10k-images-idx3-ubyte.gz'), torch.from_numpy(
        read_idx('t10k-labels-idx1-ubyte.gz').astype(np.int64))

    model = torch_models.LeNet5()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    generator = torch.Generator().manual_seed(0)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        for start in range(0, len(order), 128):
            batch = order[start:start + 128]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(train_x[batch]), train_y[batch])
            loss.backward()
            optimizer.step()
        schedule.step()
        model.eval()
        with torch.no_grad():
            predictions = model(test_x).argmax(1)
        accuracy = (predictions == test_y).float().mean().item()
        print(f'epoch {epoch + 1}: loss {loss.item():.4f} test accuracy {accuracy:.4f}', flush=True)

    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, 'lenet5_fashion_mnist')
    save_safetensors(stem + '.safetensors', model.state_dict())
    with open(stem + '.predictions', 'w') as f:
        f.write(''.join(str(int(p)) for p in predictions) + '\n')
    with open(stem + '.json', 'w') as f:
        json.dump({'model': 'lenet5', 'dataset': 'Fashion-MNIST (Debian dataset-fashion-mnist)',
                   'preprocessing': 'pixel / 255', 'epochs': args.epochs,
                   'optimizer': 'Adam lr 2e-3, halved every 4 epochs, batch 128, seed 0',
                   'test_accuracy': round(accuracy, 4), 'torch': torch.__version__}, f, indent=1)
        f.write('\n')
    print(f'accuracy={accuracy:.4f} written to {stem}.*')


if __name__ == '__main__':
    main()
