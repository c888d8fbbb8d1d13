#!/usr/bin/env python3
"""expect_exit.py STATUS COMMAND...: runs COMMAND, copies its stderr and then
its stdout to stdout, and succeeds only if it exited with STATUS. A command
expected to fail must also print nothing on stdout (no partial results)."""
import subprocess
import sys

expected = int(sys.argv[1])
run = subprocess.run(sys.argv[2:], capture_output=True, text=True)
sys.stdout.write(run.stderr)
sys.stdout.write(run.stdout)
if run.returncode != expected:
    sys.stdout.write(f"expect_exit: expected exit status {expected}, got {run.returncode}\n")
    sys.exit(1)
if expected != 0 and run.stdout:
    sys.stdout.write("expect_exit: the failing command wrote to stdout\n")
    sys.exit(1)
