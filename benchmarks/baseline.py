"""Run a benchmark's measurement on an earlier revision of the package, in this run, for a before/after ratio.

``measure_at(rev, script, args)`` checks ``rev`` out into a temporary git worktree and runs ``script`` there with
``--json`` and ``args`` (the script of *this* revision, so both sides measure the same thing; the package imported
is the worktree's, through ``PYTHONPATH``); returns the JSON the script printed last. The worktree is removed after.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure_at(rev: str, script: Path, args: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), rev], check=True)
        try:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run([sys.executable, str(script), "--json", *args], cwd=tree, env=env, check=True,
                                 capture_output=True, text=True).stdout
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    return json.loads(out.strip().splitlines()[-1])
