#!/usr/bin/env python3
"""PyTorch's float semantics through every conv and linear template, as a
matrix: each template netc can choose (direct row tasks, direct channel
blocks, Winograd F(4x4) and F(2x2), the row-vectorized conv for few output
channels, 1x1, strided, grouped, the 7x7/2 and 11x11/4 stems, linear at
batch 1 and tiled) x each epilogue (none, bias, folded BatchNorm, relu,
sigmoid, tanh, residual add, add + relu, and sigmoid into a pool, so the
conv writes channels innermost) x {NaN, +Inf, -Inf, +3e38, -3e38} in the
input, through the generated library (AOT) and `netc run` (JIT), at batch 1
and 3. The output's NaN and Inf masks must equal PyTorch's exactly, finite
values agree within 1e-4 * max|torch| + 1e-5, and AOT equals JIT bit for bit.

A conv case plants all five values in each batch item, at pixels far enough
apart that no output window sees two of them, in a different arrangement
per item; a linear output sees its whole input, so each item holds one.
Each template is confirmed from the Halide statement of its first case:
`winograd_product` with its tile's points for Winograd, none for the rest.
(nn.linear has no BatchNorm epilogue: netc's bn() is BatchNorm2d.)

    check_float_semantics.py HARNESS-FLAGS [--templates NAME ...] [--only SUBSTRING]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn

import netc_harness
from check_zoo import randomize_batch_norm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402

SPECIALS = [np.nan, np.inf, -np.inf, 3e38, -3e38]

# Conv templates: input [C, H, W]; `prefix` channels from a 1x1 conv first
# (so the conv under test reads channels innermost, as inside a network);
# the conv's (cout, k, stride, pad, dilation, groups); the Halide
# statement's `winograd_product` points (36 for F(4x4), 16 for F(2x2),
# None: not Winograd). Sizes keep the five planted pixels' windows apart.
CONVS = {
    'direct_rows': ([5, 14, 13], 32, (48, 5, 1, 2, 1, 1), None),
    'direct_blocks': ([5, 12, 12], 64, (128, 5, 1, 2, 1, 1), None),
    'winograd_f4': ([5, 16, 32], 32, (32, 3, 1, 1, 1, 1), 36),
    'winograd_f2': ([5, 10, 14], 32, (48, 3, 1, 1, 1, 1), 16),
    'rows_few_channels': ([1, 14, 15], None, (6, 5, 1, 2, 1, 1), None),
    'pointwise': ([5, 12, 12], 32, (64, 1, 1, 0, 1, 1), None),
    'strided': ([5, 13, 17], 32, (64, 3, 2, 1, 1, 1), None),
    'grouped': ([5, 10, 11], 64, (64, 3, 1, 1, 1, 4), None),
    'stem_7x7s2': ([3, 20, 21], None, (64, 7, 2, 3, 1, 1), None),
    'stem_11x11s4': ([3, 35, 35], None, (64, 11, 4, 2, 1, 1), None),
}
EPILOGUES = ['none', 'bias', 'bn', 'relu', 'sigmoid', 'tanh', 'add', 'add_relu', 'sigmoid_pool']
LINEAR_EPILOGUES = ['none', 'bias', 'relu', 'sigmoid', 'tanh', 'add', 'add_relu']
LINEAR_INPUT = [3, 4, 5]  # 60 features: 3 vectors of 16 (or 7 of 8) and a remainder


class Case(nn.Module):
    """The PyTorch side of one case; children named as in the spec."""

    def __init__(self, kind, epilogue, cin, prefix, conv=None, features=None):
        super().__init__()
        self.kind, self.epilogue = kind, epilogue
        bias = epilogue not in ('none', 'bn', 'add', 'add_relu')
        self.a = nn.Conv2d(cin, prefix, 1) if prefix else None
        width = prefix or cin
        if kind == 'linear':
            self.c = nn.Linear(features, features, bias=bias)
            self.d = None
            return
        cout, k, stride, pad, dilation, groups = conv
        self.c = nn.Conv2d(width, cout, k, stride, pad, dilation, groups, bias=bias)
        self.cbn = nn.BatchNorm2d(cout) if epilogue in ('bn', 'add', 'add_relu') else None
        # The residual: the conv's input itself where the shapes allow, else
        # a shortcut conv (1x1 as in ResNet, or the conv's own window where
        # a 1x1 one would give another size: AlexNet's stem).
        self.d = None
        if epilogue in ('add', 'add_relu') and (stride != 1 or width != cout or k != 2 * pad + 1):
            same = k == 2 * pad + 1
            self.d = nn.Conv2d(width, cout, 1 if same else k, stride, 0 if same else pad,
                               bias=False)
        randomize_batch_norm(self)

    def forward(self, x):
        y = self.a(x) if self.a is not None else x
        if self.kind == 'linear':
            y = torch.flatten(y, 1)
            z = self.c(y)
        else:
            z = self.c(y)
            if self.cbn is not None:
                z = self.cbn(z)
        if self.epilogue in ('add', 'add_relu'):
            z = z + (self.d(y) if self.d is not None else y)
        if self.epilogue in ('relu', 'add_relu'):
            z = torch.relu(z)
        elif self.epilogue in ('sigmoid', 'sigmoid_pool'):
            z = torch.sigmoid(z)
        elif self.epilogue == 'tanh':
            z = torch.tanh(z)
        if self.epilogue == 'sigmoid_pool':
            z = nn.functional.max_pool2d(z, 1)
        return z


def spec_of(name, module, shape):
    """The netc spec of a Case."""
    lines = []
    if module.a is not None:
        lines.append(f"a: conv({module.a.out_channels}, 1)")
    bias = 'true' if module.c.bias is not None else 'false'
    if module.kind == 'linear':
        lines += ["flatten(1)", ""]
        main = f"c: linear({module.c.out_features}, bias={bias})"
    else:
        c = module.c
        main = (f"c: conv({c.out_channels}, {c.kernel_size[0]}, stride={c.stride[0]}, "
                f"pad={c.padding[0]}, dilation={c.dilation[0]}, groups={c.groups}, bias={bias})")
        if module.cbn is not None:
            main += "; cbn: bn()"
    if module.epilogue in ('add', 'add_relu'):
        d = module.d
        residual = (f"d: conv({d.out_channels}, {d.kernel_size[0]}, stride={d.stride[0]}, "
                    f"pad={d.padding[0]}, bias=false)" if d is not None else "{ }")
        main = f"add {{\n    {{ {main} }}\n    {residual}\n  }}"
    lines.append(main)
    activation = {'relu': 'relu()', 'add_relu': 'relu()', 'sigmoid': 'sigmoid()',
                  'sigmoid_pool': 'sigmoid(); maxpool(1)', 'tanh': 'tanh()'}
    if module.epilogue in activation:
        lines.append(activation[module.epilogue])
    body = "\n  ".join(line for line in lines if line)
    dims = ','.join(str(d) for d in shape)
    return f"net {name}() (x: f32[N,{dims}]) {{\n  {body}\n}}\n"


def conv_inputs(shape, seed):
    """Batch 1 and batch 3 with the five specials in each item, at four
    corners and the centre, rotated from item to item."""
    _, h, w = shape
    spots = [(1, 1), (1, w - 2), (h - 2, 1), (h - 2, w - 2), (h // 2, w // 2)]
    g = torch.Generator().manual_seed(seed)
    batches = []
    for batch in (1, 3):
        x = (torch.rand([batch] + shape, generator=g) * 4 - 2).numpy()
        for b in range(batch):
            for i, value in enumerate(SPECIALS):
                y, xx = spots[(i + b) % len(spots)]
                x[b, (i + b) % shape[0], y, xx] = value
        batches.append((f'batch {batch}', x))
    return batches


def linear_inputs(shape, seed):
    """Each special alone at batch 1, then three of them at batch 3 (the
    tiled path), one per item."""
    g = torch.Generator().manual_seed(seed)
    batches = []
    for value in SPECIALS:
        x = (torch.rand([1] + shape, generator=g) * 4 - 2).numpy()
        x.reshape(-1)[7] = value
        batches.append((f'batch 1, {value}', x))
    x = (torch.rand([3] + shape, generator=g) * 4 - 2).numpy()
    for b, value in enumerate(SPECIALS[:3]):
        x[b].reshape(-1)[11 * b + 5] = value
    batches.append(('batch 3', x))
    return batches


def winograd_points(stmt):
    """The points of the Winograd tile the statement computes (its
    `winograd_product` loop over k), or None."""
    match = re.search(r'for \(winograd_product\.s0\.k, 0, (\d+)\)', stmt)
    return int(match.group(1)) if match else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    netc_harness.add_arguments(parser)
    parser.add_argument('--templates', nargs='+', choices=sorted(CONVS) + ['linear'],
                        default=sorted(CONVS) + ['linear'], help='the templates to run')
    parser.add_argument('--only', default='', help='run the cases whose name holds this')
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = [(f'{t}_{e}', t, e) for t in CONVS for e in EPILOGUES]
    cases += [(f'linear_{e}', 'linear', e) for e in LINEAR_EPILOGUES]
    cases = [c for c in cases if args.only in c[0] and c[1] in args.templates]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        checked = set()
        for name, kind, epilogue in cases:
            torch.manual_seed(len(failures) + hash(name) % 1000)
            if kind == 'linear':
                shape, features = LINEAR_INPUT, int(np.prod(LINEAR_INPUT))
                module = Case(kind, epilogue, shape[0], None, features=features).eval()
                inputs = linear_inputs(shape, seed=1)
            else:
                shape, prefix, conv, points = CONVS[kind]
                module = Case(kind, epilogue, shape[0], prefix, conv=conv).eval()
                inputs = conv_inputs(shape, seed=1)
            spec = os.path.join(tmp, f'{name}.nn')
            with open(spec, 'w') as f:
                f.write(spec_of(name, module, shape))
            weights = os.path.join(tmp, f'{name}.safetensors')
            save_safetensors(weights, {k: v for k, v in module.state_dict().items()})
            if kind != 'linear' and kind not in checked:
                checked.add(kind)
                stmt = subprocess.run([args.netc, spec, '--entry', name, '--emit=halide-stmt'],
                                      capture_output=True, text=True, check=True).stdout
                found = winograd_points(stmt)
                if found != points:
                    failures.append(f"{name}: the template is not the one meant: Winograd "
                                    f"points {found}, expected {points}")
                    continue
            runner = netc.compile(spec, name, name)
            jits = netc.jit_batches(spec, name, weights, [x for _, x in inputs])
            for (label, x), jit in zip(inputs, jits):
                print(f"{name}, {label}:")
                with torch.no_grad():
                    reference = module(torch.from_numpy(x)).numpy()
                aot = netc.aot(runner, weights, x)
                for error in (netc_harness.compare('AOT vs torch', aot, reference),
                              netc_harness.compare('JIT vs torch', jit, reference),
                              netc_harness.bitwise('AOT vs JIT', aot, jit)):
                    if error:
                        failures.append(f"{name}, {label}: {error}")
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    failed = {f.split(',')[0].split(':')[0] for f in failures}
    print(f"{len(cases) - len(failed)} of {len(cases)} cases passed")
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
