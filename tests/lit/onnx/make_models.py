#!/usr/bin/env python3
"""make_models.py DIR: the small ONNX files the onnx/ lit tests feed netc.

  small.onnx        Conv 3x3 (pads 1) + Relu + GlobalAveragePool + Flatten +
                    Gemm, input [N,1,8,8], torchvision-style initializer names
  small_ext.onnx    the same with its initializers in small_ext.data
  no_data.onnx      the same, its external data file missing
  symbolic.onnx     input [N,1,H,W]
  unsupported.onnx  two Elu, a Selu and a custom-domain op among supported
                    ones
  opset18.onnx      a Relu at opset 18
  uint8.onnx        a uint8 input
  misfit.onnx       a Conv weight of 2 input channels on a 1-channel input
  asym.onnx         a Conv padded [1,1,0,0] (top/left only)
  asym_avg.onnx     an AveragePool padded [0,0,1,1] not counting the pads
  layernorm.onnx    Conv, Transpose to NHWC, a layer norm spelled as opset 13
                    spells it (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt,
                    Div, Mul, Add), Transpose back
  norm_only.onnx    the same without the Mul and Add (no affine)
  pow.onnx          a Pow of an activation outside a layer norm
  bn6_test.onnx     BatchNormalization at opset 6, is_test 1 (inference)
  bn6_train.onnx    the same without is_test (0: training statistics)
  slice_end.onnx    x[:, 1:] as torch.onnx writes it (ends INT64_MAX), its
                    starts and ends initializers
  truncated.onnx    the first half of small.onnx
  garbage.onnx      bytes that are no protobuf
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def init(rng, name, *shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def save(model, name, **kw):
    onnx.save(model, os.path.join(out, name), **kw)


def small(input_dims=('N', 1, 8, 8), opset=13, conv_in=1, pads=(1, 1, 1, 1)):
    x = helper.make_tensor_value_info('input', TensorProto.FLOAT, list(input_dims))
    y = helper.make_tensor_value_info('output', TensorProto.FLOAT, ['N', 3])
    nodes = [
        helper.make_node('Conv', ['input', 'conv.weight', 'conv.bias'], ['c'], name='/conv/Conv',
                         kernel_shape=[3, 3], pads=list(pads)),
        helper.make_node('Relu', ['c'], ['r'], name='/relu/Relu'),
        helper.make_node('GlobalAveragePool', ['r'], ['p'], name='/pool/GlobalAveragePool'),
        helper.make_node('Flatten', ['p'], ['f'], name='/Flatten'),
        helper.make_node('Gemm', ['f', 'fc.weight', 'fc.bias'], ['output'], name='/fc/Gemm',
                         transB=1),
    ]
    rng = np.random.default_rng(1)  # every variant with the same weights
    inits = [init(rng, 'conv.weight', 4, conv_in, 3, 3), init(rng, 'conv.bias', 4),
             init(rng, 'fc.weight', 3, 4), init(rng, 'fc.bias', 3)]
    graph = helper.make_graph(nodes, 'small', [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])


save(small(), 'small.onnx')
save(small(), 'small_ext.onnx', save_as_external_data=True, all_tensors_to_one_file=True,
     location='small_ext.data', size_threshold=0)
save(small(), 'no_data.onnx', save_as_external_data=True, all_tensors_to_one_file=True,
     location='no_data.data', size_threshold=0)
os.remove(os.path.join(out, 'no_data.data'))
save(small(('N', 1, 'H', 'W')), 'symbolic.onnx')
save(small(conv_in=2), 'misfit.onnx')
save(small(pads=(1, 1, 0, 0)), 'asym.onnx')

# Unsupported ops among supported ones.
x = helper.make_tensor_value_info('input', TensorProto.FLOAT, ['N', 2, 4, 4])
y = helper.make_tensor_value_info('output', TensorProto.FLOAT, ['N', 2, 4, 4])
nodes = [helper.make_node('Relu', ['input'], ['a'], name='relu'),
         helper.make_node('Elu', ['a'], ['b'], name='elu1', alpha=0.1),
         helper.make_node('Selu', ['b'], ['c'], name='selu'),
         helper.make_node('Elu', ['c'], ['d'], name='elu2'),
         helper.make_node('Swish', ['d'], ['e'], name='custom', domain='com.example'),
         helper.make_node('Sigmoid', ['e'], ['output'], name='sigmoid')]
graph = helper.make_graph(nodes, 'unsupported', [x], [y])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13),
                                                helper.make_opsetid('com.example', 1)])
save(model, 'unsupported.onnx')

# Uneven padding an average cannot count.
graph = helper.make_graph([helper.make_node('AveragePool', ['input'], ['output'], name='avg',
                                            kernel_shape=[2, 2], pads=[0, 0, 1, 1])],
                          'avg', [x], [y])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), 'asym_avg.onnx')



def layer_norm(affine=True):
    """Conv, then ConvNeXt's LayerNorm2d as torch.onnx exports it at opset 13."""
    x = helper.make_tensor_value_info('input', TensorProto.FLOAT, ['N', 1, 8, 8])
    y = helper.make_tensor_value_info('output', TensorProto.FLOAT, ['N', 4, 6, 6])
    rng = np.random.default_rng(2)
    inits = [init(rng, 'conv.weight', 4, 1, 3, 3), init(rng, 'conv.bias', 4),
             numpy_helper.from_array(np.array(2, np.float32), 'two'),
             numpy_helper.from_array(np.array(1e-6, np.float32), 'eps')]
    nodes = [helper.make_node('Conv', ['input', 'conv.weight', 'conv.bias'], ['c'],
                              name='/conv/Conv'),
             helper.make_node('Transpose', ['c'], ['t'], name='/norm/Transpose', perm=[0, 2, 3, 1]),
             helper.make_node('ReduceMean', ['t'], ['m'], name='/norm/ReduceMean', axes=[-1]),
             helper.make_node('Sub', ['t', 'm'], ['d'], name='/norm/Sub'),
             helper.make_node('Pow', ['d', 'two'], ['d2'], name='/norm/Pow'),
             helper.make_node('ReduceMean', ['d2'], ['v'], name='/norm/ReduceMean_1', axes=[-1]),
             helper.make_node('Add', ['v', 'eps'], ['ve'], name='/norm/Add'),
             helper.make_node('Sqrt', ['ve'], ['s'], name='/norm/Sqrt'),
             helper.make_node('Div', ['d', 's'], ['n'], name='/norm/Div')]
    last = 'n'
    if affine:
        inits += [init(rng, 'norm.weight', 4), init(rng, 'norm.bias', 4)]
        nodes += [helper.make_node('Mul', ['n', 'norm.weight'], ['w'], name='/norm/Mul'),
                  helper.make_node('Add', ['w', 'norm.bias'], ['b'], name='/norm/Add_1')]
        last = 'b'
    nodes.append(helper.make_node('Transpose', [last], ['output'], name='/norm/Transpose_1',
                                  perm=[0, 3, 1, 2]))
    graph = helper.make_graph(nodes, 'layernorm', [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])


save(layer_norm(), 'layernorm.onnx')
save(layer_norm(affine=False), 'norm_only.onnx')
graph = helper.make_graph([helper.make_node('Pow', ['input', 'two'], ['output'], name='pow')],
                          'pow', [x], [y],
                          [numpy_helper.from_array(np.array(2, np.float32), 'two')])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), 'pow.onnx')

# BatchNormalization's opset-6 definition, in test mode and not.
def bn6(**attrs):
    rng = np.random.default_rng(4)
    inits = [init(rng, k, 2) for k in ('bn.weight', 'bn.bias', 'bn.running_mean')]
    inits.append(numpy_helper.from_array(np.ones(2, np.float32), 'bn.running_var'))
    node = helper.make_node('BatchNormalization', ['input'] + [t.name for t in inits], ['output'],
                            name='bn', **attrs)
    graph = helper.make_graph([node], 'bn6', [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid('', 6)])


save(bn6(is_test=1), 'bn6_test.onnx')
save(bn6(), 'bn6_train.onnx')

# x[:, 1:]: Slice to INT64_MAX, read from initializers.
ends = [numpy_helper.from_array(np.array(v, np.int64), k)
        for k, v in (('starts', [1]), ('ends', [2**63 - 1]), ('axes', [1]))]
graph = helper.make_graph([helper.make_node('Relu', ['input'], ['r'], name='relu'),
                           helper.make_node('Slice', ['r', 'starts', 'ends', 'axes'], ['output'],
                                            name='slice')],
                          'slice_end', [x], [helper.make_tensor_value_info(
                              'output', TensorProto.FLOAT, ['N', 1, 4, 4])], ends)
save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), 'slice_end.onnx')

# A newer opset than netc knows, and a uint8 input.
graph = helper.make_graph([helper.make_node('Relu', ['input'], ['output'])], 'relu', [x], [y])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 18)]), 'opset18.onnx')
xu = helper.make_tensor_value_info('input', TensorProto.UINT8, ['N', 2, 4, 4])
graph = helper.make_graph([helper.make_node('Cast', ['input'], ['output'], to=TensorProto.FLOAT)],
                          'cast', [xu], [y])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), 'uint8.onnx')

# Files that are no models.
with open(os.path.join(out, 'small.onnx'), 'rb') as f:
    data = f.read()
with open(os.path.join(out, 'truncated.onnx'), 'wb') as f:
    f.write(data[:len(data) // 2])
with open(os.path.join(out, 'garbage.onnx'), 'wb') as f:
    f.write(b'\xff\xfe not a protobuf \x00\x01' * 8)
