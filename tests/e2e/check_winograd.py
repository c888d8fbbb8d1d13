#!/usr/bin/env python3
"""The Winograd template (3x3 stride-1 convs) against PyTorch.

Fixed cases, each chosen to reach one branch of the template: F(4x4, 3x3)
(whole 4x4 tiles, at least 8 to a row) and F(2x2, 3x3) (elsewhere),
ragged edges (7x7, odd and non-square images), pads 0 and 2, channel
counts that are not whole register tiles, row tasks and channel-block
tasks (large transformed weights), BatchNorm folded, a residual sum and
relu in the epilogue, and the network's NCHW output written directly.
Each case must be served by the template (its Halide statement computes
`winograd_product`) and, through the generated library (AOT) and
`netc run` (JIT), at batch 1 and 3:
max |ours - torch| <= 1e-4 * max|torch| + 1e-5, AOT and JIT equal bit for
bit, and the JIT with --winograd=false (the direct template) within the
same bound; then at batch 2 with NaN, +-Inf and huge values planted in
the input, NaN and Inf exactly where PyTorch has them (a tile they reach
is recomputed directly). With --target only the library is built for that target.

    check_winograd.py HARNESS-FLAGS [--target HALIDE-TARGET]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import torch
from torch import nn

import netc_harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402

# (name, cin, cout, h, w, pad, residual): the 1x1 conv before puts `cin`
# channels innermost, as the template needs; `residual` adds the 1x1
# conv's output and a relu to the epilogue (cout == cin), else the 3x3
# conv's output is the network's.
CASES = [
    ('f4_row', 64, 64, 32, 40, 1, True),       # F(4x4): 8 and 10 tiles to a row
    ('f4_ragged_cout', 32, 40, 36, 32, 1, False),  # 40 channels: a padded register tile
    ('f2_odd', 48, 48, 9, 13, 1, True),        # F(2x2), ragged in both directions
    ('f2_pad0', 32, 64, 12, 12, 0, False),     # 10x10 output
    ('f2_pad2', 32, 32, 7, 7, 2, False),       # 9x9 output
    ('f2_blocks', 256, 256, 14, 14, 1, True),  # 4 MB of transformed weights: channel blocks
    ('f2_7x7', 128, 160, 7, 7, 1, False),      # layer4-like, 160 = 2.5 tiles of 64
]


def spec_of(name, cin, cout, h, w, pad, residual):
    body = f"b: conv({cout}, 3, pad={pad}, bias=false); bbn: bn()"
    if residual:
        body = f"add {{\n    {{ {body} }}\n    {{ }}\n  }}\n  relu()"
    return f"""net {name}() (x: f32[N,5,{h},{w}]) {{
  a: conv({cin}, 1); relu()
  {body}
}}
"""


class Case(nn.Module):
    def __init__(self, cin, cout, pad, residual):
        super().__init__()
        self.a = nn.Conv2d(5, cin, 1)
        self.b = nn.Conv2d(cin, cout, 3, padding=pad, bias=False)
        self.bbn = nn.BatchNorm2d(cout)
        self.residual = residual
        with torch.no_grad():
            self.bbn.running_mean.uniform_(-0.5, 0.5)
            self.bbn.running_var.uniform_(0.5, 1.5)
            self.bbn.weight.uniform_(0.5, 1.5)
            self.bbn.bias.uniform_(-0.2, 0.2)

    def forward(self, x):
        y = torch.relu(self.a(x))
        z = self.bbn(self.b(y))
        return torch.relu(z + y) if self.residual else z


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    netc_harness.add_arguments(parser)
    parser.add_argument('--target', help="netc's --target for the library (default: host)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        for index, (name, cin, cout, h, w, pad, residual) in enumerate(CASES):
            spec = os.path.join(tmp, f'{name}.nn')
            with open(spec, 'w') as f:
                f.write(spec_of(name, cin, cout, h, w, pad, residual))
            stmt = subprocess.run(
                [args.netc, spec, '--entry', name, '--input-shape', f'1,5,{h},{w}',
                 '--emit=halide-stmt'] + (['--target', args.target] if args.target else []),
                capture_output=True, text=True, check=True).stdout
            if 'winograd_product' not in stmt:
                failures.append(f"{name}: the 3x3 conv did not use the Winograd template")
                continue
            torch.manual_seed(index)
            model = Case(cin, cout, pad, residual).eval()
            weights = os.path.join(tmp, f'{name}.safetensors')
            save_safetensors(weights, model.state_dict())
            runner = netc.compile(spec, name, name, target=args.target)
            for batch, specials in ((1, False), (3, False), (2, True)):
                x = (torch.rand([batch, 5, h, w]) * 4 - 2).numpy()
                if specials:
                    x = netc_harness.with_specials(x)
                with torch.no_grad():
                    reference = model(torch.from_numpy(x)).numpy()
                errors = netc_harness.library_and_jit(
                    netc, runner, spec, name, weights, x, reference, jit=not args.target,
                    variants=[('direct JIT', ['--winograd=false'])])
                print(f"{name} batch {batch}{' NaN/Inf' if specials else ''}: cin={cin} "
                      f"cout={cout} {h}x{w} pad={pad} residual={residual}")
                failures += [f"{name} batch {batch}: {error}" for error in errors]
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    print(f"{len(CASES)} cases, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
