"""Refinement speed and accuracy: 10 000 frames x 17 joints x 4 cameras, refined in one piece.

Real motion (CMU 131, played forwards and backwards to reach the length) projected into 4 virtual
1080p cameras with sigma = 3 px noise and 10 % outlier views; robust per-frame triangulation, then
`mocap.refine.refine`. Prints seconds, MPJPE before/after, bone-length CV, jitter; with aniposelib
installed, its CameraGroup.optim_points on the same input in the same run (time and MPJPE ratios).
Run: python benchmarks/refine.py [--frames N]
"""
import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from mocap.smooth.metrics import bone_length_cv, jitter
from mocap.smooth.refine import refine
from mocap.testing.scenes import SKELETON, real_motion, scene
from mocap.triangulate import triangulate

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=10000)
    a = ap.parse_args()
    X = real_motion(ROOT / "tests/data/mocap/cmu_131/scaled_131_01.bvh", a.frames)
    rig, kp = scene(X)
    t0 = time.perf_counter()
    tri = triangulate(kp, rig)
    t_tri = time.perf_counter() - t0
    xy = rig.undistort(kp.xy)
    w = np.where(tri.inliers, kp.confidence, 0.0)
    t0 = time.perf_counter()
    r = refine(tri.motion.positions, SKELETON.rigid_bone_indices, 60.0, views=(xy, w, rig.extrinsics, rig.focals))
    t_ref = time.perf_counter() - t0
    mp = lambda A: np.nanmean(np.linalg.norm(A - X, axis=-1)) * 1000  # noqa: E731
    print(f"{a.frames} frames x 17 joints x 4 cameras")
    print(f"triangulation {t_tri:.2f} s; refinement {t_ref:.2f} s ({r.iterations} Gauss-Newton steps)")
    print(f"MPJPE {mp(tri.motion.positions):.2f} -> {mp(r.positions):.2f} mm; "
          f"bone CV {100 * np.nanmax(bone_length_cv(tri.motion.positions, SKELETON.rigid_bone_indices)):.2f} -> "
          f"{100 * bone_length_cv(r.positions, SKELETON.rigid_bone_indices).max():.3f} %; "
          f"jitter {jitter(tri.motion.positions, 60):.1f} -> {jitter(r.positions, 60):.1f} m/s^2 (truth {jitter(X, 60):.1f})")
    warnings.filterwarnings("ignore")  # numba's object-mode fallbacks inside aniposelib
    try:
        from aniposelib.cameras import Camera as ACam, CameraGroup
    except ImportError:
        print("aniposelib not installed: no peer ratio (pip install aniposelib to measure it)")
        return
    group = CameraGroup([ACam(name=c.name, size=c.size, matrix=c.K, dist=c.dist, rvec=c.rvec, tvec=c.t) for c in rig])
    pts = np.where(kp.confidence[..., None] > 0, kp.xy, np.nan)
    t0 = time.perf_counter()
    Xa = group.optim_points(pts, np.nan_to_num(tri.motion.positions), constraints=SKELETON.rigid_bone_indices.tolist(),
                         verbose=False)
    t_a = time.perf_counter() - t0
    print(f"aniposelib optim_points: {t_a:.2f} s, MPJPE {mp(Xa):.2f} mm; ours is {t_a / t_ref:.1f}x faster")


if __name__ == "__main__":
    main()
