#!/usr/bin/env python3
"""One library for every x86-64 CPU: a network's FP32, BF16 and INT8
libraries, each with the code variants netc builds by default (avx512 and
avx2; avx512-vnni too for INT8, and for BF16 by vdpbf16ps, --bf16-dot, as
here; avx512-amx for both, whose convs run on netc's AMX kernels), run
variant by variant through the library and `netc run` (NETC_ISA=VARIANT):

- each variant this CPU has runs when asked for (NAME_isa says so) and is
  held to PyTorch: FP32 to the zoo bound, BF16 to 1.5x PyTorch BF16's error
  + 1e-3 of the output's range, INT8 to 1.5x PyTorch INT8's (static PTQ on
  the onednn engine, calibrated on the same batch) + 1e-3; the library
  equals `netc run` bit for bit;
- INT8 variants equal each other bit for bit, AMX tiles included (integer
  sums; the float32 layers, epilogues and pools compute in the same order
  on every variant);
  FP32's and BF16's differ by the order of float sums (BF16's avx512-vnni,
  vdpbf16ps, sums pairs of products first), and the test prints by how much;
- a variant this CPU lacks is reported as not run ("SKIP", never a silent
  pass; its fallback, the next lower variant, ran), and asking for it fails
  with NETC_ERROR_UNSUPPORTED_CPU naming the missing instructions; an
  unknown NETC_ISA is refused by name;
- each variant's object code holds no instruction beyond its level
  (objdump): no EVEX in avx2, no dot products in avx512, and nowhere
  AVX512-FP16, AMX or VEX-encoded AVX-VNNI, which the dot products' level
  does not require (AMD's Zen 4 lacks them); INT8's avx512-vnni convs are
  vpdpbusd and its avx512 and avx2 ones vpmaddwd; BF16's avx512-vnni convs
  are vdpbf16ps; the avx512-amx variants call the runtime's AMX kernels
  (whose tile instructions the runtime holds, not the library).

ResNet-18 by default; `--model mobilenet_v2` runs MobileNetV2's BF16 and
INT8 libraries (depthwise convs computing their blocks' expansions),
`--model convnext_tiny` ConvNeXt-Tiny's (channel linears, in BF16 and INT8
by the conv templates), `--model densenet121` DenseNet-121's (BF16: the
BatchNorm + ReLU before each conv applied as the conv reads its input;
INT8: each dense block one u8 tensor its layers append to), their BF16 by
FMAs on widened operands (the default, under which expansions are staged;
the vdpbf16ps checks are ResNet-18's).

    check_isa.py HARNESS-FLAGS [--model resnet18|mobilenet_v2|convnext_tiny|densenet121]
"""
import argparse
import copy
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch

import netc_harness
from check_bf16 import check as check_bf16
from check_int8 import check as check_int8
from check_int8 import torch_int8
from check_zoo import test_model

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from safetensors_io import save_safetensors  # noqa: E402

# model: (entry, input shape, BF16 by vdpbf16ps, precisions, calibration).
# MobileNetV2's and ConvNeXt's FP32 variants are torch.ops' (inverted_net,
# convnext_net, on AVX2 too). ConvNeXt calibrates by least squared error,
# as PyTorch's HistogramObserver (its onednn qconfig) does: its LayerNorms'
# outliers stretch a min/max range (at this size our INT8's error was 1.6x
# PyTorch's by min/max, 0.83x by mse).
ALL = ['fp32', 'bf16', 'int8']
MODELS = {'resnet18': ('resnet18', [1, 3, 35, 45], True, ALL, 'minmax'),
          'mobilenet_v2': ('mobilenet_v2', [1, 3, 37, 45], False, ALL[1:], 'minmax'),
          'convnext_tiny': ('convnext_tiny', [1, 3, 35, 45], False, ALL[1:], 'mse'),
          'densenet121': ('densenet121', [1, 3, 35, 45], False, ALL[1:], 'minmax')}
LEVELS = ['avx2', 'avx512', 'avx512-vnni', 'avx512-amx']
# What each level adds, as /proc/cpuinfo names it (runtime/lib/Cpu.cpp).
NEEDS = {'avx2': ['avx2', 'fma', 'f16c', 'bmi1', 'bmi2', 'abm', 'movbe'],
         'avx512': ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'],
         'avx512-vnni': ['avx512ifma', 'avx512vbmi', 'avx512_vnni', 'avx512_bf16'],
         'avx512-amx': ['amx_tile', 'amx_int8', 'amx_bf16']}


def cpu_levels():
    """The levels this CPU has, by /proc/cpuinfo (independently of netc's CPUID)."""
    flags = set()
    for line in open('/proc/cpuinfo'):
        if line.startswith('flags'):
            flags = set(line.split(':', 1)[1].split())
            break
    levels = []
    for level in LEVELS:
        if not all(f in flags for f in NEEDS[level]):
            break
        levels.append(level)
    return levels, flags


def variants_of(header):
    """The variants a generated header lists, highest first."""
    found = re.search(r'Code variants: ([a-z0-9, -]+)\.', header)
    return [v.strip() for v in found.group(1).split(',')] if found else []


FP16 = re.compile(r'^(vmovw|vmovsh|vcvt\w*phx|vcvtph2psx|v(?!cvtps2ph$)\w+(ph|sh))$')


def check_instructions(library, variants, precision, bf16_dot):
    """Each variant's objects (their symbols name the variant: NAME_avx2_g3)
    use no instruction beyond its level. Returns problems."""
    text = subprocess.run(['objdump', '-d', '--no-show-raw-insn', library], capture_output=True,
                          text=True, check=True).stdout
    member, counts, problems = None, {}, []
    for line in text.splitlines():
        m = re.match(r'^(\S+)\.o:\s+file format', line)
        if m:
            member = m.group(1)
            continue
        parts = line.split('\t')
        if member is None or len(parts) < 2 or not re.match(r'^\s*[0-9a-f]+:$', parts[0]):
            continue
        found = re.search(r'_(avx2|avx512_vnni|avx512_amx|avx512)_g\d+$', member)
        if not found:
            continue
        level = found.group(1).replace('_', '-')
        instruction = parts[1].strip()
        vex = instruction.startswith('{vex}')
        mnemonic = instruction.split()[1 if vex else 0] if instruction.split() else ''
        operands = instruction[len(mnemonic) + (6 if vex else 0):]
        c = counts.setdefault(level, {})
        c[mnemonic] = c.get(mnemonic, 0) + 1
        bad = None
        if FP16.match(mnemonic):
            bad = 'AVX512-FP16'
        elif mnemonic.startswith('tile') or mnemonic.startswith('ldtilecfg'):
            bad = 'AMX'
        elif vex and mnemonic.startswith('vpdp'):
            bad = 'AVX-VNNI (VEX-encoded)'
        elif level not in ('avx512-vnni', 'avx512-amx') and mnemonic in (
                'vpdpbusd', 'vpdpbusds', 'vpdpwssd', 'vdpbf16ps', 'vcvtneps2bf16',
                'vcvtne2ps2bf16'):
            bad = 'AVX512-VNNI/BF16'
        elif level == 'avx2' and re.search(r'%zmm|%k[0-7]|%[xy]mm(1[6-9]|2[0-9]|3[01])\b|\{', operands):
            bad = 'AVX-512 (EVEX)'
        if bad:
            problems.append(f"{precision} {level}: {member}: '{instruction}' is {bad}, beyond "
                            f"the {level} level")
            if len(problems) > 5:
                break
    for level in variants:
        c = counts.get(level, {})
        print(f"  {precision} {level}: {sum(c.values())} instructions, vpdpbusd "
              f"{c.get('vpdpbusd', 0)}, vpmaddwd {c.get('vpmaddwd', 0)}, vdpbf16ps "
              f"{c.get('vdpbf16ps', 0)}, vcvtneps2bf16 {c.get('vcvtneps2bf16', 0)}")
        if not c:
            problems.append(f"{precision} {level}: no object code of this variant in {library}")
    # The AMX variants' convs are calls into the runtime's kernels.
    symbols = subprocess.run(['nm', library], capture_output=True, text=True, check=True).stdout
    kernel = {'int8': 'netc_amx_conv_u8s8', 'bf16': 'netc_amx_conv_bf16'}.get(precision)
    if kernel and 'avx512-amx' in variants:
        calling, member = set(), None
        for line in symbols.splitlines():
            if line.endswith('.o:'):
                member = line[:-3]
            elif member and '_avx512_amx_g' in member and line.split()[-2:] == ['U', kernel]:
                calling.add(member)
        calls = len(calling)
        print(f"  {precision} avx512-amx: {calls} pipelines call {kernel}")
        if calls == 0:
            problems.append(f"{precision} avx512-amx: no pipeline calls {kernel}")
    if precision == 'bf16' and bf16_dot and counts.get('avx512-vnni', {}).get('vdpbf16ps', 0) == 0:
        problems.append("bf16 avx512-vnni (--bf16-dot): its convs are not vdpbf16ps")
    if precision == 'int8':
        if counts.get('avx512-vnni', {}).get('vpdpbusd', 0) == 0:
            problems.append("int8 avx512-vnni: its convs are not vpdpbusd")
        for level in ('avx512', 'avx2'):
            if counts.get(level, {}).get('vpmaddwd', 0) == 0:
                problems.append(f"int8 {level}: its convs are not vpmaddwd")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    netc_harness.add_arguments(parser)
    parser.add_argument('--model', choices=sorted(MODELS), default='resnet18')
    args = parser.parse_args()
    MODEL = args.model
    ENTRY, SHAPE, bf16_dot, precisions, method = MODELS[MODEL]
    here, flags = cpu_levels()
    missing = [level for level in LEVELS if level not in here]
    print(f"this CPU runs {', '.join(here) or 'none of netc levels'}"
          + (f"; it lacks {', '.join(missing)}" if missing else ""))
    model = test_model(MODEL).eval()
    x = torch.rand(SHAPE, generator=torch.Generator().manual_seed(3))
    batch3 = torch.rand([3] + SHAPE[1:], generator=torch.Generator().manual_seed(4))
    calibration = torch.rand([8] + SHAPE[1:], generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        fp32 = [model(b).numpy() for b in (x, batch3)]
        half = copy.deepcopy(model).to(torch.bfloat16)
        bf16 = [half(b.to(torch.bfloat16)).float().numpy() for b in (x, batch3)]
        quantized = torch_int8(model, calibration)
        int8 = [quantized(b).numpy() for b in (x, batch3)]
    inputs = [x.numpy(), batch3.numpy()]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        netc = netc_harness.Netc(args, tmp)
        weights = os.path.join(tmp, 'w.safetensors')
        save_safetensors(weights, model.state_dict())
        calib, qparams = os.path.join(tmp, 'calib.npy'), os.path.join(tmp, 'q.json')
        np.save(calib, calibration.numpy())
        netc_harness.run([args.netc, 'calibrate', '--entry', ENTRY, '--weights', weights,
                          '--input', calib, '--method', method, '-o', qparams])
        builds = [('fp32', []),
                  ('bf16', ['--precision', 'bf16'] + (['--bf16-dot'] if bf16_dot else [])),
                  ('int8', ['--precision', 'int8', '--qparams', qparams])]
        for precision, options in [b for b in builds if b[0] in precisions]:
            name = f'{MODEL}_{precision}'
            runner = netc.compile(None, ENTRY, name, SHAPE, extra=options, isa=None)
            library = os.path.join(tmp, name, f'lib{name}.a')
            variants = variants_of(open(os.path.join(tmp, name, f'{name}.h')).read())
            print(f"{precision}: variants {', '.join(variants)}")
            expected = {'fp32': ['avx512', 'avx2'],
                        'bf16': ['avx512-amx'] + (['avx512-vnni'] if bf16_dot else []) +
                                ['avx512', 'avx2'],
                        'int8': ['avx512-amx', 'avx512-vnni', 'avx512', 'avx2']}[precision]
            if variants != expected:
                failures.append(f"{precision}: the header lists variants {variants}, expected "
                                f"{expected}")
            failures += check_instructions(library, variants, precision, bf16_dot)
            outputs = {}
            jit_options = options
            for variant in variants:
                env = {'NETC_ISA': variant}
                if variant not in here:
                    lacks = [f for f in NEEDS[variant] if f not in flags]
                    print(f"SKIP {precision} {variant}: not run, this CPU lacks "
                          f"{', '.join(lacks)}; the next lower variant, which runs here, was "
                          f"tested (and asking for this one is refused, below)")
                    continue
                jit = netc.jit_batches(None, ENTRY, weights, inputs, jit_options, env=env)
                for i, batch in enumerate(inputs):
                    label = f"{precision} {variant} batch {batch.shape[0]}"
                    aot = netc.aot(runner, weights, batch, env=env)
                    if netc.isa != variant:
                        failures.append(f"{label}: NETC_ISA={variant}, but the library ran "
                                        f"{netc.isa}")
                    for how, ours in (('AOT', aot), ('JIT', jit[i])):
                        if precision == 'fp32':
                            problem = netc_harness.compare(f'{label} {how} vs torch', ours, fp32[i])
                        elif precision == 'bf16':
                            problem = check_bf16(f'{label} {how}', ours, fp32[i], bf16[i])[0]
                        else:
                            problem = check_int8(f'{label} {how}', ours, fp32[i], fp32[i],
                                                 float(np.abs(int8[i] - fp32[i]).max()))[0]
                        if problem:
                            failures.append(problem)
                    problem = netc_harness.bitwise(f'{label} AOT vs JIT', aot, jit[i])
                    if problem:
                        failures.append(problem)
                    outputs.setdefault(variant, []).append(aot)
            ran = [v for v in variants if v in outputs]
            for a, b in zip(ran, ran[1:]):
                for i in range(len(inputs)):
                    diff = float(np.abs(outputs[a][i] - outputs[b][i]).max())
                    scale = float(np.abs(fp32[i]).max())
                    if precision == 'int8':
                        problem = netc_harness.bitwise(f'int8 {a} vs {b} batch {i}',
                                                       outputs[a][i], outputs[b][i])
                        if problem:
                            failures.append(problem)
                    else:
                        print(f"  {precision} {a} vs {b}, batch {inputs[i].shape[0]}: max "
                              f"difference {diff:.3g} ({diff / scale:.2g} of max|output|)")
        # Refusals: an unknown name, and a level the CPU lacks (where it lacks one).
        np.save(os.path.join(tmp, 'x.npy'), inputs[0])
        runner = os.path.join(tmp, f'{MODEL}_int8', 'run')
        for value, status in [('avx512_vnni', 'NETC_ERROR_INVALID_ARGUMENT')] + \
                [(m, 'NETC_ERROR_UNSUPPORTED_CPU') for m in missing]:
            result = subprocess.run([runner, weights, os.path.join(tmp, 'x.npy'),
                                     os.path.join(tmp, 'y.npy')], capture_output=True, text=True,
                                    env=netc_harness.merged_env(None, {'NETC_ISA': value}))
            print(f"  NETC_ISA={value}: {result.stderr.strip()}")
            if result.returncode == 0 or not result.stderr.startswith(status) or \
                    'NETC_ISA' not in result.stderr:
                failures.append(f"NETC_ISA={value}: expected {status} naming NETC_ISA, got "
                                f"status {result.returncode}: {result.stderr.strip()!r}")
        if not missing:
            print("  (this CPU has every level: the refusal of a level it lacks is covered by "
                  "the unit tests' CPUs, Isa.RefusesWhatTheCpuLacks)")
    return netc_harness.report(failures)


if __name__ == '__main__':
    netc_harness.run_main(main)
