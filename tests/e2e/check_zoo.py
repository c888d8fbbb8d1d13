#!/usr/bin/env python3
"""One zoo network through its generated library (AOT, the plain-C runner
CMake built for it) and through `netc run` (JIT), against torchvision (or,
for LeNet-5 and NIN, the PyTorch modules in torch_models.py): random weights
with randomized BatchNorm statistics, batch 1 and batch 3, at the size the
library was compiled for. Requires max |ours - torch| <= 1e-4 * max|torch| +
1e-5, the same top-1 class, and AOT equal to JIT bit for bit. Prints
"MAX_REL_ERROR model value" for the record.

    check_zoo.py --netc NETC --aot RUNNER --entry ENTRY --input-shape N,C,H,W MODEL
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision.models as tvm

import netc_harness
import torch_models

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402

MODELS = {
    'lenet5': torch_models.LeNet5,
    'nin': torch_models.NIN,
    'resnet_fashion': torch_models.FashionResNet,
    'alexnet': tvm.alexnet,
    'googlenet': lambda: tvm.googlenet(aux_logits=True, init_weights=True),
    'googlenet_noaux': lambda: tvm.googlenet(aux_logits=False, init_weights=True),
    # With its training-only head, whose weights load though it does not run
    # (nor fit: the library is built for 75x75, torchvision's smallest).
    'inception_v3': lambda: tvm.inception_v3(aux_logits=True, init_weights=True),
}
for name in ('vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn',
             'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152', 'resnext50_32x4d',
             'resnext101_32x8d', 'resnext101_64x4d', 'wide_resnet50_2', 'wide_resnet101_2',
             'mobilenet_v2', 'mobilenet_v3_large', 'mobilenet_v3_small', 'mnasnet0_5', 'mnasnet0_75',
             'mnasnet1_0', 'mnasnet1_3', 'squeezenet1_0', 'squeezenet1_1', 'efficientnet_b0',
             'efficientnet_b1', 'efficientnet_b2', 'efficientnet_b3', 'efficientnet_b4',
             'efficientnet_b5', 'efficientnet_b6', 'efficientnet_b7', 'efficientnet_v2_s',
             'efficientnet_v2_m', 'efficientnet_v2_l', 'densenet121', 'densenet161', 'densenet169',
             'densenet201', 'shufflenet_v2_x0_5', 'shufflenet_v2_x1_0', 'shufflenet_v2_x1_5',
             'shufflenet_v2_x2_0', 'regnet_y_400mf', 'regnet_y_800mf', 'regnet_y_1_6gf',
             'regnet_y_3_2gf', 'regnet_y_8gf', 'regnet_y_16gf', 'regnet_y_32gf', 'regnet_y_128gf',
             'regnet_x_400mf', 'regnet_x_800mf', 'regnet_x_1_6gf', 'regnet_x_3_2gf', 'regnet_x_8gf',
             'regnet_x_16gf', 'regnet_x_32gf', 'convnext_tiny', 'convnext_small', 'convnext_base',
             'convnext_large'):
    MODELS[name] = getattr(tvm, name)


def randomize_batch_norm(model):
    """BatchNorm statistics and affine parameters, LayerNorm's, and
    ConvNeXt's layer scales (1e-6 as built, which would hide every block)
    set to random values of order 1."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.num_batches_tracked.fill_(7)
            elif isinstance(m, torch.nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        for name, p in model.named_parameters():
            if name.endswith('layer_scale'):
                p.uniform_(0.5, 1.5)


def test_model(name):
    """The torchvision (or torch_models.py) network the zoo tests compare with:
    seeded random weights, randomized BatchNorm statistics, in eval mode, with
    PyTorch on 2 threads."""
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = MODELS[name]().eval()
    randomize_batch_norm(model)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--netc', required=True)
    parser.add_argument('--aot', required=True, help='the runner linked with the library')
    parser.add_argument('--entry', required=True)
    parser.add_argument('--input-shape', required=True)
    parser.add_argument('model', choices=sorted(MODELS))
    args = parser.parse_args()
    model = test_model(args.model)
    sample = [int(d) for d in args.input_shape.split(',')][1:]
    failures, worst = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        weights = os.path.join(tmp, 'w.safetensors')
        save_safetensors(weights, model.state_dict())
        batches = [torch.rand([batch] + sample, generator=torch.Generator().manual_seed(batch))
                   for batch in (1, 3)]
        jits = netc.jit_batches(None, args.entry, weights, [x.numpy() for x in batches])
        for x, jit in zip(batches, jits):
            batch = x.shape[0]
            with torch.no_grad():
                reference = model(x).numpy()
            print(f"{args.model}, batch {batch}, input {[batch] + sample}:")
            start = time.time()
            aot = netc.aot(args.aot, weights, x.numpy())
            print(f"  AOT ran in {time.time() - start:.2f} s (load included)")
            for error in (netc_harness.compare('AOT vs torch', aot, reference),
                          netc_harness.compare('JIT vs torch', jit, reference),
                          netc_harness.bitwise('AOT vs JIT', aot, jit)):
                if error:
                    failures.append(f"batch {batch}: {error}")
            ours_top, torch_top = aot.argmax(1), reference.argmax(1)
            if (ours_top != torch_top).any():
                i = int(np.argmax(ours_top != torch_top))
                margin = np.sort(reference[i])[-1] - np.sort(reference[i])[-2]
                failures.append(f"batch {batch}: item {i}: top-1 {ours_top[i]}, torch "
                                f"{torch_top[i]} (torch's top-2 margin {margin:.3g})")
            worst = max(worst, float(np.abs(aot - reference).max() / np.abs(reference).max()))
    print(f"MAX_REL_ERROR {args.model} {worst:.3g}")
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
