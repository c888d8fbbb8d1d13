#!/usr/bin/env python3
"""Writes weights/lenet5_fashion_mnist.onnx: the trained LeNet-5 (weights/
lenet5_fashion_mnist.safetensors) exported by torch.onnx at opset 13 with a
dynamic batch axis, the ONNX model the tests build with netc_add_model.

    /usr/bin/python3 tools/export_lenet5_onnx.py [OUT.onnx]
"""
import os
import sys
import warnings

import torch

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
sys.path.insert(0, os.path.join(root, 'tests', 'e2e'))
sys.path.insert(0, os.path.join(root, 'tools'))
import torch_models  # noqa: E402
from safetensors_io import load_safetensors  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, 'weights',
                                                          'lenet5_fashion_mnist.onnx')
model = torch_models.LeNet5().eval()
state = load_safetensors(os.path.join(root, 'weights', 'lenet5_fashion_mnist.safetensors'))
model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), out, opset_version=13,
                      input_names=['image'], output_names=['logits'],
                      dynamic_axes={'image': {0: 'N'}, 'logits': {0: 'N'}})
print(out)
