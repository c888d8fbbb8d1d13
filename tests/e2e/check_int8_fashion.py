#!/usr/bin/env python3
"""INT8 on real data: a trained network (LeNet-5, weights/lenet5_fashion_mnist;
or the narrow ResNet with BatchNorm and residual sums, weights/resnet_fashion)
calibrated by `netc calibrate` on 500 Fashion-MNIST training images, then
run in INT8 through its generated library and `netc run` on the 10,000 test
images. INT8's accuracy must be within 1 point of FP32's (PyTorch's model)
and its top-1 must agree with FP32's on at least 97 % of the images; the
library must equal the JIT bit for bit. PyTorch's own static PTQ (FX, onednn)
of the model on the same calibration images is printed beside it. Prints
"INT8_FASHION model accuracy_fp32 accuracy_int8 agreement accuracy_torch_int8".

With --onnx MODEL.onnx (the same network as torch.onnx exported it, reading
the same checkpoint), the ONNX model is calibrated and compiled to INT8 the
same way, and its library must give the spec's INT8 library's outputs bit
for bit (the same layers, calibrated on the same images).

    check_int8_fashion.py HARNESS-FLAGS --model lenet5|resnet_fashion --weights W.safetensors
                          [--onnx MODEL.onnx]
"""
import argparse
import gzip
import os
import sys
import tempfile

import numpy as np
import torch

import netc_harness
import torch_models
from check_int8 import torch_int8

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import load_safetensors  # noqa: E402

DATA = '/usr/share/datasets/fashion-mnist'
# --model: what the message calls it, and its PyTorch module.
MODELS = {'lenet5': ('LeNet-5', torch_models.LeNet5),
          'resnet_fashion': ('the narrow ResNet (resnet_fashion)', torch_models.FashionResNet)}


def images(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        return (np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
                .astype(np.float32) / 255.0)


def labels(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    netc_harness.add_arguments(parser)
    parser.add_argument('--weights', required=True)
    parser.add_argument('--model', choices=sorted(MODELS), default='lenet5')
    parser.add_argument('--onnx', help='the same network as an ONNX file, to compile alike')
    args = parser.parse_args()
    test_x, test_y = images('t10k-images-idx3-ubyte.gz'), labels('t10k-labels-idx1-ubyte.gz')
    # 500 training images, every 120th: all ten classes, none of the test set.
    calibration = np.ascontiguousarray(images('train-images-idx3-ubyte.gz')[::120])
    label, module = MODELS[args.model]
    model = module().eval()
    model.load_state_dict({k: torch.from_numpy(a) for k, a in load_safetensors(args.weights).items()})
    with torch.no_grad():
        fp32 = model(torch.from_numpy(test_x)).numpy()
        theirs = torch_int8(model, torch.from_numpy(calibration))(torch.from_numpy(test_x)).numpy()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        calib_path, qparams = os.path.join(tmp, 'calib.npy'), os.path.join(tmp, 'q.json')
        np.save(calib_path, calibration)
        netc_harness.run([args.netc, 'calibrate', '--entry', args.model, '--weights',
                          args.weights, '--input', calib_path, '-o', qparams, '--input-shape',
                          '1,1,28,28'])
        extra = ['--precision', 'int8', '--qparams', qparams]
        runner = netc.compile(None, args.model, f'{args.model}_int8', [1, 1, 28, 28], extra=extra)
        aot = netc.aot(runner, args.weights, test_x)
        jit = netc.jit(None, args.model, args.weights, test_x, extra + ['--input-shape', '1,1,28,28'])
        problem = netc_harness.bitwise('AOT vs JIT', aot, jit)
        if problem:
            failures.append(problem)
        if args.onnx:
            onnx_qparams = os.path.join(tmp, 'q_onnx.json')
            netc_harness.run([args.netc, 'calibrate', args.onnx, '--weights', args.weights,
                              '--input', calib_path, '-o', onnx_qparams, '--input-shape',
                              '1,1,28,28'])
            runner = netc.compile(args.onnx, None, f'{args.model}_onnx_int8', [1, 1, 28, 28],
                                  extra=['--precision', 'int8', '--qparams', onnx_qparams])
            problem = netc_harness.bitwise('ONNX INT8 library vs spec INT8 library',
                                           netc.aot(runner, args.weights, test_x), aot)
            if problem:
                failures.append(problem)
    accuracy = {name: float((out.argmax(1) == test_y).mean())
                for name, out in (('fp32', fp32), ('int8', aot), ('torch_int8', theirs))}
    agreement = float((aot.argmax(1) == fp32.argmax(1)).mean())
    print(f"{label}, 10,000 Fashion-MNIST test images: FP32 {100 * accuracy['fp32']:.2f} %, "
          f"netc INT8 {100 * accuracy['int8']:.2f} %, top-1 agreement with FP32 "
          f"{100 * agreement:.2f} %; PyTorch INT8 {100 * accuracy['torch_int8']:.2f} %")
    if abs(accuracy['int8'] - accuracy['fp32']) > 0.01:
        failures.append(f"INT8 accuracy {accuracy['int8']:.4f} is more than 1 point from FP32's "
                        f"{accuracy['fp32']:.4f}")
    if agreement < 0.97:
        i = int(np.argmax(aot.argmax(1) != fp32.argmax(1)))
        failures.append(f"top-1 agreement {agreement:.4f} < 0.97 (first disagreement: image {i}, "
                        f"INT8 {aot[i].argmax()}, FP32 {fp32[i].argmax()})")
    print(f"INT8_FASHION {args.model} {accuracy['fp32']:.4f} {accuracy['int8']:.4f} {agreement:.4f} "
          f"{accuracy['torch_int8']:.4f}")
    return netc_harness.report(failures)


if __name__ == '__main__':
    netc_harness.run_main(main)
