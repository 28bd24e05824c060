#!/usr/bin/env bash
# The built wheel, installed alone in a fresh virtualenv (no checkout on the path), runs `mocap demo` and gives the
# locked environment's outputs (demo_out/, `make demo` first) within tools/compare_demo.py's tolerance: the package
# data (demo clip and keypoints, BlazePose models, lifter weights, Blender add-on) is complete.
#   usage: bash tools/wheel_check.sh [VENV_DIR]        (default /tmp/mocap-wheel)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-/tmp/mocap-wheel}
test -d demo_out || make demo
DIST=$(mktemp -d)
python3 -m pip wheel -q --no-deps -w "$DIST" .
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "torch==2.13.0"                 # the CPU build (PyPI's default brings CUDA)
"$VENV/bin/pip" install -q "$(ls "$DIST"/mocap_pipeline-*.whl)[video,lift,view]"
"$VENV/bin/pip" check
OUT=$(mktemp -d)
(cd "$OUT" && "$VENV/bin/mocap" demo -o "$OUT/demo" -q)
"$VENV/bin/python" tools/compare_demo.py demo_out "$OUT/demo"
