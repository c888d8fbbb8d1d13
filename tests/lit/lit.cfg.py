# lit configuration for netc. Substitutions:
#   %netc         the netc driver
#   %netc-opt     runs nn passes on textual IR
#   %python       Debian's python3
#   %expect-exit  expect_exit.py: runs a command, requires its exact exit
#                 status and, on failure, an empty stdout
import os

import lit.formats

config.name = "netc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".nn", ".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.netc_binary_dir, "tests", "lit")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in", "expect_exit.py", "CMakeLists.txt"]

with open(config.netc_path_file) as f:
    netc = f.read().strip()
with open(config.netc_opt_path_file) as f:
    netc_opt = f.read().strip()
# Longest first: %netc-opt must not be read as %netc followed by "-opt".
config.substitutions.append(("%netc-opt", netc_opt))
config.substitutions.append(("%netc", netc))
config.substitutions.append(("%python", config.python))
config.substitutions.append(
    ("%expect-exit", config.python + " " + os.path.join(config.test_source_root, "expect_exit.py")))
config.environment["PATH"] = os.pathsep.join([config.llvm_tools_dir, config.environment["PATH"]])
