#!/usr/bin/env python3
"""check_layernorm.py MODEL X Y: Y (netc's output) against numpy running
MODEL (make_models.py's layernorm.onnx: Conv, then a layer norm over the
channels with weight and bias) on X, float64, within 1e-5 of the largest
output; the failing index named."""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

model, x, y = onnx.load(sys.argv[1]), np.load(sys.argv[2]), np.load(sys.argv[3])
w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
k = w['conv.weight']
c = np.zeros((x.shape[0], 4, 6, 6))
for i in range(3):
    for j in range(3):
        c += np.einsum('nchw,oc->nohw', x[:, :, i:i + 6, j:j + 6], k[:, :, i, j])
c += w['conv.bias'][None, :, None, None]
mean = c.mean(axis=1, keepdims=True)
var = ((c - mean) ** 2).mean(axis=1, keepdims=True)
ref = (c - mean) / np.sqrt(var + float(w['eps'])) * w['norm.weight'][None, :, None, None] \
    + w['norm.bias'][None, :, None, None]
err = np.abs(y - ref)
bound = 1e-5 * np.abs(ref).max()
if y.shape != ref.shape or not (err <= bound).all():
    at = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape)) if y.shape == ref.shape else None
    sys.exit(f'layer norm: shape {y.shape} (numpy {ref.shape}); worst at {at}: '
             f'{y[at] if at else None} vs numpy {ref[at] if at else None}, bound {bound:.3g}')
print(f'layer norm: max error {err.max():.3g} <= {bound:.3g}')
