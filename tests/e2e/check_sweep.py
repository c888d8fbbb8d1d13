#!/usr/bin/env python3
"""Random shapes through the conv and linear templates, against PyTorch.

Each case is a small network drawn from a seeded generator: a conv with a
random kernel, stride, padding, dilation, groups and bias, odd spatial sizes
and channel counts that are not multiples of the vector width, its BatchNorm
folded and relu fused; a residual join of two BatchNorm'd convs (the sum
fused into the second); then either a conv writing the NCHW output or a
flatten and a linear layer. Every case runs through the generated library
(AOT) and `netc run` (JIT) at batch 1 and 2:
max |ours - torch| <= 1e-4 * max|torch| + 1e-5, AOT and JIT equal bit for bit,
and the JIT without the graph's fusion (--fuse=false: BatchNorm, sum and
relu as steps of their own) within the same bound at batch 1.
With --target (another ISA, e.g. AVX2 on an AVX-512 host) only the library
is compiled for it and checked against PyTorch; the JIT runs the host's.

    check_sweep.py HARNESS-FLAGS [--cases N] [--seed S] [--target HALIDE-TARGET]
"""
import argparse
import os
import random
import sys
import tempfile

import torch
from torch import nn

import netc_harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402


def out_size(size, k, stride, pad, dilation):
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def draw(rng):
    """One case: the spec's parameters, or None when the shapes do not fit."""
    cin = rng.choice([1, 3, 5, 8, 16, 17, 32, 40])
    h, w = rng.randrange(5, 24), rng.randrange(5, 24)
    k = rng.choice([1, 1, 3, 3, 3, 5, 7])
    stride = rng.choice([1, 1, 2, 3])
    dilation = rng.choice([1, 1, 2]) if k > 1 else 1
    pad = rng.randrange(0, k // 2 + 2)
    groups = rng.choice([g for g in (1, 1, 2, 4, 8) if cin % g == 0])
    c1 = groups * rng.choice([1, 3, 4, 8, 9, 16, 20])
    c2 = rng.choice([6, 16, 24, 33, 48, 64])
    g2 = rng.choice([g for g in (1, 1, 2, 4) if c1 % g == 0 and c2 % g == 0])
    c3 = rng.choice([5, 10, 16, 35])
    oh, ow = out_size(h, k, stride, pad, dilation), out_size(w, k, stride, pad, dilation)
    if oh < 1 or ow < 1:
        return None
    return dict(cin=cin, h=h, w=w, k=k, stride=stride, pad=pad, dilation=dilation,
                groups=groups, bias=rng.random() < 0.5, c1=c1, c2=c2, g2=g2, c3=c3,
                head=rng.choice(['conv', 'linear']), pixels=oh * ow)


def spec_of(name, c):
    head = (f"t: conv({c['c3']}, 1)" if c['head'] == 'conv'
            else f"flatten(1)\n  fc: linear({c['c3']})")
    return f"""net {name}() (x: f32[N,{c['cin']},{c['h']},{c['w']}]) {{
  a: conv({c['c1']}, {c['k']}, stride={c['stride']}, pad={c['pad']}, dilation={c['dilation']}, groups={c['groups']}, bias={'true' if c['bias'] else 'false'}); abn: bn(); relu()
  add {{
    {{ b: conv({c['c2']}, 3, pad=1, groups={c['g2']}); bbn: bn() }}
    {{ s: conv({c['c2']}, 1, bias=false); sbn: bn() }}
  }}
  relu()
  {head}
}}
"""


class Case(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = nn.Conv2d(c['cin'], c['c1'], c['k'], stride=c['stride'], padding=c['pad'],
                           dilation=c['dilation'], groups=c['groups'], bias=c['bias'])
        self.abn = nn.BatchNorm2d(c['c1'])
        self.b = nn.Conv2d(c['c1'], c['c2'], 3, padding=1, groups=c['g2'])
        self.bbn = nn.BatchNorm2d(c['c2'])
        self.s = nn.Conv2d(c['c1'], c['c2'], 1, bias=False)
        self.sbn = nn.BatchNorm2d(c['c2'])
        self.head = c['head']
        if self.head == 'conv':
            self.t = nn.Conv2d(c['c2'], c['c3'], 1)
        else:
            self.fc = nn.Linear(c['c2'] * c['pixels'], c['c3'])
        for bn in (self.abn, self.bbn, self.sbn):
            with torch.no_grad():
                bn.running_mean.uniform_(-0.5, 0.5)
                bn.running_var.uniform_(0.5, 1.5)
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.2, 0.2)

    def forward(self, x):
        y = torch.relu(self.abn(self.a(x)))
        y = torch.relu(self.bbn(self.b(y)) + self.sbn(self.s(y)))
        return self.t(y) if self.head == 'conv' else self.fc(torch.flatten(y, 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    netc_harness.add_arguments(parser)
    parser.add_argument('--cases', type=int, default=12)
    parser.add_argument('--seed', type=int, default=2026)
    parser.add_argument('--target', help="netc's --target for the library (default: host)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = random.Random(args.seed)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        done = 0
        while done < args.cases:
            case = draw(rng)
            if case is None:
                continue
            name = f'sweep{done}'
            done += 1
            spec = os.path.join(tmp, f'{name}.nn')
            with open(spec, 'w') as f:
                f.write(spec_of(name, case))
            torch.manual_seed(done)
            model = Case(case).eval()
            weights = os.path.join(tmp, f'{name}.safetensors')
            save_safetensors(weights, model.state_dict())
            runner = netc.compile(spec, name, name, target=args.target)
            for batch in (1, 2):
                x = (torch.rand([batch, case['cin'], case['h'], case['w']]) * 4 - 2).numpy()
                with torch.no_grad():
                    reference = model(torch.from_numpy(x)).numpy()
                variants = [('unfused JIT', ['--fuse=false'])] if batch == 1 else []
                errors = netc_harness.library_and_jit(netc, runner, spec, name, weights, x,
                                                      reference, jit=not args.target,
                                                      variants=variants)
                label = {k: v for k, v in case.items() if k != 'pixels'}
                print(f"{name} batch {batch}: {label}")
                failures += [f"{name} batch {batch} {label}: {error}" for error in errors]
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    print(f"{args.cases} cases, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
