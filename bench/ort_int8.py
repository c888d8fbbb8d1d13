"""ONNX Runtime's INT8: a QDQ model written with python3-onnx from an FP32
export, calibrated on the same batch and by the same rule as `netc
calibrate` (each activation tensor's min and max, u8 asymmetric with 0 in
range), with s8 weights per output channel, symmetric (max|W| / 127.5, as
netc and PyTorch's per_channel_symmetric), int32 biases, and the classifier's
last linear kept float32 (as netc's default). ONNX Runtime fuses the
QuantizeLinear/DequantizeLinear pairs around convs into QLinearConv (MLAS's
u8 x s8 kernels, VNNI where the CPU has it).

    qdq_model(fp32.onnx, calibration batch, out.onnx, ort_eval) -> out.onnx
"""
import json
import os
import subprocess
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _resolve_identities(model):
    """The exporter shares equal initializers through Identity nodes: make
    each output an initializer of its own and drop the Identity."""
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    keep = []
    for node in graph.node:
        if node.op_type == 'Identity' and node.input[0] in inits:
            copy = onnx.TensorProto()
            copy.CopyFrom(inits[node.input[0]])
            copy.name = node.output[0]
            graph.initializer.append(copy)
            inits[copy.name] = copy
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)


def _ranges(model, batch, run_eval, tmp):
    """min and max of every node output over `batch`, run by ONNX Runtime."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    known = {o.name for o in probe.graph.output}
    for node in probe.graph.node:
        for name in node.output:
            if name not in known:
                probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                                        None))
                known.add(name)
    path, data, out = (os.path.join(tmp, f) for f in ('probe.onnx', 'calib.f32', 'ranges.json'))
    onnx.save(probe, path)
    np.ascontiguousarray(batch, dtype=np.float32).tofile(data)
    run_eval(path, data, batch.shape, out)
    # Float tensors only (not the int64 of shape arithmetic, which stays as it is).
    ranges = {name: (v['min'], v['max']) for name, v in json.load(open(out))['outputs'].items()
              if v.get('type', 'float32') == 'float32'}
    x = batch.astype(np.float32)
    ranges[model.graph.input[0].name] = (float(x.min()), float(x.max()))
    return ranges


def _u8(lo, hi):
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    return np.float32(scale), np.uint8(min(255, max(0, round(-lo / scale))))


def qdq_model(fp32_path, batch, out_path, run_eval):
    """Writes the QDQ model of `fp32_path` calibrated on `batch` to out_path."""
    model = onnx.load(fp32_path)
    _resolve_identities(model)
    graph = model.graph
    with tempfile.TemporaryDirectory() as tmp:
        ranges = _ranges(model, batch, run_eval, tmp)
    inits = {i.name: i for i in graph.initializer}
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    output = graph.output[0].name
    producer = {o: n for n in graph.node for o in n.output}
    last_gemm = producer.get(output)
    while last_gemm is not None and last_gemm.op_type not in ('Gemm', 'MatMul'):
        last_gemm = producer.get(last_gemm.input[0])
    # Activation tensors to quantize: every one but the output, the last
    # linear's output, and a tensor only a Relu reads (its output is
    # quantized instead, with 0 as the zero point, which ORT folds the Relu
    # into).
    tensors = [graph.input[0].name] + [o for n in graph.node for o in n.output]
    quantized = {}
    new_nodes, new_inits = [], []
    for t in tensors:
        if t == output or (last_gemm is not None and t == last_gemm.output[0]):
            continue
        users = consumers.get(t, [])
        if t not in ranges or not users or all(u.op_type == 'Relu' for u in users):
            continue
        scale, zero = _u8(*ranges[t])
        quantized[t] = scale
        s, z = f'{t}_scale', f'{t}_zero'
        new_inits += [numpy_helper.from_array(np.array(scale, np.float32), s),
                      numpy_helper.from_array(np.array(zero, np.uint8), z)]
        new_nodes.append((t, [helper.make_node('QuantizeLinear', [t, s, z], [f'{t}_q']),
                              helper.make_node('DequantizeLinear', [f'{t}_q', s, z],
                                               [f'{t}_dq'])]))
    after = {t: nodes for t, nodes in new_nodes}
    rewritten = []
    if graph.input[0].name in after:
        rewritten += after[graph.input[0].name]
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in quantized:
                node.input[i] = f'{name}_dq'
        quantize_weights = node.op_type == 'Conv' or (node.op_type == 'Gemm' and node is not last_gemm)
        if quantize_weights and len(node.input) >= 2 and node.input[1] in inits:
            source = node.input[0][:-3] if node.input[0].endswith('_dq') else None
            if source in quantized:
                _quantize_weights(node, inits, quantized[source], new_inits, rewritten)
        rewritten.append(node)
        for o in node.output:
            rewritten += after.get(o, [])
    del graph.node[:]
    graph.node.extend(rewritten)
    graph.initializer.extend(new_inits)
    used = {name for node in graph.node for name in node.input}
    unused = [i for i in graph.initializer if i.name not in used]
    for i in unused:  # float weights replaced by their s8 copies
        graph.initializer.remove(i)
    onnx.save(model, out_path)
    return out_path


def _quantize_weights(node, inits, input_scale, new_inits, nodes):
    """The node's weight (and bias) as s8 per output channel (int32) with a
    DequantizeLinear each, axis 0."""
    w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
    if node.op_type == 'Gemm':
        trans_b = next((a.i for a in node.attribute if a.name == 'transB'), 0)
        if not trans_b:
            return  # [in, out] weights: left float
    per = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    scale = np.where(per > 0, per / 127.5, 1.0).astype(np.float32)
    q = np.clip(np.round(w / scale.reshape([-1] + [1] * (w.ndim - 1))), -128, 127).astype(np.int8)
    name = node.input[1]
    new_inits += [numpy_helper.from_array(q, f'{name}_s8'),
                  numpy_helper.from_array(scale, f'{name}_wscale'),
                  numpy_helper.from_array(np.zeros(w.shape[0], np.int8), f'{name}_wzero')]
    nodes.append(helper.make_node('DequantizeLinear',
                                  [f'{name}_s8', f'{name}_wscale', f'{name}_wzero'],
                                  [f'{name}_wdq'], axis=0))
    node.input[1] = f'{name}_wdq'
    if len(node.input) >= 3 and node.input[2] in inits:
        b = numpy_helper.to_array(inits[node.input[2]]).astype(np.float64)
        bscale = (np.float64(input_scale) * scale.astype(np.float64)).astype(np.float32)
        qb = np.round(b / bscale).astype(np.int32)
        bname = node.input[2]
        new_inits += [numpy_helper.from_array(qb, f'{bname}_s32'),
                      numpy_helper.from_array(bscale, f'{bname}_bscale'),
                      numpy_helper.from_array(np.zeros(b.shape[0], np.int32), f'{bname}_bzero')]
        nodes.append(helper.make_node('DequantizeLinear',
                                      [f'{bname}_s32', f'{bname}_bscale', f'{bname}_bzero'],
                                      [f'{bname}_bdq'], axis=0))
        node.input[2] = f'{bname}_bdq'


def node_eval(ort_dir, script):
    """run_eval for qdq_model: bench/ort_eval.js under node."""
    def run(model, data, shape, out, optimized=None):
        command = ['node', script, model, data, ','.join(str(d) for d in shape), out]
        if optimized:
            command.append(optimized)
        done = subprocess.run(command, capture_output=True, text=True,
                              env=dict(os.environ, NODE_PATH=os.path.join(
                                  os.path.abspath(ort_dir), 'node_modules')))
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): "
                               f"{done.stderr.strip()[-2000:]}")
    return run
