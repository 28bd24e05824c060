#!/usr/bin/env bash
# The package installed the way a user with the modern stack installs it: a fresh virtualenv that already holds
# numpy 2 (and torch's CPU build), then `pip install <this checkout>[video,lift,view,live]` from the ranges in
# pyproject.toml. Checks that numpy stays >= 2, `pip check` is clean, `mocap demo` passes, and that its outputs
# match the locked environment's (`make demo` first: demo_out/) within tools/compare_demo.py's tolerance.
#   usage: bash tools/numpy2_check.sh [VENV_DIR]        (default /tmp/mocap-numpy2)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-/tmp/mocap-numpy2}
test -d demo_out || make demo
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "numpy>=2" "torch==2.13.0"   # torch: the CPU build (PyPI's default brings CUDA)
"$VENV/bin/pip" install -q ".[video,lift,view,live]"
"$VENV/bin/python" -c "import numpy; v = numpy.__version__; print('numpy', v); assert int(v.split('.')[0]) >= 2"
"$VENV/bin/pip" check
OUT=$(mktemp -d)
"$VENV/bin/mocap" demo -o "$OUT" -q
"$VENV/bin/python" tools/compare_demo.py demo_out "$OUT"
