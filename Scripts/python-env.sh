#!/usr/bin/env bash
# Makes the Python virtual environment the test checks run in, .build/venv, with the packages
# of Scripts/requirements-test.txt, and prints its python's path. pip runs only when the venv
# is new or the requirements (or the Python version) changed since it last succeeded, so a
# kept .build (a CI cache) makes this a no-op. Installs python3 and python3-venv (Debian)
# when there is no working `python3 -m venv`.
#
#   python=$(Scripts/python-env.sh)
#
# Exit status: 0 ready; 3 pip cannot reach its package index (the caller may skip, loudly);
# anything else is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/venv
requirements=Scripts/requirements-test.txt

venv_works() { python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' >/dev/null 2>&1; }
if ! command -v python3 >/dev/null 2>&1 || ! venv_works; then
    Scripts/install-deps.sh python3 python3-venv >&2
fi

# What the installed packages were made from: a change in either reinstalls them.
wanted="$(sha256sum "$requirements" | cut -d' ' -f1) $(python3 -c 'import sys; print(sys.version.split()[0])')"
stamp=$venv/.installed-requirements
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    echo "$PWD/$venv/bin/python"
    exit 0
fi

mkdir -p .build
rm -rf "$venv"
python3 -m venv "$venv" >&2
echo "python-env: installing $(grep -v '^#' "$requirements" | xargs) into $venv" >&2
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2; then
    index=${PIP_INDEX_URL:-https://pypi.org/simple}
    if ! "$venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=15)' "$index/pip/" >/dev/null 2>&1; then
        echo "python-env: pip cannot reach $index" >&2
        exit 3
    fi
    echo "python-env: pip install -r $requirements failed with $index reachable" >&2
    exit 1
fi
echo "$wanted" >"$stamp"
echo "$PWD/$venv/bin/python"
