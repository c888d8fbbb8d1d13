#!/usr/bin/env python3
"""Installs netc (cmake --install) to a temporary prefix, moves it elsewhere
(the installation must be relocatable), checks that nothing in it points into
the build or source tree, and builds examples/user_project against it; then
does the same with the Debian package from cpack -G DEB, unpacked with
dpkg -x. The user project's output is compared with PyTorch each time."""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_user_project  # noqa: E402


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                           f"{result.stdout}{result.stderr}")
    return result.stdout


def check_prefix(prefix, forbidden, label):
    """The installed netc finds its zoo and headers inside `prefix`, and no
    text file there names a path in `forbidden`; returns the directory of
    netcConfig.cmake."""
    configs = glob.glob(os.path.join(prefix, '**', 'netcConfig.cmake'), recursive=True)
    if len(configs) != 1:
        raise RuntimeError(f"{label}: expected one netcConfig.cmake under {prefix}, "
                           f"found {configs}")
    for path in ('bin/netc', 'bin/netc-opt', 'include/netc/runtime.h',
                 'include/netc/runtime.hpp', 'include/netc/program.h',
                 'share/netc/models/resnet.nn'):
        if not os.path.isfile(os.path.join(prefix, path)):
            raise RuntimeError(f"{label}: {path} is not installed")
    if not glob.glob(os.path.join(prefix, 'lib*', '**', 'libnetc_runtime.a'), recursive=True):
        raise RuntimeError(f"{label}: libnetc_runtime.a is not installed")
    for root, _, files in os.walk(prefix):
        for name in files:
            path = os.path.join(root, name)
            if name.endswith(('.cmake', '.h', '.hpp', '.nn')):
                text = open(path, encoding='utf-8').read()
                for tree in forbidden:
                    if tree in text:
                        raise RuntimeError(f"{label}: {path} refers to {tree}")
    version = run([os.path.join(prefix, 'bin', 'netc'), '--version'])
    for line in (f"model zoo: {os.path.join(prefix, 'share', 'netc', 'models')}",
                 f"runtime headers: {os.path.join(prefix, 'include')}"):
        if line not in version:
            raise RuntimeError(f"{label}: netc --version does not say '{line}':\n{version}")
    return os.path.dirname(configs[0]), version.splitlines()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--build', required=True, help="netc's build directory")
    parser.add_argument('--source', required=True, help="netc's source directory")
    args = parser.parse_args()
    build, source = os.path.realpath(args.build), os.path.realpath(args.source)
    project = os.path.join(source, 'examples', 'user_project')
    with tempfile.TemporaryDirectory(prefix='netc-install-') as tmp:
        # 1. cmake --install, then moved: relocatable.
        first = os.path.join(tmp, 'first')
        run(['cmake', '--install', build, '--prefix', first])
        prefix = os.path.join(tmp, 'moved')
        shutil.move(first, prefix)
        config_dir, version = check_prefix(prefix, [build, source, first], 'cmake --install')
        if check_user_project.check(project, os.path.join(tmp, 'user-install'), config_dir):
            return 1
        print(f"cmake --install: {version}; user project built and matches PyTorch")

        # 2. The Debian package, unpacked.
        packages = os.path.join(tmp, 'packages')
        run(['cpack', '-G', 'DEB', '--config', os.path.join(build, 'CPackConfig.cmake'),
             '-B', packages])
        debs = glob.glob(os.path.join(packages, '*.deb'))
        if len(debs) != 1:
            raise RuntimeError(f"cpack made {debs}, expected one .deb")
        fields = run(['dpkg-deb', '--field', debs[0], 'Package', 'Version', 'Depends'])
        if 'Package: netc' not in fields or 'libhalide14-0' not in fields:
            raise RuntimeError(f"unexpected package fields:\n{fields}")
        unpacked = os.path.join(tmp, 'deb')
        run(['dpkg', '-x', debs[0], unpacked])
        usr = os.path.join(unpacked, 'usr')
        config_dir, version = check_prefix(usr, [build, source], 'cpack DEB')
        if check_user_project.check(project, os.path.join(tmp, 'user-deb'), config_dir):
            return 1
        print(f"cpack -G DEB: {os.path.basename(debs[0])} ({version}); "
              f"user project built and matches PyTorch")
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
