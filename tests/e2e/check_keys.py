#!/usr/bin/env python3
"""Checks that netc names every parameter and infers every shape as PyTorch does.

For each model it builds the reference module (torchvision 0.14 without
weights, nothing downloaded; LeNet-5 and NIN from torch_models.py), and
 - lists its state_dict as `KEY DTYPE [d0,d1,...]` lines in order, and
   requires `netc --print-keys` for the matching zoo entry to be identical,
   line for line;
 - runs it in eval mode on an input of an unusual size (so adaptive pools and
   ceil-mode pools are not identities) and requires `netc --print-shapes` to
   give every named layer the shape its torch module produced.

    check_keys.py --netc build/compiler/tools/netc/netc resnet50 googlenet_noaux
"""
import argparse
import subprocess
import sys

import torch
import torchvision.models as tvm

import torch_models

# name -> (reference constructor, netc entry)
MODELS = {
    'lenet5': (torch_models.LeNet5, 'lenet5'),
    'nin': (torch_models.NIN, 'nin'),
    'alexnet': (tvm.alexnet, 'alexnet'),
    'vgg11': (tvm.vgg11, 'vgg11'),
    'vgg11_bn': (tvm.vgg11_bn, 'vgg11_bn'),
    'vgg13': (tvm.vgg13, 'vgg13'),
    'vgg13_bn': (tvm.vgg13_bn, 'vgg13_bn'),
    'vgg16': (tvm.vgg16, 'vgg16'),
    'vgg16_bn': (tvm.vgg16_bn, 'vgg16_bn'),
    'vgg19': (tvm.vgg19, 'vgg19'),
    'vgg19_bn': (tvm.vgg19_bn, 'vgg19_bn'),
    'googlenet': (lambda: tvm.googlenet(aux_logits=True, init_weights=False), 'googlenet'),
    'googlenet_noaux': (lambda: tvm.googlenet(aux_logits=False, init_weights=False),
                        'googlenet(aux=false)'),
    'inception_v3': (lambda: tvm.inception_v3(aux_logits=True, init_weights=False),
                     'inception_v3'),
    'inception_v3_noaux': (lambda: tvm.inception_v3(aux_logits=False, init_weights=False),
                           'inception_v3(aux=false)'),
    'resnet18': (tvm.resnet18, 'resnet18'),
    'resnet34': (tvm.resnet34, 'resnet34'),
    'resnet50': (tvm.resnet50, 'resnet50'),
    'resnet101': (tvm.resnet101, 'resnet101'),
    'resnet152': (tvm.resnet152, 'resnet152'),
    'resnext50_32x4d': (tvm.resnext50_32x4d, 'resnext50_32x4d'),
    'resnext101_32x8d': (tvm.resnext101_32x8d, 'resnext101_32x8d'),
    'resnext101_64x4d': (tvm.resnext101_64x4d, 'resnext101_64x4d'),
    'wide_resnet50_2': (tvm.wide_resnet50_2, 'wide_resnet50_2'),
    'wide_resnet101_2': (tvm.wide_resnet101_2, 'wide_resnet101_2'),
}
for name in ('mobilenet_v2', 'mobilenet_v3_large', 'mobilenet_v3_small', 'mnasnet0_5',
             'mnasnet0_75', 'mnasnet1_0', 'mnasnet1_3', 'squeezenet1_0', 'squeezenet1_1',
             'efficientnet_b0', 'efficientnet_b1', 'efficientnet_b2', 'efficientnet_b3',
             'efficientnet_b4', 'efficientnet_b5', 'efficientnet_b6', 'efficientnet_b7',
             'efficientnet_v2_s', 'efficientnet_v2_m', 'efficientnet_v2_l', 'densenet121',
             'densenet161', 'densenet169', 'densenet201', 'shufflenet_v2_x0_5',
             'shufflenet_v2_x1_0', 'shufflenet_v2_x1_5', 'shufflenet_v2_x2_0', 'regnet_y_400mf',
             'regnet_y_800mf', 'regnet_y_1_6gf', 'regnet_y_3_2gf', 'regnet_y_8gf', 'regnet_y_16gf',
             'regnet_y_32gf', 'regnet_y_128gf', 'regnet_x_400mf', 'regnet_x_800mf',
             'regnet_x_1_6gf', 'regnet_x_3_2gf', 'regnet_x_8gf', 'regnet_x_16gf', 'regnet_x_32gf',
             'convnext_tiny', 'convnext_small', 'convnext_base', 'convnext_large'):
    MODELS[name] = (getattr(tvm, name), name)


def skip_weight_init():
    """Only names and shapes matter here: skip the (slow) random init.
    Parameters then hold whatever torch.empty gave; forward passes run on zeros
    only for their shapes."""
    def keep(tensor, *args, **kwargs):
        return tensor
    for name in ('normal_', 'uniform_', 'constant_', 'kaiming_normal_',
                 'kaiming_uniform_', 'trunc_normal_', 'xavier_uniform_'):
        setattr(torch.nn.init, name, keep)
    for cls in (torch.nn.Linear, torch.nn.modules.conv._ConvNd):
        cls.reset_parameters = lambda self: None


def reference_lines(model):
    lines = []
    for key, tensor in model.state_dict().items():
        dtype = str(tensor.dtype).replace('torch.', '')
        lines.append(f"{key} {dtype} [{','.join(str(d) for d in tensor.shape)}]")
    return lines


# Inputs for the shape check; ImageNet models get a size no pool divides.
INPUT_SIZES = {'lenet5': [2, 1, 28, 28], 'nin': [2, 1, 227, 239]}
DEFAULT_INPUT = [2, 3, 97, 113]


def torch_shapes(model, size):
    """Output shape of every leaf module, by module path."""
    shapes = {}
    hooks = [module.register_forward_hook(
                 lambda m, i, out, name=name: shapes.__setitem__(name, list(out.shape)))
             for name, module in model.named_modules() if not list(module.children())]
    with torch.no_grad():
        output = model.eval()(torch.zeros(size))
    for h in hooks:
        h.remove()
    return shapes, list(output.shape)


# Networks whose torch modules run partly channels-last (Permute, Linear,
# LayerNorm, Permute), where netc keeps NCHW and works over the channels.
CHANNELS_LAST = {'convnext_tiny', 'convnext_small', 'convnext_base', 'convnext_large'}


def check_shapes(netc, name, model):
    entry = MODELS[name][1]
    size = INPUT_SIZES.get(name, DEFAULT_INPUT)
    run = subprocess.run([netc, '--entry', entry, '--print-shapes',
                          '--input-shape', ','.join(map(str, size))],
                         capture_output=True, text=True)
    if run.returncode != 0:
        return f"netc --print-shapes failed ({run.returncode}):\n{run.stderr}"
    ours = {}
    output = None
    for line in run.stdout.splitlines():
        fields = line.split()
        if fields[0] == 'output:':
            output = fields[1]
        elif '/' not in fields[0] and 'auxiliary' not in line:
            ours[fields[0]] = fields[2]
    theirs, torch_output = torch_shapes(model, size)
    compared = 0
    for path, shape in theirs.items():
        if path in ours:
            want = '[' + ','.join(map(str, shape)) + ']'
            if name in CHANNELS_LAST and len(shape) == 4:
                # Between its Permutes a ConvNeXt block runs channels-last:
                # [N, H, W, C] there is netc's [N, C, H, W].
                n, h, w, c = shape
                if ours[path] == f'[{n},{c},{h},{w}]':
                    want = ours[path]
            if ours[path] != want:
                return f"layer '{path}' at input {size}: torch gives {want}, netc {ours[path]}"
            compared += 1
    want = '[' + ','.join(map(str, torch_output)) + ']'
    if output != want:
        return f"output at input {size}: torch gives {want}, netc {output}"
    if compared == 0:
        return "no layer names in common between torch and netc"
    print(f"{name}: {compared} layer shapes and the output match at input {size}")
    return None


def check(netc, name):
    constructor, entry = MODELS[name]
    model = constructor()
    with torch.no_grad():  # uninitialized memory may hold slow denormals or NaNs
        for tensor in model.state_dict().values():
            tensor.zero_()
    expected = reference_lines(model)
    run = subprocess.run([netc, '--entry', entry, '--print-keys'],
                         capture_output=True, text=True)
    if run.returncode != 0:
        return f"netc --entry '{entry}' failed ({run.returncode}):\n{run.stderr}"
    actual = run.stdout.splitlines()
    for i, (want, got) in enumerate(zip(expected, actual)):
        if want != got:
            return f"line {i}: torch has '{want}', netc has '{got}'"
    if len(expected) != len(actual):
        extra = (actual if len(actual) > len(expected) else expected)[min(len(expected),
                                                                            len(actual))]
        return (f"torch has {len(expected)} keys, netc has {len(actual)}; "
                f"first unmatched: '{extra}'")
    print(f"{name}: {len(expected)} keys match")
    return check_shapes(netc, name, model)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--netc', required=True, help='path to the netc binary')
    parser.add_argument('models', nargs='+', help=f"any of: {', '.join(MODELS)}")
    args = parser.parse_args()
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        parser.error(f"unknown model(s): {', '.join(unknown)}")
    skip_weight_init()
    torch.set_num_threads(1)  # ctest runs these in parallel
    failures = 0
    for name in args.models:
        error = check(args.netc, name)
        if error:
            print(f"{name}: FAILED: {error}", file=sys.stderr)
            failures += 1
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
