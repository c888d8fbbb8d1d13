#!/usr/bin/env python3
"""netc against PyTorch and ONNX Runtime on the same machine, in one run.

For each network and batch: the same random weights (seeded; BatchNorm and
LayerNorm statistics and ConvNeXt's layer scales randomized as the tests do,
so that no block is a near-identity and no output vanishes: with
torchvision's initial values MobileNetV2's logits are ~1e-9, which INT8
rounds to nothing) and input size for all three; measurements interleaved round by round (netc, PyTorch, ONNX
Runtime, then again), each at least --seconds long and reporting its median
run; the line shows the median over --rounds rounds:

  NETWORK batch=B netc_ms=X torch_ms=Y ort_ms=Z vs_torch=X/Y vs_ort=X/Z gflops=G peak_fraction=F

gflops is netc's (2 x MACs of its conv and linear layers, from `netc
--summary`, per second); peak_fraction divides it by the FMA peak that
netc-fma-peak measures here. With --precision fp32,bf16 each network and
batch also gets a BF16 line, measured in the same interleaved rounds:
netc's BF16 library against PyTorch's BF16 (the model .to(torch.bfloat16),
channels_last; ONNX Runtime has no BF16 CPU kernels), its ratio to netc's
FP32, and each one's error relative to max|PyTorch FP32| at batch 1
(netc's through `netc run`, whose output the tests hold equal to the
library's):

  NETWORK batch=B precision=bf16 netc_ms=X torch_ms=Y vs_torch=X/Y vs_netc_fp32=R netc_error=E torch_error=F

With int8 in --precision, an INT8 line too: netc calibrated on a batch of
--calibration random images (netc calibrate, minmax), the library built with
--precision int8 and linked into a netc-bench of its own; PyTorch's FX static
PTQ of the model (onednn engine, default qconfig) calibrated on the same batch;
and ONNX Runtime on a QDQ model of the same export (bench/ort_int8.py: the same
min/max rule on the same batch, s8 per-channel weights; ORT fuses it into
QLinearConv), with each one's error at batch 1 relative to max|PyTorch FP32|:

  NETWORK batch=B precision=int8 netc_ms=X torch_ms=Y ort_ms=Z vs_torch=X/Y vs_ort=X/Z vs_netc_fp32=R netc_error=E torch_error=F ort_error=G

With --onnx, netc's library compiled from the ONNX file ONNX Runtime runs
(torch.onnx at opset 13, BatchNorm folded by the exporter) is timed in the
same rounds against the spec's (both with netc's default code variants):

  NETWORK batch=B netc_onnx_ms=X netc_ms=Y vs_spec=X/Y

--profile NETWORK prints netc's per-step times (at the first of --batches)
and GFLOP/s instead, biggest first. tools/bench.sh builds what this needs.

    /usr/bin/python3 bench/zoo_bench.py --build build --ort-dir bench/ort [--networks resnet50,...]
"""
import argparse
import copy
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
import torchvision.models as tvm

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
sys.path.insert(0, os.path.join(ROOT, 'tools'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'e2e'))
sys.path.insert(0, os.path.join(ROOT, 'bench'))
import torch_models  # noqa: E402
from check_zoo import randomize_batch_norm  # noqa: E402
from safetensors_io import save_safetensors  # noqa: E402

# name -> (PyTorch constructor, netc entry, sample shape without the batch)
NETWORKS = {
    'lenet5': (torch_models.LeNet5, 'lenet5', [1, 28, 28]),
    'alexnet': (tvm.alexnet, 'alexnet', [3, 224, 224]),
    'vgg16': (tvm.vgg16, 'vgg16', [3, 224, 224]),
    'googlenet': (lambda: tvm.googlenet(aux_logits=False, init_weights=True),
                  'googlenet(aux=false)', [3, 224, 224]),
    'resnet18': (tvm.resnet18, 'resnet18', [3, 224, 224]),
    'resnet50': (tvm.resnet50, 'resnet50', [3, 224, 224]),
    'mobilenet_v2': (tvm.mobilenet_v2, 'mobilenet_v2', [3, 224, 224]),
    'mobilenet_v3_large': (tvm.mobilenet_v3_large, 'mobilenet_v3_large', [3, 224, 224]),
    'efficientnet_b0': (tvm.efficientnet_b0, 'efficientnet_b0', [3, 224, 224]),
    'squeezenet1_1': (tvm.squeezenet1_1, 'squeezenet1_1', [3, 224, 224]),
    'shufflenet_v2_x1_0': (tvm.shufflenet_v2_x1_0, 'shufflenet_v2_x1_0', [3, 224, 224]),
    'densenet121': (tvm.densenet121, 'densenet121', [3, 224, 224]),
    'inception_v3': (lambda: tvm.inception_v3(aux_logits=False, init_weights=True),
                     'inception_v3(aux=false)', [3, 299, 299]),
    'regnet_y_400mf': (tvm.regnet_y_400mf, 'regnet_y_400mf', [3, 224, 224]),
    'convnext_tiny': (tvm.convnext_tiny, 'convnext_tiny', [3, 224, 224]),
}


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def median_ms(text):
    return float(re.search(r'median_ms=([0-9.]+)', text).group(1))


def torch_ms(model, x, seconds):
    with torch.no_grad():
        model(x)
        times, start = [], time.perf_counter()
        while time.perf_counter() - start < seconds or len(times) < 3:
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def macs(netc, entry, sample):
    """Total MACs per item, and MACs by module path (conv and linear layers)."""
    text = run([netc, '--entry', entry, '--summary', '--input-shape',
                ','.join(str(d) for d in [1] + sample)])
    total = int(re.search(r'MACs per batch item: ([0-9,]+)', text).group(1).replace(',', ''))
    by_layer = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and re.fullmatch(r'[0-9,]+', fields[-1]) and '[' in fields[2]:
            by_layer[fields[0]] = int(fields[-1].replace(',', ''))
    return total, by_layer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--build', default=os.path.join(ROOT, 'build'))
    parser.add_argument('--ort-dir', default=os.path.join(ROOT, 'bench', 'ort'),
                        help='where npm installed onnxruntime-node')
    parser.add_argument('--networks', default=','.join(NETWORKS))
    parser.add_argument('--batches', default='1,16')
    parser.add_argument('--seconds', type=float, default=3.0)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--profile', metavar='NETWORK', choices=sorted(NETWORKS))
    parser.add_argument('--onnx', action='store_true',
                        help="also time netc's library compiled from the ONNX export")
    parser.add_argument('--precision', default='fp32',
                        help='fp32, and bf16 and int8 lines too: fp32,bf16,int8')
    parser.add_argument('--calibration', type=int, default=8,
                        help='images in the INT8 calibration batch')
    args = parser.parse_args()
    precisions = args.precision.split(',')
    if precisions[0] != 'fp32' or not set(precisions) <= {'fp32', 'bf16', 'int8'}:
        parser.error(f"--precision {args.precision}: give fp32, then any of bf16, int8")
    bf16 = 'bf16' in precisions
    int8 = 'int8' in precisions
    netc = os.path.join(args.build, 'compiler', 'tools', 'netc', 'netc')
    bench = os.path.join(args.build, 'bench', 'netc-bench')
    torch.set_num_threads(args.threads)
    warnings.simplefilter('ignore')
    names = [args.profile] if args.profile else args.networks.split(',')
    for name in names:
        if name not in NETWORKS:
            parser.error(f"unknown network '{name}' (choose from {', '.join(NETWORKS)})")
    peak = float(re.search(r'gflops=([0-9.]+)', run(
        [os.path.join(args.build, 'bench', 'netc-fma-peak'), str(args.threads)])).group(1))
    print(f"# {time.strftime('%Y-%m-%d')}, {cpu_description()}, {os.cpu_count()} cores, "
          f"{args.threads} threads, measured FMA peak {peak:.0f} GFLOP/s; torch "
          f"{torch.__version__}; medians of {args.rounds} rounds of >= {args.seconds:g} s",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            constructor, entry, sample = NETWORKS[name]
            torch.manual_seed(0)
            model = constructor().eval()
            randomize_batch_norm(model)
            weights = os.path.join(tmp, f'{name}.safetensors')
            save_safetensors(weights, model.state_dict())
            total_macs, layer_macs = macs(netc, entry, sample)
            flops = 2 * total_macs
            if args.profile:
                batch = int(args.batches.split(',')[0])
                out = run([bench, name, weights, str(batch), str(args.seconds),
                           str(args.threads), '--profile'])
                steps = [dict(re.findall(r'(\w+)=(\S+)', line)) for line in out.splitlines()]
                total = sum(float(s['ms']) for s in steps)
                medians = sum(float(s['median_ms']) for s in steps)
                print(f"# {name}: per step, batch {batch} (best of rounds, then the median); "
                      f"sum {total:.2f} ms (of medians {medians:.2f})")
                for s in sorted(steps, key=lambda s: -float(s['ms'])):
                    ms = float(s['ms'])
                    rate = 2 * batch * layer_macs.get(s['name'], 0) / ms / 1e6
                    print(f"{s['name']:<28} pipeline={s['pipeline']:<4} ms={ms:9.3f} "
                          f"median={float(s['median_ms']):7.3f} "
                          f"share={ms / total:6.1%} gflops={rate:7.1f} "
                          f"peak_fraction={rate / peak:.3f}")
                continue
            onnx = os.path.join(tmp, f'{name}.onnx')
            torch.onnx.export(model, torch.rand([1] + sample), onnx, opset_version=13,
                              input_names=['x'], output_names=['y'],
                              dynamic_axes={'x': {0: 'n'}, 'y': {0: 'n'}})
            if args.onnx:
                onnx_weights = os.path.join(tmp, f'{name}_onnx.safetensors')
                run([netc, onnx, '--export-weights', onnx_weights])
                onnx_bench = netc_bench_for(args.build, netc, entry, sample, 'onnx',
                                            os.path.join(tmp, f'{name}_onnx'), [], onnx=onnx)
            if bf16:
                half = copy.deepcopy(model).to(torch.bfloat16).to(
                    memory_format=torch.channels_last)
                errors = bf16_errors(netc, entry, weights, model, half, sample, tmp)
            if int8:
                q = build_int8(args, netc, name, entry, model, weights, onnx, sample, tmp)
            for batch in (int(b) for b in args.batches.split(',')):
                x = torch.rand([batch] + sample, generator=torch.Generator().manual_seed(1))
                results = {k: [] for k in ('netc', 'torch', 'ort', 'netc_bf16', 'torch_bf16',
                                           'netc_int8', 'torch_int8', 'ort_int8', 'netc_onnx')}
                for _ in range(args.rounds):
                    if args.onnx:
                        results['netc_onnx'].append(median_ms(run(
                            [onnx_bench, 'onnx', onnx_weights, str(batch), str(args.seconds),
                             str(args.threads)])))
                    if int8:
                        results['netc_int8'].append(median_ms(run(
                            [q['bench'], 'int8', weights, str(batch), str(args.seconds),
                             str(args.threads)])))
                        results['torch_int8'].append(torch_ms(q['torch'], x, args.seconds))
                        results['ort_int8'].append(ort_ms(args, q['onnx'], batch, sample))
                    if bf16:
                        results['netc_bf16'].append(median_ms(run(
                            [bench, name + '_bf16', weights, str(batch), str(args.seconds),
                             str(args.threads)])))
                        results['torch_bf16'].append(torch_ms(
                            half, x.to(torch.bfloat16).to(memory_format=torch.channels_last),
                            args.seconds))
                    results['netc'].append(median_ms(run(
                        [bench, name, weights, str(batch), str(args.seconds), str(args.threads)])))
                    results['torch'].append(torch_ms(model, x, args.seconds))
                    results['ort'].append(ort_ms(args, onnx, batch, sample))
                n, t, o = (statistics.median(results[k]) for k in ('netc', 'torch', 'ort'))
                gflops = flops * batch / (n / 1e3) / 1e9
                print(f"{name} batch={batch} netc_ms={n:.3f} torch_ms={t:.3f} ort_ms={o:.3f} "
                      f"vs_torch={n / t:.2f} vs_ort={n / o:.2f} gflops={gflops:.1f} "
                      f"peak_fraction={gflops / peak:.3f}", flush=True)
                if args.onnx:
                    no = statistics.median(results['netc_onnx'])
                    print(f"{name} batch={batch} netc_onnx_ms={no:.3f} netc_ms={n:.3f} "
                          f"vs_spec={no / n:.2f}", flush=True)
                if bf16:
                    nb, tb = (statistics.median(results[k]) for k in ('netc_bf16', 'torch_bf16'))
                    print(f"{name} batch={batch} precision=bf16 netc_ms={nb:.3f} "
                          f"torch_ms={tb:.3f} vs_torch={nb / tb:.2f} vs_netc_fp32={nb / n:.2f} "
                          f"netc_error={errors[0]:.2e} torch_error={errors[1]:.2e}", flush=True)
                if int8:
                    ni, ti, oi = (statistics.median(results[k])
                                  for k in ('netc_int8', 'torch_int8', 'ort_int8'))
                    e = q['errors']
                    print(f"{name} batch={batch} precision=int8 netc_ms={ni:.3f} "
                          f"torch_ms={ti:.3f} ort_ms={oi:.3f} vs_torch={ni / ti:.2f} "
                          f"vs_ort={ni / oi:.2f} vs_netc_fp32={ni / n:.2f} "
                          f"netc_error={e['netc']:.2e} torch_error={e['torch']:.2e} "
                          f"ort_error={e['ort']:.2e}", flush=True)
    return 0


def cpu_description():
    """lscpu's model name and the instruction sets that matter here."""
    name, flags = '?', set()
    for line in open('/proc/cpuinfo'):
        if line.startswith('model name') and name == '?':
            name = line.split(':', 1)[1].strip()
        elif line.startswith('flags') and not flags:
            flags = set(line.split(':', 1)[1].split())
    wanted = ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16', 'amx_int8']
    return f"{name} ({' '.join(f for f in wanted if f in flags)})"


def ort_ms(args, onnx, batch, sample):
    return median_ms(run(
        ['node', os.path.join(ROOT, 'bench', 'ort_bench.js'), onnx, str(batch),
         ','.join(map(str, sample)), str(args.seconds), str(args.threads)],
        env=dict(os.environ, NODE_PATH=os.path.join(os.path.abspath(args.ort_dir),
                                                    'node_modules'))))


def netc_bench_for(build, netc, entry, sample, model, out, options, onnx=None):
    """A library of one network (`netc --entry ENTRY OPTIONS`, or `netc ONNX
    OPTIONS`, built in `out`) and a netc-bench of its own that runs it as
    MODEL; returns the bench."""
    shape = ','.join(str(d) for d in [1] + sample)
    source = [onnx] if onnx else ['--entry', entry, '--input-shape', shape]
    run([netc] + source + ['--name', 'bench_net', '-o', out] + list(options))
    with open(os.path.join(out, 'bench_models.h'), 'w') as h:
        h.write('#include "bench_net.h"\n'
                'static const struct { const char *name; const struct netc_program *(*program)(void); }\n'
                f'    kModels[] = {{{{"{model}", bench_net_program}}}};\n')
    bench = os.path.join(out, 'netc-bench')
    run(['c++', '-std=c++17', '-O2', '-I', out, '-I', os.path.join(ROOT, 'runtime', 'include'),
         os.path.join(ROOT, 'bench', 'netc_bench.cpp'), '-o', bench,
         os.path.join(out, 'libbench_net.a'), os.path.join(build, 'runtime', 'libnetc_runtime.a'),
         os.path.join(build, 'netc', 'libnetc_halide_runtime.a'), '-lpthread', '-ldl'])
    return bench


def build_int8(args, netc, name, entry, model, weights, onnx, sample, tmp):
    """netc's INT8 library (calibrated, built, linked into a netc-bench of its
    own), PyTorch's FX PTQ model and ONNX Runtime's QDQ model, all calibrated
    on the same batch, and each one's error at batch 1 against PyTorch FP32."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    import ort_int8
    calibration = torch.rand([args.calibration] + sample,
                             generator=torch.Generator().manual_seed(11))
    calib, qparams = os.path.join(tmp, f'{name}_calib.npy'), os.path.join(tmp, f'{name}_q.json')
    np.save(calib, calibration.numpy())
    run([netc, 'calibrate', '--entry', entry, '--weights', weights, '--input', calib, '-o',
         qparams])
    bench = netc_bench_for(args.build, netc, entry, sample, 'int8',
                           os.path.join(tmp, f'{name}_int8'),
                           ['--precision', 'int8', '--qparams', qparams])
    torch.backends.quantized.engine = 'onednn'
    prepared = prepare_fx(copy.deepcopy(model), get_default_qconfig_mapping('onednn'),
                          example_inputs=(calibration[:1],))
    with torch.no_grad():
        prepared(calibration)
    quantized = convert_fx(prepared)
    qdq = ort_int8.qdq_model(onnx, calibration.numpy(), os.path.join(tmp, f'{name}_qdq.onnx'),
                             ort_int8.node_eval(args.ort_dir, os.path.join(ROOT, 'bench',
                                                                           'ort_eval.js')))
    # Errors at batch 1, against PyTorch FP32.
    x = torch.rand([1] + sample, generator=torch.Generator().manual_seed(2))
    xp, yp = os.path.join(tmp, 'int8_x.npy'), os.path.join(tmp, 'int8_y.npy')
    np.save(xp, x.numpy())
    run([netc, 'run', '--entry', entry, '--weights', weights, '--input', xp, '--output', yp,
         '--precision', 'int8', '--qparams', qparams])
    raw, summary = os.path.join(tmp, 'int8_x.f32'), os.path.join(tmp, 'int8_ort.json')
    x.numpy().tofile(raw)
    ort_int8.node_eval(args.ort_dir, os.path.join(ROOT, 'bench', 'ort_eval.js'))(
        qdq, raw, [1] + sample, summary)
    import json
    with torch.no_grad():
        reference = model(x).numpy()
        theirs = quantized(x).numpy()
    ort = np.array(json.load(open(summary))['first'], dtype=np.float32).reshape(reference.shape)
    scale = float(np.abs(reference).max())
    errors = {k: float(np.abs(v - reference).max()) / scale
              for k, v in (('netc', np.load(yp)), ('torch', theirs), ('ort', ort))}
    return {'bench': bench, 'torch': quantized, 'onnx': qdq, 'errors': errors}


def bf16_errors(netc, entry, weights, model, half, sample, tmp):
    """max|netc_bf16 - torch_fp32| and max|torch_bf16 - torch_fp32|, each over
    max|torch_fp32|, at batch 1."""
    import numpy as np
    x = torch.rand([1] + sample, generator=torch.Generator().manual_seed(2))
    xp, yp = os.path.join(tmp, 'acc_x.npy'), os.path.join(tmp, 'acc_y.npy')
    np.save(xp, x.numpy())
    run([netc, 'run', '--entry', entry, '--weights', weights, '--input', xp, '--output', yp,
         '--precision', 'bf16'])
    with torch.no_grad():
        reference = model(x).numpy()
        theirs = half(x.to(torch.bfloat16).to(memory_format=torch.channels_last)).float().numpy()
    scale = float(np.abs(reference).max())
    return (float(np.abs(np.load(yp) - reference).max()) / scale,
            float(np.abs(theirs - reference).max()) / scale)


if __name__ == '__main__':
    sys.exit(main())
