#!/usr/bin/env python3
"""What netc says about weights that do not fit, through the generated
library's load and through `netc run`, one case per piece of advice, each
with the message it must give and, where it suggests a command, that
command run as printed:

 - a checkpoint with an auxiliary head (Inception's AuxLogits) given to the
   net built without it: the extra keys are named as a part of the network
   this entry lacks, with no advice to strip 'AuxLogits.' as a prefix
   (which would not make it fit); `netc run` names the entry it fits even
   at a size that head does not take, and both commands it prints run;
 - keys with DataParallel's 'module.' prefix: stripping it is advised, and
   following the advice loads them;
 - prefixed keys that stripping does not make fit: no advice to strip it,
   but how many problems stripping leaves, which `netc run --strip-prefix`
   then names;
 - the weights of a net of the spec declared at another input size:
   `netc run` names it (elaborated at its own size), and the check it
   prints passes.

    check_weight_advice.py HARNESS-FLAGS
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np
import torch

import netc_harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'advice.nn')
NOAUX = 'tiny(aux=false)'
SIZE = [1, 3, 9, 9]  # the aux head's 5x5 pool does not fit the stem's 7x7 output


def weights_of(netc, entry):
    """Random tensors under the keys and shapes `netc --print-keys` lists."""
    keys = subprocess.run([netc, SPEC, '--entry', entry, '--print-keys'], check=True,
                          capture_output=True, text=True).stdout.splitlines()
    tensors = {}
    for line in keys:
        key, dtype, shape = line.split()
        dims = [int(d) for d in shape.strip('[]').split(',') if d]
        tensors[key] = (torch.zeros(dims, dtype=torch.int64) if dtype == 'int64'
                        else torch.rand(dims) + 0.5)
    return tensors


class Checks:
    def __init__(self, netc):
        self.failures = []
        self.netc = netc

    def message(self, label, command, status, needles=(), absent=()):
        """Runs `command`; its exit status must be `status`, its stderr (or,
        when it succeeds, stdout) hold every needle and no `absent` one.
        Returns that text."""
        before = len(self.failures)
        result = subprocess.run(command, capture_output=True, text=True)
        text = result.stderr if result.returncode else result.stdout
        if result.returncode != status:
            self.failures.append(f"{label}: exit status {result.returncode}, expected {status}: "
                                 f"{shlex.join(command)}\n{result.stdout}{result.stderr}")
            return text
        for needle in needles:
            if needle not in text:
                self.failures.append(f"{label}: '{needle}' is not in the message:\n{text}")
        for needle in absent:
            if needle in text:
                self.failures.append(f"{label}: '{needle}' should not be in the message:\n{text}")
        if len(self.failures) == before:
            first = (text.strip().splitlines() or ['no output'])[0]
            print(f"{label}: as expected ({first[:110]}...)")
        return text

    def suggested(self, label, text, before, after):
        """The command the message prints between `before` and `after`."""
        start = text.find(before)
        end = text.find(after, start + len(before)) if start >= 0 else -1
        if start < 0 or end < 0:
            self.failures.append(f"{label}: no command after '{before}' in:\n{text}")
            return None
        command = shlex.split(text[start + len(before):end])
        if command[:1] != ['netc']:
            self.failures.append(f"{label}: the suggested command is not netc's: {command}")
            return None
        return [self.netc] + command[1:]  # the netc under test


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    netc_harness.add_arguments(parser)
    args = parser.parse_args()
    checks = Checks(args.netc)
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        runner = netc.compile(SPEC, NOAUX, 'tiny_noaux', input_shape=SIZE)
        x = os.path.join(tmp, 'x.npy')
        np.save(x, np.random.default_rng(0).random(SIZE, dtype=np.float32))
        y = os.path.join(tmp, 'y.npy')

        def files(name, tensors):
            path = os.path.join(tmp, f'{name}.safetensors')
            save_safetensors(path, tensors)
            return path

        def jit(weights, *extra):
            return [args.netc, 'run', SPEC, '--entry', NOAUX, '--weights', weights, '--input', x,
                    '--output', y] + list(extra)

        full = weights_of(args.netc, 'tiny')
        plain = {k: v for k, v in full.items() if not k.startswith('AuxLogits.')}

        # An auxiliary head the entry lacks.
        aux = files('aux', full)
        scope = ("the unexpected ones lie under 'AuxLogits.' (14), a part of the network this "
                 "entry does not have")
        checks.message('aux head, library', [runner, aux, x, y], 1,
                       ['NETC_ERROR_UNEXPECTED_TENSOR', scope], ['prefix', 'strip'])
        text = checks.message('aux head, netc run', jit(aux), 1,
                              [scope, f"these weights fit --entry 'tiny' (tiny(classes=10, "
                                      f"aux=true)) of {SPEC}"], ['prefix', 'strip'])
        full_list = checks.suggested('aux head, netc run', text, 'more (', ' lists them all)')
        if full_list:
            listed = checks.message('aux head, the full list it suggests', full_list, 1,
                                    [scope])
            count = listed.count("unexpected tensor 'AuxLogits.")
            if count != 14:
                checks.failures.append(f"the full list names {count} of the 14 keys:\n{listed}")
        check = checks.suggested('aux head, netc run', text, '(check: ', ')\n')
        if check:
            checks.message('aux head, the check it suggests', check, 0, ["fits 'tiny'"])

        # DataParallel's prefix: stripping it makes the file fit.
        wrapped = files('wrapped', {'module.' + k: v for k, v in plain.items()})
        advice = ("all 14 of the file's keys carry the prefix 'module.' (as DataParallel saves "
                  "them); strip it")
        checks.message('module. prefix, library', [runner, wrapped, x, y], 1, [advice])
        checks.message('module. prefix, netc run', jit(wrapped), 1,
                       [advice, 'netc run --strip-prefix module.'])
        checks.message('module. prefix, advice followed', jit(wrapped, '--strip-prefix',
                                                              'module.'), 0)

        # A prefix whose stripping would not make the file fit.
        misfit = dict(plain)
        misfit['fc.weight'] = torch.rand(10, 31)
        misfit = files('misfit', {'module.' + k: v for k, v in misfit.items()})
        enough = ("all 14 of the file's keys carry the prefix 'module.' (as DataParallel "
                  "saves them), but with it stripped 1 problem remains (netc run --strip-prefix "
                  "module. shows them)")
        checks.message('prefix that is not enough, library', [runner, misfit, x, y], 1,
                       [enough], ['strip it'])
        checks.message('prefix that is not enough, netc run', jit(misfit), 1, [enough],
                       ['strip it'])
        checks.message('prefix that is not enough, stripped', jit(misfit, '--strip-prefix',
                                                                  'module.'), 1,
                       ["tensor 'fc.weight' has shape [10,31], expected [10,32]"])

        # The weights of a net declared at another size.
        other = files('fixed', weights_of(args.netc, 'fixed'))
        text = checks.message('another size, netc run', jit(other), 1,
                              [f"these weights fit --entry 'fixed' (fixed()) of {SPEC}"])
        check = checks.suggested('another size, netc run', text, '(check: ', ')\n')
        if check:
            checks.message('another size, the check it suggests', check, 0, ["fits 'fixed'"])
    for f in checks.failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if checks.failures else 0


if __name__ == '__main__':
    sys.exit(main())
