#!/usr/bin/env python3
"""ONNX's own backend tests (Debian's libonnx-testdata) through netc.

Every case netc converts runs through the generated library and `netc run`
and is compared with ONNX's expected output (ONNX's tolerances: rtol 1e-3,
atol 1e-7; NaN where ONNX has NaN); the library and `netc run` must agree
bit for bit. A case netc does not convert must be refused with netc's
clear error (exit status 1, "netc: error: ...") when it reads the model (its
keys are asked for first): a crash, any other exit status, a model netc
reads but then cannot compile or run, or a wrong number fails the test.

    check_onnx_backend.py [harness flags] --data DIR --expected FILE
                          [--table OUT.md] [--filter REGEX]

--expected lists the cases that pass ("suite/case" per line): one of them
not passing fails the test; a case passing that the file does not list is
reported, to be added. --table writes the outcome of every case and the
counts per suite (the README quotes the counts).

ONNX's node tests pass weights as graph inputs: the first input that is not
an initializer is the network's input, and netc reads the others as
weights, which this test writes to a safetensors file by their names.
"""
import argparse
import collections
import glob
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

import netc_harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402

SUITES = ('node', 'pytorch-converted', 'pytorch-operator', 'simple')
RTOL, ATOL = 1e-3, 1e-7


def read_tensors(folder, prefix):
    files = glob.glob(os.path.join(folder, f'{prefix}_*.pb'))
    files.sort(key=lambda f: int(re.search(r'_(\d+)\.pb$', f).group(1)))
    tensors = []
    for f in files:
        t = onnx.TensorProto()
        with open(f, 'rb') as stream:
            t.ParseFromString(stream.read())
        tensors.append(numpy_helper.to_array(t))
    return tensors


def refusal(result):
    """netc's first error line when it refused cleanly (status 1,
    "netc: error: ..."), else None."""
    if result.returncode == 1 and result.stderr.startswith('netc: error: '):
        lines = result.stderr.splitlines()
        # The first line names the file; the reasons follow it when listed.
        reason = lines[0][len('netc: error: '):]
        if len(lines) > 1 and lines[1].startswith('  '):
            reason += ' ' + lines[1].strip()
        return reason
    return None


def mismatch(ours, expected):
    """None when ours matches ONNX's expected output, else why not."""
    if ours.shape != expected.shape:
        return f'shape {ours.shape}, expected {expected.shape}'
    nan = np.isnan(expected)
    if (np.isnan(ours) != nan).any():
        at = tuple(int(i) for i in np.argwhere(np.isnan(ours) != nan)[0])
        return f'NaN differs at {at}: ours {ours[at]!r}, expected {expected[at]!r}'
    ok = ~nan
    error = np.abs(ours[ok].astype(np.float64) - expected[ok])
    bound = ATOL + RTOL * np.abs(expected[ok].astype(np.float64))
    inf = np.isinf(expected[ok])
    bad = np.where(inf, ours[ok] != expected[ok], error > bound)
    if bad.any():
        k = int(np.argmax(bad))
        at = tuple(int(i) for i in np.argwhere(ok)[k])
        return (f'at {at} ours {ours[at]!r}, expected {expected[at]!r} '
                f'({int(bad.sum())} elements beyond rtol {RTOL}, atol {ATOL})')
    return None


def weights_for(model_path, model, keys, inputs, workdir):
    """The weights netc reads for this model (`keys`: its --print-keys), from
    the extra graph inputs and the initializers, as a safetensors file."""
    initializers = {t.name: t for t in model.graph.initializer}
    data_inputs = [i.name for i in model.graph.input if i.name not in initializers]
    by_name = dict(zip(data_inputs[1:], inputs[1:]))
    aliases = {n.output[0]: n.input[0] for n in model.graph.node if n.op_type == 'Identity'}
    state = {}
    for line in keys.splitlines():
        key = line.split()[0]
        name = key
        while name not in by_name and name not in initializers and name in aliases:
            name = aliases[name]
        if name in by_name:
            state[key] = np.ascontiguousarray(by_name[name], dtype=np.float32)
        elif name in initializers:
            state[key] = numpy_helper.to_array(initializers[name]).astype(np.float32)
        else:
            raise RuntimeError(f'{model_path}: weight {key} is neither an input nor an '
                               'initializer')
    path = os.path.join(workdir, 'w.safetensors')
    save_safetensors(path, state)
    return path


def run_case(netc, args, suite, case, workdir):
    """('passed' | 'failed' | 'not supported', detail)."""
    folder = os.path.join(args.data, suite, case)
    model_path = os.path.join(folder, 'model.onnx')
    sets = sorted(glob.glob(os.path.join(folder, 'test_data_set_*')))
    model = onnx.load(model_path, load_external_data=False)
    keys = subprocess.run([args.netc, model_path, '--print-keys'], capture_output=True, text=True)
    if keys.returncode != 0:
        reason = refusal(keys)
        if reason is not None:
            return 'not supported', reason
        return 'failed', f'netc --print-keys exited {keys.returncode}: {keys.stderr[-400:]}'
    try:
        inputs, outputs = read_tensors(sets[0], 'input'), read_tensors(sets[0], 'output')
    except Exception as e:  # sequences, optionals: netc should have refused
        return 'failed', f'netc converts it, but its data are not plain tensors ({e})'
    weights = weights_for(model_path, model, keys.stdout, inputs, workdir)
    if len(outputs) != 1 or not inputs or inputs[0].dtype != np.float32:
        return 'failed', 'netc converted a case with several outputs or a non-float input'
    x, expected = inputs[0], outputs[0]
    xp, yp = os.path.join(workdir, 'x.npy'), os.path.join(workdir, 'y.npy')
    np.save(xp, x)
    jit = subprocess.run([args.netc, 'run', model_path, '--weights', weights, '--input', xp,
                          '--output', yp], capture_output=True, text=True)
    if jit.returncode != 0:  # what netc compiles must run: refusing now is a bug
        return 'failed', f'netc run exited {jit.returncode}: {jit.stderr[-400:]}'
    ours = np.load(yp)
    why = mismatch(ours, expected)
    if why:
        return 'failed', f'netc run: {why}'
    try:
        runner = netc.compile(model_path, None, 'onnx_case')
        aot = netc.aot(runner, weights, x)
    except RuntimeError as e:
        return 'failed', f'library: {str(e)[-400:]}'
    why = mismatch(aot, expected) or netc_harness.bitwise('AOT vs JIT', aot, ours)
    if why:
        return 'failed', f'library: {why}'
    return 'passed', ''


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    netc_harness.add_arguments(parser)
    parser.add_argument('--data', default='/usr/share/libonnx-testdata/data')
    parser.add_argument('--expected', required=True)
    parser.add_argument('--table')
    parser.add_argument('--filter', default='')
    args = parser.parse_args()
    with open(args.expected) as f:
        expected = {line.strip() for line in f if line.strip() and not line.startswith('#')}
    outcomes = {}
    with tempfile.TemporaryDirectory() as workdir:
        netc = netc_harness.Netc(args, workdir)
        for suite in SUITES:
            for case in sorted(os.listdir(os.path.join(args.data, suite))):
                name = f'{suite}/{case}'
                if not re.search(args.filter, name) or \
                        not os.path.exists(os.path.join(args.data, suite, case, 'model.onnx')):
                    continue
                outcome, detail = run_case(netc, args, suite, case, workdir)
                outcomes[name] = (outcome, detail)
                print(f'{outcome:13} {name}' + (f': {detail}' if outcome == 'failed' else ''),
                      flush=True)
    counts = collections.defaultdict(collections.Counter)
    for name, (outcome, _) in outcomes.items():
        counts[name.split('/')[0]][outcome] += 1
    print('\nsuite               passed  failed  not supported')
    for suite in SUITES:
        c = counts[suite]
        print(f'{suite:18} {c["passed"]:7} {c["failed"]:7} {c["not supported"]:14}')
    if args.table:
        with open(args.table, 'w') as f:
            f.write('| suite | passed | failed | not supported |\n|---|---|---|---|\n')
            for suite in SUITES:
                c = counts[suite]
                f.write(f'| {suite} | {c["passed"]} | {c["failed"]} | {c["not supported"]} |\n')
            f.write('\n| case | outcome | netc says |\n|---|---|---|\n')
            for name, (outcome, detail) in outcomes.items():
                f.write(f'| {name} | {outcome} | {detail.replace("|", "/")} |\n')
    failures = [f'{name}: {detail}' for name, (outcome, detail) in outcomes.items()
                if outcome == 'failed']
    failures += [f'{name}: expected to pass, {outcomes[name][0]}: {outcomes[name][1]}'
                 for name in sorted(expected) if name in outcomes and
                 outcomes[name][0] != 'passed']
    failures += [f'{name}: expected to pass, not run (missing from {args.data})'
                 for name in sorted(expected) if name not in outcomes and
                 re.search(args.filter, name)]
    new = [name for name, (outcome, _) in outcomes.items()
           if outcome == 'passed' and name not in expected]
    if new:
        print(f'\n{len(new)} cases pass that {args.expected} does not list:\n  ' +
              '\n  '.join(new))
    return netc_harness.report(failures)


if __name__ == '__main__':
    netc_harness.run_main(main)
