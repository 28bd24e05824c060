"""Compare two `mocap demo` output folders (e.g. the locked environment's and one beside numpy 2): the largest
difference of every joint position (TRC, mm) and of every BVH channel (cm, degrees), and whether it is within
the tolerance. Exit code 1 when a file differs by more.

    python tools/compare_demo.py demo_out /tmp/np2/demo_out [--mm 0.5] [--deg 0.5]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from mocap.io.bvh import read_bvh
from mocap.io.motion import load_motion


def trc_mm(a: Path, b: Path) -> float:
    pa, pb = load_motion(a).positions, load_motion(b).positions
    if pa.shape != pb.shape:
        return float("inf")
    both = np.isfinite(pa) & np.isfinite(pb)
    if (np.isfinite(pa) != np.isfinite(pb)).any():
        return float("inf")
    return float(np.abs(pa - pb)[both].max() * 1000) if both.any() else 0.0


def bvh_diff(a: Path, b: Path) -> tuple[float, float]:
    """Largest difference of the position channels (file units) and of the rotation channels (degrees)."""
    ba, bb = read_bvh(a), read_bvh(b)
    if ba.values.shape != bb.values.shape or ba.channels != bb.channels:
        return float("inf"), float("inf")
    rot = np.array(["rotation" in c for cs in ba.channels for c in cs])
    d = np.abs(ba.values - bb.values)
    return float(d[:, ~rot].max(initial=0.0)), float(d[:, rot].max(initial=0.0))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("reference")
    p.add_argument("other")
    p.add_argument("--mm", type=float, default=0.5, help="largest position difference allowed, mm (TRC) / BVH units x 10")
    p.add_argument("--deg", type=float, default=0.5, help="largest rotation difference allowed, degrees")
    args = p.parse_args(argv)
    ref, other = Path(args.reference), Path(args.other)
    ok = True
    for name in ("demo.trc",):
        d = trc_mm(ref / name, other / name)
        ok &= d <= args.mm
        print(f"{name}: largest joint difference {d:.4f} mm")
    for name in ("demo.bvh", "out.bvh"):
        pos, rot = bvh_diff(ref / name, other / name)
        ok &= pos * 10 <= args.mm and rot <= args.deg  # BVH positions in cm
        print(f"{name}: largest position difference {pos * 10:.4f} mm, rotation {rot:.4f} deg")
    print("within tolerance" if ok else "DIFFERENT beyond tolerance")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
