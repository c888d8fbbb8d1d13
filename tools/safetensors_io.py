"""Writes PyTorch tensors as safetensors and numpy arrays as .npy, for tests.

safetensors is written directly from its published layout (a little-endian
u64 header length, a JSON header, the raw data), since Debian ships no
safetensors package for Python.
"""
import json
import os
import struct

import numpy as np

DTYPES = {np.dtype('float32'): 'F32', np.dtype('int64'): 'I64', np.dtype('float16'): 'F16',
          np.dtype('int32'): 'I32'}
NUMPY_TYPES = {name: dtype for dtype, name in DTYPES.items()}


def load_safetensors(path):
    """The tensors of a safetensors file, as numpy arrays by key."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    return {key: np.frombuffer(data[info['data_offsets'][0]:info['data_offsets'][1]],
                               NUMPY_TYPES[info['dtype']]).reshape(info['shape']).copy()
            for key, info in header.items() if key != '__metadata__'}


def save_safetensors(path, state):
    header, blobs, offset = {}, [], 0
    for key, tensor in state.items():
        array = tensor.detach().contiguous().numpy() if hasattr(tensor, 'detach') else tensor
        blob = array.tobytes()
        header[key] = {'dtype': DTYPES[array.dtype], 'shape': list(array.shape),
                       'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header['__metadata__'] = {'format': 'pt'}
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)
