#!/usr/bin/env python3
"""What torch.onnx writes for PyTorch code that is not one ONNX op, compiled
by netc from the ONNX file, against PyTorch, NaN and Inf included.

One small network strings the spellings together: ConvNeXt's LayerNorm2d
(primitives before opset 17), GELU (Erf), a channel shuffle (Reshape,
Transpose, Reshape), Hardswish and SiLU, F.pad with uneven pads
(ConstantOfShape, Concat, Reshape, a Slice of step -1, Transpose: the pads
computed from constants), an open-ended slice x[:, c:] (Slice to
INT64_MAX), a Linear over NHWC channels, a spatial mean and log_softmax.
Exported at opset 13 (through the library) and 17 (through `netc run`),
both with a dynamic batch axis (exported at 1, run at 3), against PyTorch
at the zoo bound, the two bit for bit equal; then the same on a batch with
NaN, +-Inf and huge values planted, where NaN and Inf must sit where
PyTorch has them.

    check_onnx_spellings.py [harness flags]
"""
import argparse
import os
import tempfile

import torch
import torch.nn.functional as F
from torchvision.models.convnext import LayerNorm2d

import netc_harness
from check_onnx_zoo import export


class Spellings(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 16, 3)
        self.norm = LayerNorm2d(16, eps=1e-6)
        self.down = torch.nn.Conv2d(16, 8, 3, stride=2)
        self.mlp = torch.nn.Linear(8, 12)
        self.fc = torch.nn.Linear(12, 5)

    def forward(self, x):
        y = F.gelu(self.norm(self.stem(x)))
        n, c, h, w = y.shape
        y = y.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)
        y = F.hardswish(y)[:, 4:]               # 12 of 16 channels
        y = F.silu(torch.cat([y, y[:, :4]], 1))  # 16 again
        y = self.down(F.pad(y, (1, 0, 2, 1)))    # left 1, top 2, bottom 1
        y = self.mlp(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return F.log_softmax(self.fc(y.mean((2, 3))), 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    netc_harness.add_arguments(parser)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = Spellings().eval()
    with torch.no_grad():  # a layer norm whose weight and bias are not 1 and 0
        model.norm.weight.uniform_(0.5, 1.5)
        model.norm.bias.uniform_(-0.5, 0.5)
    x = torch.rand([3, 3, 19, 23], generator=torch.Generator().manual_seed(3))
    specials = torch.from_numpy(netc_harness.with_specials(x.numpy()))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        paths = {}
        for opset in (13, 17):
            paths[opset] = os.path.join(tmp, f'spellings{opset}.onnx')
            export(model, list(x.shape[1:]), paths[opset], opset, fold=True, preserve=False)
        weights = os.path.join(tmp, 'weights.safetensors')
        netc_harness.run([args.netc, paths[13], '--export-weights', weights])
        runner = netc.compile(paths[13], None, 'spellings')
        for label, batch in (('plain', x), ('NaN/Inf', specials)):
            with torch.no_grad():
                reference = model(batch).numpy()
            print(f'{label} batch:')
            aot = netc.aot(runner, weights, batch.numpy())
            jit = netc.jit(paths[17], None, None, batch.numpy())
            failures += [e for e in (
                netc_harness.compare(f'{label}: opset 13 library vs torch', aot, reference),
                netc_harness.compare(f'{label}: opset 17 netc run vs torch', jit, reference),
                netc_harness.bitwise(f'{label}: library vs netc run', aot, jit)) if e]
    return netc_harness.report(failures)


if __name__ == '__main__':
    netc_harness.run_main(main)
