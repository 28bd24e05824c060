"""Writing animations: BVH, GLB, .gltf and FBX of the same retargeted motion, 10 000 frames of the Mixamo rig (body,
and body with 15 finger bones per hand), time and file size, all measured in this run. BVH (our own writer, the
format every user already had) is the baseline each format's time is compared with.

The motion is a real walk (tests/data, CMU 131) played forward and back to 10 000 frames at 120 fps; the hands are
the tests' synthetic hands on the same walk. FBX is Blender's exporter in a child process (starting Blender is part
of its time). Run: python benchmarks/export.py [--frames 10000] [--repeat 2]
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WALK = ROOT / "tests" / "data" / "mocap" / "cmu_131" / "scaled_131_01.bvh"


def long_motion(frames: int, hands: bool):
    """``frames`` frames of the walk, forward then backward (no jump at the turns), with synthetic hands or not."""
    from mocap.core.motion import Motion3D
    from mocap.core.skeletons import COCO_17, get_skeleton
    from mocap.testing.hands import attach_hands
    from mocap.testing.scenes import as_coco, real_motion

    X = as_coco(real_motion(WALK, 990, 120.0))
    idx = np.arange(frames) % (2 * len(X) - 2)
    idx = np.where(idx < len(X), idx, 2 * len(X) - 2 - idx)
    X = X[idx]
    if hands:
        return Motion3D(attach_hands(X, COCO_17.joints, 120.0), get_skeleton("coco_17_hands"), 120.0, up="z")
    return Motion3D(X, get_skeleton("coco_17"), 120.0, up="z")


def timed(fn, repeat: int):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from mocap.io.outputs import fbx_available
    from mocap.retarget.export import write_animation
    from mocap.retarget.solve import retarget

    formats = ["bvh", "glb", "gltf"] + (["fbx"] if fbx_available() else [])
    print(f"{args.frames} frames at 120 fps, Mixamo rig; best of {args.repeat}")
    print(f"{'rig':<22}{'format':<8}{'time s':>8}{'x BVH':>8}{'size MB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for hands in (False, True):
            anim = retarget(long_motion(args.frames, hands), "mixamo")
            label = f"{anim.local.shape[1] - 5 - 10 * hands} joints" + (" (fingers)" if hands else "")
            base = None
            for f in formats:
                path = Path(tmp) / f"m.{f}"
                t = timed(lambda: write_animation(anim, path), args.repeat)
                base = base or t
                size = path.stat().st_size + (path.with_suffix(".bin").stat().st_size if f == "gltf" else 0)
                print(f"{label:<22}{f:<8}{t:>8.2f}{t / base:>8.2f}{size / 1e6:>9.1f}")


if __name__ == "__main__":
    main()
