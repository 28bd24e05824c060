"""Refinement speed and accuracy: 10 000 frames x 17 joints x 4 cameras, refined in one piece.

Real motion (CMU 131, played forwards and backwards to reach the length) projected into 4 virtual
1080p cameras with sigma = 3 px noise and 10 % outlier views; robust per-frame triangulation, then
`mocap.refine.refine`. Prints seconds, MPJPE before/after, bone-length CV, jitter; with aniposelib
installed, its CameraGroup.optim_points on the same input in the same run (time and MPJPE ratios).
Run: python benchmarks/refine.py [--frames N]
"""
import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ring_rig  # noqa: E402

from mocap.convert import load_motion, resample  # noqa: E402
from mocap.keypoints import Keypoints2D  # noqa: E402
from mocap.metrics import bone_length_cv, jitter  # noqa: E402
from mocap.refine import refine  # noqa: E402
from mocap.retarget import source_targets  # noqa: E402
from mocap.skeletons import Skeleton  # noqa: E402
from mocap.triangulation import triangulate  # noqa: E402

ROLES = ["head", "neck", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
         "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_toe", "right_toe",
         "head_end"]
BONES = [("neck", "head"), ("head", "head_end"), ("neck", "left_shoulder"), ("neck", "right_shoulder"),
         ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
         ("right_elbow", "right_wrist"), ("left_hip", "right_hip"), ("left_hip", "left_knee"),
         ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
         ("left_ankle", "left_toe"), ("right_ankle", "right_toe"), ("left_shoulder", "left_hip"),
         ("right_shoulder", "right_hip")]
SKELETON = Skeleton("bench17", tuple(ROLES), tuple(ROLES), tuple(BONES))


def real_motion(path, frames, fps=60.0):
    """``(T, 17, 3)`` metres, Z-up, from a CMU clip (looped forwards/backwards)."""
    t = source_targets(resample(load_motion(path), fps))
    X = np.stack([t[r] for r in ROLES], 1) @ np.array([[0, 0, 1.0], [1, 0, 0], [0, 1, 0]]).T
    X = X - np.nanmean(X, axis=(0, 1)) * [1, 1, 0]
    loop = np.concatenate([X, X[::-1]])
    return np.concatenate([loop] * (frames // len(loop) + 1))[:frames]


def scene(X, noise=3.0, outliers=0.10, seed=0):
    rng = np.random.default_rng(seed)
    rig = ring_rig(4)
    uv = rig.project(X) + rng.normal(0, noise, (4,) + X.shape[:2] + (2,))
    conf = rng.uniform(0.5, 1, uv.shape[:-1])
    out = rng.random(conf.shape) < outliers
    uv[out] += rng.uniform(50, 300, (int(out.sum()), 2)) * rng.choice([-1, 1], (int(out.sum()), 2))
    return rig, Keypoints2D(np.concatenate([uv, conf[..., None]], -1), SKELETON, 60.0)


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
