#!/usr/bin/env python3
"""Every op the README lists as supported, against PyTorch, through the
generated library (AOT, a plain C program) and `netc run` (JIT): random
inputs, then inputs holding NaN, +-Inf and huge magnitudes, at batch 1 and 3.
max |ours - torch| <= 1e-4 * max|torch| + 1e-5 at finite values, NaN and
Inf exactly where PyTorch puts them, AOT and JIT equal bit for bit.

    check_ops.py HARNESS-FLAGS [CASE ...]
"""
import argparse
import os
import sys
import tempfile
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

import netc_harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ops.nn')


class Named(nn.Module):
    """A module whose children carry the spec's names."""

    def __init__(self, forward, **children):
        super().__init__()
        for name, child in children.items():
            setattr(self, name, child)
        self._forward = forward

    def forward(self, x):
        return self._forward(self, x)


def random_bn(channels):
    b = nn.BatchNorm2d(channels)
    with torch.no_grad():
        b.running_mean.uniform_(-0.5, 0.5)
        b.running_var.uniform_(0.5, 1.5)
        b.weight.uniform_(0.5, 1.5)
        b.bias.uniform_(-0.2, 0.2)
    return b


def bn_module():
    return Named(lambda m, x: torch.relu(m.b(x)), b=random_bn(3))


def specials_module():
    body = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(8, 8, 3, padding=1), nn.Sigmoid(), nn.AvgPool2d(2, 2, ceil_mode=True),
        nn.LocalResponseNorm(3), nn.Tanh(), nn.AdaptiveAvgPool2d((2, 2)))
    return Named(lambda m, x: torch.softmax(m.fc(torch.flatten(m.body(x), 1)), 1),
                 body=body, fc=nn.Linear(32, 5))


def pool_flatten_module():
    body = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.MaxPool2d(3, 2, 1, ceil_mode=True),
        nn.Conv2d(32, 32, 1), nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False))
    return Named(lambda m, x: m.fc(torch.flatten(m.body(x), 1)), body=body,
                 fc=nn.Linear(288, 5))


def mobile_module():
    body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.Hardswish(),
                         nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ReLU6())
    with torch.no_grad():
        body[1].running_mean.uniform_(-0.5, 0.5)
        body[1].running_var.uniform_(0.5, 1.5)

    def forward(m, x):
        y = m.body(x)
        gate = torch.nn.functional.hardsigmoid(m.fc2(torch.relu(m.fc1(y.mean((2, 3), True)))))
        z = torch.nn.functional.silu(m.head(y * gate))
        return z * torch.sigmoid(z)
    return Named(forward, body=body, fc1=nn.Conv2d(8, 4, 1), fc2=nn.Conv2d(4, 8, 1),
                 head=nn.Conv2d(8, 6, 1))


def depthwise_module():
    d1 = nn.Sequential(nn.Conv2d(40, 40, 3, padding=1, groups=40, bias=False),
                       nn.BatchNorm2d(40), nn.ReLU6())
    with torch.no_grad():
        d1[1].running_mean.uniform_(-0.5, 0.5)
        d1[1].running_var.uniform_(0.5, 1.5)
        d1[1].weight.uniform_(0.5, 1.5)
        d1[1].bias.uniform_(-0.2, 0.2)
    return nn.Sequential(OrderedDict(
        e=nn.Conv2d(3, 40, 1), d1=d1, d2=nn.Conv2d(40, 40, 5, stride=2, padding=2, groups=40),
        d3=nn.Conv2d(40, 40, 3, padding=2, dilation=2, groups=40),
        d4=nn.Conv2d(40, 40, 7, stride=(1, 2), padding=3, groups=40), h=nn.Conv2d(40, 6, 1)))


def inverted_module():
    def forward(m, x):
        y = m.p1(m.d1(m.e1(x))) + x
        y = nn.functional.silu(m.d2(m.e2(y)))
        y = nn.functional.hardswish(m.d3(nn.functional.hardswish(m.e3(y))))
        return m.p4(m.d4(torch.relu(m.e4(y))))
    return Named(forward,
                 e1=nn.Sequential(nn.Conv2d(8, 44, 1), random_bn(44), nn.ReLU6()),
                 d1=nn.Sequential(nn.Conv2d(44, 44, 3, padding=1, groups=44), random_bn(44),
                                  nn.ReLU6()),
                 p1=nn.Conv2d(44, 8, 1),
                 e2=nn.Sequential(nn.Conv2d(8, 40, 1), random_bn(40), nn.SiLU()),
                 d2=nn.Conv2d(40, 40, 5, stride=2, padding=2, groups=40),
                 e3=nn.Conv2d(40, 96, 1),
                 d3=nn.Conv2d(96, 96, 3, stride=2, padding=1, groups=96),
                 e4=nn.Conv2d(96, 48, 1), d4=nn.Conv2d(48, 48, 3, padding=1, groups=48),
                 p4=nn.Conv2d(48, 6, 1))


def shuffle_module():
    def forward(m, x):
        y = torch.cat((x.chunk(3, 1)[2], m.b(torch.narrow(x, 1, 1, 4))), 1)
        n, c, h, w = y.shape
        return y.view(n, 3, c // 3, h, w).transpose(1, 2).contiguous().view(n, c, h, w)
    return Named(forward, b=nn.Conv2d(4, 5, 1))


def prologue_module():
    def forward(m, x):
        y = torch.relu(m.stem(x))
        y = torch.relu(m.a(y))
        y = torch.relu(m.b(y))
        y = m.c(y)
        y = y * torch.sigmoid(m.se(nn.functional.adaptive_avg_pool2d(y, 1)))
        return m.d(y)
    return Named(forward, stem=nn.Conv2d(3, 32, 3, padding=1), se=nn.Conv2d(20, 20, 1),
                 d=nn.Conv2d(20, 16, 1),
                 a=nn.Sequential(random_bn(32), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1)),
                 b=nn.Sequential(random_bn(32), nn.Hardswish(),
                                 nn.Conv2d(32, 24, 3, padding=1, stride=2)),
                 c=nn.Sequential(random_bn(24), nn.Conv2d(24, 20, 1)))


def dense_module():
    def forward(m, x):
        y = torch.relu(m.a(x))
        y = torch.cat((y, m.b(y)), 1)
        y = torch.cat((y, m.c(y)), 1)
        return m.d(y)
    c = nn.Sequential(random_bn(32), nn.ReLU(), nn.Conv2d(32, 12, 1))
    return Named(forward, a=nn.Conv2d(3, 20, 3, padding=1), b=nn.Conv2d(20, 12, 3, padding=1),
                 c=c, d=nn.Conv2d(44, 8, 1))


def convnext_module(c=8):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer_scale = nn.Parameter(torch.rand(c, 1, 1) + 0.5)
            self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
            self.ln = nn.LayerNorm(c, eps=1e-6)
            self.fc1 = nn.Linear(c, 2 * c)
            self.fc2 = nn.Linear(2 * c, c)
            self.norm = nn.LayerNorm(c)
            with torch.no_grad():
                for ln in (self.ln, self.norm):
                    ln.weight.uniform_(0.5, 1.5)
                    ln.bias.uniform_(-0.2, 0.2)

        def forward(self, x):
            y = self.dw(x).permute(0, 2, 3, 1)
            y = self.fc2(torch.nn.functional.gelu(self.fc1(self.ln(y)))).permute(0, 3, 1, 2)
            y = self.layer_scale * y + x
            return self.norm(torch.flatten(y.mean((2, 3), True), 1))
    return Block()


def branches_module(count, make, join):
    return Named(lambda m, x: join([getattr(m, f'b{i}')(x) for i in range(count)]),
                 **{f'b{i}': make(i) for i in range(count)})


# name -> (entry, PyTorch module factory, input shape without the batch)
CASES = {
    'avgpool_incl': ('avgpool_net(incl=true)', lambda: nn.AvgPool2d(3, 2, 1), [3, 11, 13]),
    'avgpool_excl': ('avgpool_net(incl=false)',
                     lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False), [3, 11, 13]),
    'avgpool_ceil': ('avgpool_net(incl=true, ceil=true)',
                     lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True), [3, 11, 13]),
    'avgpool_ceil_excl': ('avgpool_net(incl=false, ceil=true)',
                          lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                          [3, 11, 13]),
    'maxpool_ceil_pad': ('maxpool_net', lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True),
                         [3, 11, 13]),
    'adaptive_uneven': ('adaptive_net', lambda: nn.AdaptiveAvgPool2d((4, 5)), [3, 11, 13]),
    'softmax': ('softmax_net', lambda: nn.Softmax(1), [5, 3, 4]),
    'sigmoid': ('sigmoid_net', nn.Sigmoid, [3, 11, 13]),
    'tanh': ('tanh_net', nn.Tanh, [3, 11, 13]),
    # Tiny inputs, compared without an absolute floor: tanh(1e-7) must be ~1e-7.
    'tanh_tiny': ('tanh_net', nn.Tanh, [3, 11, 13], {'scale': 1e-6, 'atol': 0.0}),
    'sigmoid_tiny': ('sigmoid_net', nn.Sigmoid, [3, 11, 13], {'scale': 1e-6, 'atol': 0.0}),
    'relu': ('relu_net', nn.ReLU, [3, 11, 13]),
    'relu6': ('relu6_net', nn.ReLU6, [3, 11, 13]),
    'hardtanh': ('hardtanh_net', lambda: nn.Hardtanh(-2.0, 3.0), [3, 11, 13]),
    'hardswish': ('hardswish_net', nn.Hardswish, [3, 11, 13]),
    'hardsigmoid': ('hardsigmoid_net', nn.Hardsigmoid, [3, 11, 13]),
    'silu': ('silu_net', nn.SiLU, [3, 11, 13]),
    'hardswish_tiny': ('hardswish_net', nn.Hardswish, [3, 11, 13], {'scale': 1e-6, 'atol': 0.0}),
    'silu_tiny': ('silu_net', nn.SiLU, [3, 11, 13], {'scale': 1e-6, 'atol': 0.0}),
    'mobile': ('mobile_net', mobile_module, [3, 12, 14]),
    # Also through the library's AVX2 variant (8 lanes: 40 channels are 2.5
    # tiles of two vectors), which every x86-64 CPU netc targets can run.
    'depthwise': ('depthwise_net', depthwise_module, [3, 13, 17], {'isas': ['avx2']}),
    'shuffle': ('shuffle_net', shuffle_module, [7, 5, 6]),
    # 1x1 expansions computed per task of the depthwise conv that reads them
    # (bands of rows; two groups of channels); AVX2 too.
    'inverted': ('inverted_net', inverted_module, [8, 40, 21], {'isas': ['avx2']}),
    # Concats in place whose operands other layers read too, one inside the
    # next; also through the AVX2 variant (8 lanes).
    'dense': ('dense_net', dense_module, [3, 7, 9], {'isas': ['avx2']}),
    # BatchNorm (+ activation) as a conv's prologue, zero-padded after it.
    'prologue': ('prologue_net', prologue_module, [3, 12, 32], {'isas': ['avx2']}),
    'gelu': ('gelu_net', nn.GELU, [3, 11, 13]),
    'gelu_tiny': ('gelu_net', nn.GELU, [3, 11, 13], {'scale': 1e-6, 'atol': 0.0}),
    'gelu_wide': ('gelu_net', nn.GELU, [3, 11, 13], {'scale': 4.0}),
    'convnext': ('convnext_net', convnext_module, [8, 9, 11]),
    # 32 channels: channels last, the LayerNorms' sums in vectors of lanes
    # (AVX2 too: 8 lanes).
    'convnext_wide': ('convnext_net(c=32)', lambda: convnext_module(32), [32, 9, 11],
                      {'isas': ['avx2']}),
    'lrn': ('lrn_net', lambda: nn.LocalResponseNorm(5, alpha=0.001, beta=0.75, k=2.0),
            [7, 6, 5]),
    'conv_dilated_grouped': ('conv_net', lambda: Named(
        lambda m, x: m.c(x), c=nn.Conv2d(4, 6, 3, stride=(1, 2), padding=2, dilation=2,
                                        groups=2)), [4, 11, 13]),
    'linear_no_bias': ('linear_net', lambda: Named(
        lambda m, x: m.fc(torch.flatten(x, 1)), fc=nn.Linear(60, 7, bias=False)), [3, 4, 5]),
    'batchnorm': ('bn_net', bn_module, [3, 11, 13]),
    'specials': ('specials_net', specials_module, [3, 12, 14]),
    'pool_flatten': ('pool_flatten_net', pool_flatten_module, [3, 9, 11]),
    'concat12': ('concat12_net', lambda: branches_module(
        12, lambda i: nn.Conv2d(3, i + 1, 1), lambda ys: torch.cat(ys, 1)), [3, 5, 6]),
    'add9': ('add9_net', lambda: branches_module(
        9, lambda i: nn.Conv2d(3, 4, 3, padding=1), lambda ys: sum(ys[1:], ys[0])), [3, 5, 6]),
}


def inputs(shape, batch, seed):
    """A random batch, and the same with NaN, +-Inf and huge values planted."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand([batch] + shape, generator=g) * 4 - 2).numpy()
    return [('random', x), ('NaN/Inf/huge', netc_harness.with_specials(x))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    netc_harness.add_arguments(parser)
    parser.add_argument('cases', nargs='*', choices=[[]] + sorted(CASES), default=[])
    args = parser.parse_args()
    torch.set_num_threads(1)
    failures = []
    selected = args.cases or sorted(CASES)
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        for name in selected:
            entry, factory, shape = CASES[name][:3]
            extra = CASES[name][3] if len(CASES[name]) > 3 else {}
            scale, atol = extra.get('scale', 1.0), extra.get('atol', 1e-5)
            torch.manual_seed(0)
            model = factory().eval()
            weights = os.path.join(tmp, f'{name}.safetensors')
            save_safetensors(weights, model.state_dict())
            # The netc's default variants where the case runs more than this
            # CPU's; else the one variant this CPU runs, as `netc run`.
            runner = netc.compile(SPEC, entry, name, isa=None if 'isas' in extra else 'host')
            for batch in (1, 3):
                for label, x in inputs(shape, batch, seed=batch):
                    x = x * np.float32(scale)
                    print(f"{name}, batch {batch}, {label} input:")
                    with torch.no_grad():
                        reference = model(torch.from_numpy(x)).numpy()
                    for error in netc_harness.library_and_jit(netc, runner, SPEC, entry, weights,
                                                              x, reference, atol=atol):
                        failures.append(f"{name}, batch {batch}, {label}: {error}")
                    for isa in extra.get('isas', []):
                        env = {'NETC_ISA': isa}
                        aot = netc.aot(runner, weights, x, env=env)
                        checks = [netc_harness.compare(f'AOT {isa} vs torch', aot, reference,
                                                       atol=atol),
                                  netc_harness.bitwise(f'AOT {isa} vs JIT {isa}', aot,
                                                       netc.jit(SPEC, entry, weights, x, env=env))]
                        failures += [f"{name}, batch {batch}, {label}: {e}" for e in checks if e]
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    failed = {f.split(',')[0] for f in failures}
    print(f"{len(selected) - len(failed)} passed, {len(failed)} failed")
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
