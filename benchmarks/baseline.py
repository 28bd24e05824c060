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


def add_arguments(ap, rev: str) -> None:
    """``--baseline REV`` (default ``rev``; ``none`` to skip) and ``--json`` (print the measurement only)."""
    ap.add_argument("--baseline", default=rev, help="git revision to measure in the same run, or 'none'")
    ap.add_argument("--json", action="store_true", help="print the measurement as JSON only")


def before_and_after(args, script: Path, measure, key: str, forwarded: list[str]):
    """``measure() -> (dict, data)`` here, with ``args.baseline`` measured by ``script`` just before and just after
    (the machine drifts: the faster of the two by ``key`` is kept). Returns ``(m, data, baseline dict or None)``;
    with ``args.json`` prints ``m`` and returns None."""
    runs = []
    again = lambda: measure_at(args.baseline, script, [*forwarded, "--baseline", "none"])  # noqa: E731
    if args.baseline != "none" and not args.json:
        runs.append(again())
    m, data = measure()
    if args.json:
        print(json.dumps(m))
        return None
    if runs:
        runs.append(again())
    return m, data, (min(runs, key=lambda r: r[key]) if runs else None)


def frames_cli(rev: str, script: Path, measure, key: str, frames: int = 10000):
    """The command line of a benchmark that measures ``measure(frames) -> (dict, data)``: ``--frames``, ``--baseline``,
    ``--json``; returns ``(args, (m, data, baseline) or None)`` (see :func:`before_and_after`)."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=frames)
    add_arguments(ap, rev)
    a = ap.parse_args()
    return a, before_and_after(a, script, lambda: measure(a.frames), key, ["--frames", str(a.frames)])
