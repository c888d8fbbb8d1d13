#!/usr/bin/env python3
"""Compile time and library size of every zoo network (generated/zoo.txt),
as `netc ... -o DIR` takes them on this machine: median of --runs runs.

    /usr/bin/python3 bench/zoo_compile.py --netc build/compiler/tools/netc/netc [--runs 3]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--netc', required=True)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('models', nargs='*', help='targets of zoo.txt (default: all)')
    args = parser.parse_args()
    with open(os.path.join(ROOT, 'generated', 'zoo.txt')) as f:
        zoo = [line.split() for line in f if line.strip() and not line.startswith('#')]
    print(f"{'network':<20} {'input':<12} {'compile s':>10} {'library KB':>11} {'pipelines':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for target, spec, entry, shape in zoo:
            if args.models and target not in args.models:
                continue
            times = []
            out = os.path.join(tmp, target)
            for _ in range(args.runs):
                start = time.perf_counter()
                subprocess.run([args.netc, os.path.join(ROOT, 'dsl', 'models', spec), '--entry',
                                entry, '--name', target, '--input-shape', shape, '-o', out],
                               check=True)
                times.append(time.perf_counter() - start)
            library = os.path.join(out, f'lib{target}.a')
            members = subprocess.run(['ar', 't', library], capture_output=True, text=True,
                                     check=True).stdout.split()
            print(f"{target:<20} {shape:<12} {statistics.median(times):>10.2f} "
                  f"{os.path.getsize(library) / 1024:>11.0f} {len(members) - 1:>10}", flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
