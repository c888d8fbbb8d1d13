"""Compiles specs with netc, links their libraries into the plain-C runner
(aot_run.c), and runs networks through the generated library (AOT) and
`netc run` (JIT); compares outputs with PyTorch's, NaN and Inf included.

The command-line flags every such test takes are added by add_arguments().
"""
import os
import re
import subprocess
import sys

import numpy as np


def add_arguments(parser):
    parser.add_argument('--netc', required=True)
    parser.add_argument('--runtime-lib', required=True, help='libnetc_runtime.a')
    parser.add_argument('--halide-runtime', required=True, help='libnetc_halide_runtime.a')
    parser.add_argument('--include', required=True, help="the runtime's include directory")
    parser.add_argument('--runner', required=True, help='aot_run.c')
    parser.add_argument('--cc', default='cc')
    parser.add_argument('--ldflags', default='',
                        help='extra link flags (a sanitized runtime needs -fsanitize=...)')


def run(command, env=None):
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                           f"{result.stdout}{result.stderr}")
    return result


def opencl_env():
    """The environment for programs that run on OpenCL. pocl (with LLVM 15
    inside) leaks at exit by design, and LeakSanitizer's tracer crashes on
    its threads: in a sanitized build, leak checks are off for these runs
    only (AddressSanitizer's other checks stay on)."""
    env = dict(os.environ)
    env['ASAN_OPTIONS'] = (env.get('ASAN_OPTIONS', '') + ':detect_leaks=0').lstrip(':')
    return env


def merged_env(base, extra):
    """`base` (None: this process's environment) with `extra` set."""
    if not extra:
        return base
    env = dict(base if base is not None else os.environ)
    env.update(extra)
    return env


class Netc:
    def __init__(self, args, workdir, env=None):
        self.args = args
        self.workdir = workdir
        self.env = env  # for the runners (opencl_env() on OpenCL)

    def compile(self, spec, entry, name, input_shape=None, target=None, extra=(), isa='host'):
        """netc SPEC --entry ENTRY -o DIR, then the C runner; returns the runner.
        `extra` adds options (e.g. --precision bf16). Unless a target or
        --isa is given, the library has the one code variant this CPU runs
        (--isa host), the one `netc run` runs here; isa=None leaves the
        variants to netc (check_isa.py tests them)."""
        out = os.path.join(self.workdir, name)
        command = ([self.args.netc] + (['--entry', entry] if entry else [])  # None: ONNX
                   + ['--name', name, '-o', out] + list(extra))
        if spec:
            command.insert(1, spec)
        if input_shape:
            command += ['--input-shape', ','.join(str(d) for d in input_shape)]
        if target:
            command += ['--target', target]
        elif isa and '--isa' not in extra:
            command += ['--isa', isa]
        run(command)
        runner = os.path.join(out, 'run')
        # The README's link line for a C program: the model, the runtime (which
        # needs libstdc++), the shared Halide runtime, pthreads, dl and libm.
        run([self.args.cc, '-std=c11', '-O1', '-Wall', '-Wextra', '-Werror',
             f'-DNETC_MODEL={name}', f'-DNETC_MODEL_UPPER={name.upper()}',
             '-I', out, '-I', self.args.include, self.args.runner, '-o', runner,
             os.path.join(out, f'lib{name}.a'), self.args.runtime_lib,
             self.args.halide_runtime, '-lstdc++', '-lpthread', '-ldl', '-lm']
            + self.args.ldflags.split())
        return runner

    def aot(self, runner, weights, x, threads=None, env=None):
        """The library on x; `env` adds environment variables (NETC_ISA).
        self.isa is then the code variant it ran."""
        xp, yp = (os.path.join(self.workdir, f) for f in ('aot_x.npy', 'aot_y.npy'))
        np.save(xp, np.ascontiguousarray(x, dtype=np.float32))
        result = run([runner, weights, xp, yp] + ([str(threads)] if threads else []),
                     env=merged_env(self.env, env))
        found = re.search(r'^isa=(\S+)$', result.stdout, re.M)
        self.isa = found.group(1) if found else None
        return np.load(yp)

    def jit(self, spec, entry, weights, x, extra=(), env=None):
        """`netc run` on x; `extra` adds options (e.g. --fuse=false)."""
        return self.jit_batches(spec, entry, weights, [x], extra, env)[0]

    def jit_batches(self, spec, entry, weights, batches, extra=(), env=None):
        """One `netc run` (one compilation) over several batches. An ONNX
        model has no entry (None), and without weights (None) runs on its
        initializers."""
        command = ([self.args.netc, 'run'] + (['--entry', entry] if entry else [])
                   + (['--weights', weights] if weights else []) + list(extra))
        if spec:
            command.insert(2, spec)
        outputs = []
        for i, x in enumerate(batches):
            xp, yp = (os.path.join(self.workdir, f'jit_{i}_{f}.npy') for f in ('x', 'y'))
            np.save(xp, np.ascontiguousarray(x, dtype=np.float32))
            command += ['--input', xp, '--output', yp]
            outputs.append(yp)
        run(command, env=merged_env(None, env))
        return [np.load(yp) for yp in outputs]


def compare(name, ours, reference, rtol=1e-4, atol=1e-5):
    """None when |ours - torch| <= rtol * max|torch| + atol at every finite
    reference value and NaN / +-Inf sit exactly where PyTorch has them;
    otherwise a message naming the first offending index."""
    if ours.shape != reference.shape:
        return f"{name}: shape {ours.shape}, torch {reference.shape}"
    special = ~np.isfinite(reference)
    mismatch = (np.isnan(ours) != np.isnan(reference)) | \
        (np.isinf(reference) & (ours != reference)) | (np.isinf(ours) & ~special)
    if mismatch.any():
        at = tuple(int(i) for i in np.argwhere(mismatch)[0])
        return (f"{name}: at index {at} ours is {ours[at]!r}, torch {reference[at]!r} "
                f"({int(mismatch.sum())} such elements)")
    finite = ~special
    if not finite.any():
        print(f"  {name}: every value NaN/Inf, placed as in torch")
        return None
    error = np.where(finite, np.abs(ours - np.where(finite, reference, 0)), 0)
    bound = rtol * np.abs(reference[finite]).max() + atol
    worst = np.unravel_index(np.argmax(error), error.shape)
    if error[worst] > bound:
        return (f"{name}: |ours - torch| = {error[worst]:.3g} at index "
                f"{tuple(int(i) for i in worst)} (ours {ours[worst]:.7g}, torch "
                f"{reference[worst]:.7g}) exceeds {bound:.3g}")
    rel = error.max() / max(np.abs(reference[finite]).max(), 1e-30)
    print(f"  {name}: max error {error.max():.3g} (relative {rel:.2g}) <= {bound:.3g}"
          + (f", {int(special.sum())} NaN/Inf as in torch" if special.any() else ""))
    return None


def bitwise(name, a, b):
    """None when AOT and JIT agree bit for bit (NaN payloads aside)."""
    if a.shape == b.shape and np.array_equal(a, b, equal_nan=True):
        print(f"  {name}: identical")
        return None
    if a.shape != b.shape:
        return f"{name}: shapes {a.shape} and {b.shape}"
    differ = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    at = tuple(int(i) for i in np.argwhere(differ)[0])
    return f"{name}: {int(differ.sum())} elements differ, first at {at}: {a[at]!r} vs {b[at]!r}"


def with_specials(x):
    """A copy of the batch x with NaN, +-Inf and huge values planted in each
    item, at offsets that differ from item to item."""
    specials = x.copy()
    flat = specials.reshape(x.shape[0], -1)
    n = flat.shape[1]
    for b in range(x.shape[0]):
        for offset, value in ((1, np.nan), (n // 3, np.inf), (n // 2, -np.inf), (2 * n // 3, -3e9),
                              (n - 2, 5e9), (n // 5, -1e30), (n // 7, 1e30)):
            flat[b, (offset + 7 * b) % n] = value
    return specials


def library_and_jit(netc, runner, spec, entry, weights, x, reference, atol=1e-5,
                    jit=True, variants=()):
    """The checks a test of the back end makes on one input: the library
    (`runner`) against PyTorch; with `jit`, `netc run` against PyTorch and
    equal to the library bit for bit, then `netc run` with each variant's
    extra options against PyTorch. `variants`: (label, options) pairs.
    Returns the failed checks' messages."""
    aot = netc.aot(runner, weights, x)
    checks = [compare('AOT vs torch', aot, reference, atol=atol)]
    if jit:
        ours = netc.jit(spec, entry, weights, x)
        checks += [compare('JIT vs torch', ours, reference, atol=atol),
                   bitwise('AOT vs JIT', aot, ours)]
        for label, options in variants:
            other = netc.jit(spec, entry, weights, x, extra=options)
            checks.append(compare(f'{label} vs torch', other, reference, atol=atol))
    return [error for error in checks if error]


def report(failures):
    """Prints each failure to stderr; the exit status for them."""
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


def run_main(main):
    """Exits with main()'s status; a failed command (RuntimeError from run())
    is a failure, printed, not a traceback."""
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
