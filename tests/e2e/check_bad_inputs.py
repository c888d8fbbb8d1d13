#!/usr/bin/env python3
"""Bad weights and bad inputs must fail with the right status and a message
naming the tensor, through the generated library (aot_run) and `netc run`.

    check_bad_inputs.py --aot AOT_RUN_LENET5 --netc NETC
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

import torch_models

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--aot', required=True)
    parser.add_argument('--netc', required=True)
    args = parser.parse_args()
    torch.manual_seed(0)
    good = torch_models.LeNet5().state_dict()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        def path(name):
            return os.path.join(tmp, name)

        x = path('x.npy')
        np.save(x, np.zeros([2, 1, 28, 28], np.float32))

        def weights(name, state):
            save_safetensors(path(name), state)
            return path(name)

        missing = dict(good)
        del missing['classifier.4.bias']
        extra = dict(good)
        extra['classifier.5.weight'] = torch.zeros(3)
        renamed = dict(good)
        renamed['features.0.wieght'] = renamed.pop('features.0.weight')
        misshaped = dict(good)
        misshaped['classifier.0.weight'] = torch.zeros(120, 255)
        wrong_type = dict(good)
        # (F16 and BF16 stand for F32: they are converted at load.)
        wrong_type['features.3.bias'] = torch.zeros(16, dtype=torch.int32).numpy()
        truncated = path('truncated.safetensors')
        with open(weights('full.safetensors', good), 'rb') as f:
            data = f.read()
        with open(truncated, 'wb') as f:
            f.write(data[:-100])
        np.save(path('wrong_shape.npy'), np.zeros([2, 1, 32, 32], np.float32))
        np.save(path('float64.npy'), np.zeros([2, 1, 28, 28], np.float64))

        good_weights = path('full.safetensors')
        cases = [
            # (weights, input, status, text the message must contain)
            (weights('missing.safetensors', missing), x, 'NETC_ERROR_MISSING_TENSOR',
             "missing tensor 'classifier.4.bias' (F32 [10])"),
            (weights('extra.safetensors', extra), x, 'NETC_ERROR_UNEXPECTED_TENSOR',
             "unexpected tensor 'classifier.5.weight' (F32 [3])"),
            (weights('renamed.safetensors', renamed), x, 'NETC_ERROR_MISSING_TENSOR',
             "unexpected tensor 'features.0.wieght' (F32 [6,1,5,5]); did you mean 'features.0.weight'?"),
            (weights('misshaped.safetensors', misshaped), x, 'NETC_ERROR_SHAPE',
             "tensor 'classifier.0.weight' has shape [120,255], expected [120,256]"),
            (weights('dtype.safetensors', wrong_type), x, 'NETC_ERROR_DTYPE',
             "tensor 'features.3.bias' has dtype I32, expected F32 (or F16, BF16)"),
            (truncated, x, 'NETC_ERROR_FORMAT', "the file is truncated or corrupt"),
            (path('nonexistent.safetensors'), x, 'NETC_ERROR_IO', "cannot open: No such file"),
            (good_weights, path('wrong_shape.npy'), 'NETC_ERROR_INVALID_ARGUMENT',
             "lenet5_run: input dimension 2 is 32, expected [N,1,28,28]"),
            (good_weights, path('float64.npy'), 'NETC_ERROR_DTYPE',
             "the array's dtype is '<f8'; netc reads float32 ('<f4') only"),
        ]
        for i, (w, inp, status, text) in enumerate(cases):
            out = path(f'y{i}.npy')
            result = subprocess.run([args.aot, w, inp, out], capture_output=True, text=True)
            message = result.stderr.strip()
            if result.returncode != 1 or not message.startswith(status + ':') or text not in message:
                failures.append(f"case {i} (aot): expected exit 1, {status} and '{text}'; got "
                                f"exit {result.returncode}: {message}")
            elif os.path.exists(out):
                failures.append(f"case {i} (aot): an output file was written despite the error")
            else:
                print(f"case {i} (aot): {status} as expected")
            if 'lenet5_run' in text:
                continue  # the JIT reports input shapes in its own words, checked below
            result = subprocess.run([args.netc, 'run', '--entry', 'lenet5', '--weights', w,
                                     '--input', inp, '--output', out], capture_output=True, text=True)
            if result.returncode != 1 or text not in result.stderr or os.path.exists(out):
                failures.append(f"case {i} (netc run): expected exit 1 and '{text}'; got exit "
                                f"{result.returncode}: {result.stderr.strip()}")
            else:
                print(f"case {i} (netc run): failed as expected")
        result = subprocess.run([args.netc, 'run', '--entry', 'lenet5', '--weights', good_weights,
                                 '--input', path('wrong_shape.npy'), '--output', path('y.npy')],
                                capture_output=True, text=True)
        # Named as the input file the user gave, not as an --input-shape.
        want = (f"error: the input {path('wrong_shape.npy')} (shape [2,1,32,32]): "
                "dimension 2 is 32 but 'x' fixes it at 28")
        if result.returncode != 1 or want not in result.stderr:
            failures.append(f"netc run with a 32x32 input: expected '{want}', got "
                            f"{result.stderr.strip()}")
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
