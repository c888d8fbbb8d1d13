#!/usr/bin/env python3
"""Reads `netc --emit=halide-stmt` on stdin and checks that every update
stage (a reduction's loop, `for (NAME.sK. ...` with K >= 1) of a pipeline
that runs per inference lies inside a parallel loop's body (an `external func
..._par_for_...` closure). Pipelines run once at load (packs) are exempt.
Prints one line per pipeline; exits 1 naming each serial reduction."""
import re
import sys

header = re.compile(r'^// (\S+): (.*)$')
update = re.compile(r'for \((\S+?)\.s([1-9][0-9]*)\.')
failures, pipelines = [], 0
name, description, depth = None, '', 0  # depth: braces open inside a closure
for line in sys.stdin:
    match = header.match(line)
    if match:
        name, description, depth = match.group(1), match.group(2), 0
        pipelines += 1
        continue
    if depth == 0 and line.startswith('external func') and '_par_for_' in line:
        depth = line.count('{') - line.count('}')
        continue
    loop = update.search(line)
    if loop and name and not description.startswith('pack for') and depth == 0:
        failures.append(f'{name} ({description}): {loop.group(1)} update stage '
                        f'{loop.group(2)} runs outside any parallel loop')
    if depth > 0:
        depth += line.count('{') - line.count('}')
for f in sorted(set(failures)):
    print('SERIAL:', f)
print(f'{pipelines} pipelines, {len(set(failures))} serial reductions')
sys.exit(1 if failures else 0)
