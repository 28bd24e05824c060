"""Triangulation speed: us per point for 10 000 frames x 17 joints x 4 cameras, plain and robust.

Plain = one confidence-weighted DLT on all views (the anipose-style baseline, our code, one thread);
robust = outlier-view rejection (pair hypotheses, refits, temporal recheck; threads over chunks and
cameras, as `triangulate` runs). Both include undistortion. When
aniposelib is installed, its CameraGroup.triangulate runs on the same input in the same process
and the ratio is printed. The same measurement runs on ``--baseline REV`` (default: the release before the
skeleton and time checks) in a git worktree, in this run, and the robust time ratio is printed (target <= 1.3).
Run: python benchmarks/triangulation.py [--frames N] [--baseline REV | --baseline none]
"""
import sys
import time
from pathlib import Path

import numpy as np

from mocap.testing.scenes import ring_rig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import frames_cli  # noqa: E402

from mocap.core.keypoints import Keypoints2D  # noqa: E402
from mocap.triangulate import triangulate
from mocap.triangulate.dlt import solve_normal, summed_normal, view_coefficients


def make(frames, joints=17, cams=4, seed=0):
    rng = np.random.default_rng(seed)
    rig = ring_rig(cams)
    # smooth trajectories (people move continuously): a random pose drifting at ~1 m/s at 60 fps
    pose = rng.normal(0, 0.4, (1, joints, 3))
    t = np.arange(frames)[:, None, None] / 60.0
    X = pose + 0.5 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 6, (1, joints, 3))) + [0, 0, 1.0]
    uv = rig.project(X) + rng.normal(0, 2.0, (cams, frames, joints, 2))
    out = rng.random((cams, frames, joints)) < 0.10
    uv[out] += rng.uniform(50, 300, (int(out.sum()), 2))
    conf = rng.uniform(0.5, 1, (cams, frames, joints))
    return rig, Keypoints2D(np.concatenate([uv, conf[..., None]], -1), "coco", fps=60), X


def best_of(fn, n=5):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = fn()
        times.append(time.perf_counter() - t)
    return min(times), r


def plain(kp, rig):
    C = kp.n_cameras
    xy = rig.undistort(kp.xy.reshape(C, -1, 2))
    w = kp.confidence.reshape(C, -1)
    out = []
    for s in range(0, xy.shape[1], 32768):
        out.append(solve_normal(summed_normal(*view_coefficients(rig.extrinsics, xy[:, s:s + 32768], w[:, s:s + 32768]))))
    return np.concatenate(out)


BASELINE = "edb82a3"  # the release before the skeleton and time checks (issue 32)


def measure(frames):
    rig, kp, X = make(frames)
    tp, Xp = best_of(lambda: plain(kp, rig))
    tr, res = best_of(lambda: triangulate(kp, rig))
    e = np.linalg.norm(res.motion.positions - X, axis=-1) * 1000
    return {"points": kp.n_frames * len(kp.skeleton), "plain_s": tp, "robust_s": tr,
            "plain_mm": float(np.nanmean(np.linalg.norm(Xp.reshape(X.shape) - X, axis=-1)) * 1000),
            "robust_mm": float(np.nanmean(e)), "robust_p999_mm": float(np.nanpercentile(e, 99.9)),
            "valid": float(np.isfinite(e).mean())}, (rig, kp, X)


def main():
    a, out = frames_cli(BASELINE, Path(__file__).resolve(), measure, "robust_s")
    if out is None:
        return
    m, (rig, kp, X), b = out
    n, tp, tr = m["points"], m["plain_s"], m["robust_s"]
    print(f"{a.frames} frames x 17 joints x 4 cameras = {n} points, 10 % outlier views")
    print(f"plain DLT : {1e6 * tp / n:6.2f} us/point   MPJPE {m['plain_mm']:7.1f} mm")
    print(f"robust    : {1e6 * tr / n:6.2f} us/point   MPJPE {m['robust_mm']:7.1f} mm   p99.9 {m['robust_p999_mm']:.1f} mm   "
          f"{100 * m['valid']:.2f} % of points   (robust/plain time ratio {tr / tp:.2f})")
    if b:
        print(f"robust at {a.baseline} (same run): {1e6 * b['robust_s'] / n:6.2f} us/point   MPJPE {b['robust_mm']:7.1f} mm   "
              f"p99.9 {b['robust_p999_mm']:.1f} mm   {100 * b['valid']:.2f} % of points")
        print(f"robust now / at {a.baseline}: time x{tr / b['robust_s']:.2f} (target <= 1.3)")
    try:
        from aniposelib.cameras import Camera as ACam, CameraGroup
    except ImportError:
        print("aniposelib not installed: no peer ratio (pip install aniposelib to measure it)")
        return
    group = CameraGroup([ACam(name=c.name, size=c.size, matrix=c.K, dist=c.dist, rvec=c.rvec, tvec=c.t) for c in rig])
    pts = kp.xy.reshape(kp.n_cameras, -1, 2)
    ta, Xa = best_of(lambda: group.triangulate(pts, progress=False), n=1)
    ea = np.nanmean(np.linalg.norm(Xa.reshape(X.shape) - X, axis=-1)) * 1000
    print(f"aniposelib: {1e6 * ta / n:6.2f} us/point   MPJPE {ea:7.1f} mm   (ours robust is {ta / tr:.1f}x faster)")


if __name__ == "__main__":
    main()
