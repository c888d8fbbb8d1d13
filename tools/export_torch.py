#!/usr/bin/env python3
"""Writes a PyTorch state_dict as safetensors, the weights format netc loads.

    export_torch.py CHECKPOINT.pth OUT.safetensors
        a checkpoint saved with torch.save: a state_dict, a whole model, or a
        dict holding one under 'state_dict' or 'model' (as training scripts
        often save it); a DataParallel 'module.' prefix is stripped.
    export_torch.py --torchvision NAME [--seed S] OUT.safetensors
        a torchvision model built here (random weights, seeded), e.g. to try
        a network before training it: resnet50, googlenet, vgg16_bn, ...

Keys are written exactly as PyTorch names them, so they match netc's
(`netc --entry NAME --print-keys`). Needs only PyTorch (Debian's python3-torch;
torchvision for --torchvision). The output is written atomically.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import save_safetensors  # noqa: E402


def state_dict_of(checkpoint):
    """The tensors of whatever torch.save stored."""
    if isinstance(checkpoint, torch.nn.Module):
        return checkpoint.state_dict()
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            inner = checkpoint.get(key)
            if isinstance(inner, dict) and inner and all(
                    torch.is_tensor(v) for v in inner.values()):
                return inner
            if isinstance(inner, torch.nn.Module):
                return inner.state_dict()
        tensors = {k: v for k, v in checkpoint.items() if torch.is_tensor(v)}
        if tensors:
            return tensors
    raise SystemExit("export_torch.py: the checkpoint holds no state_dict (found "
                     f"{type(checkpoint).__name__})")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__.split('\n', 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', nargs='?', help='a file written by torch.save')
    parser.add_argument('output', help='the .safetensors file to write')
    parser.add_argument('--torchvision', metavar='NAME', help='a torchvision model instead')
    parser.add_argument('--seed', type=int, default=0, help='for --torchvision (default 0)')
    parser.add_argument('--keep-prefix', action='store_true',
                        help="keep a DataParallel 'module.' prefix")
    args = parser.parse_args()
    if bool(args.checkpoint) == bool(args.torchvision):
        parser.error('give either CHECKPOINT or --torchvision NAME')
    if args.torchvision:
        import warnings
        warnings.simplefilter('ignore', FutureWarning)  # torchvision's notes on init defaults
        import torchvision.models as tvm
        constructor = getattr(tvm, args.torchvision, None)
        if not callable(constructor) or args.torchvision.startswith('_'):
            parser.error(f"torchvision has no model '{args.torchvision}'")
        torch.manual_seed(args.seed)
        state = constructor().eval().state_dict()
    else:
        try:
            checkpoint = torch.load(args.checkpoint, map_location='cpu')
        except Exception as e:  # a message, not a traceback
            raise SystemExit(f"export_torch.py: cannot read {args.checkpoint}: {e}")
        state = state_dict_of(checkpoint)
    if not args.keep_prefix and state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    # netc reads float32 weights (and int64 counters): other float types are
    # converted, as model.float() would.
    converted = [k for k, v in state.items() if v.is_floating_point() and v.dtype != torch.float32]
    unsupported = [k for k, v in state.items()
                   if not v.is_floating_point() and v.dtype != torch.int64]
    if unsupported:
        raise SystemExit(f"export_torch.py: tensor '{unsupported[0]}' has dtype "
                         f"{state[unsupported[0]].dtype}; netc reads float32 and int64 tensors")
    save_safetensors(args.output, {k: (v.float() if k in converted else v).detach().cpu().contiguous()
                                   for k, v in state.items()})
    print(f"{args.output}: {len(state)} tensors"
          + (f", {len(converted)} converted to float32" if converted else ""))
    return 0


if __name__ == '__main__':
    sys.exit(main())
