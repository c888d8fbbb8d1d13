"""Splits a lit test file into the files its '// ---- NAME' lines start:
    split.py TEST OUTDIR"""
import os
import sys

test, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
current = None
for line in open(test):
    if line.startswith('// ---- '):
        current = open(os.path.join(out, line[len('// ---- '):].strip()), 'w')
    elif current:
        current.write(line)
