"""Synthetic scenes from real motion, shared by the tests and the benchmarks.

- :func:`ring_rig`: C calibrated 1080p cameras on a ring around the origin (Z-up world), with lens
  distortion; :func:`look_at_camera` is one camera's pose.
- :func:`real_motion`: a CMU clip as ``(T, 17, 3)`` metres (Z-up) of :data:`SKELETON`, looped to length.
- :func:`scene`: that motion seen by a 4-camera ring with noise and outlier views, as keypoints.
"""
from __future__ import annotations

import numpy as np

from ..core.camera import Camera, CameraRig
from ..core.keypoints import Keypoints2D
from ..core.motion import resample
from ..core.rotations import look_at
from ..core.skeletons import Skeleton
from ..io.motion import load_motion
from ..retarget.solve import source_targets

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


def look_at_camera(center, target, up=(0, 0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """World->camera ``R (3, 3)``, ``t (3,)`` for a camera at ``center`` looking at ``target`` (OpenCV axes)."""
    center = np.asarray(center, float)
    R = look_at(center, np.asarray(target, float), np.asarray(up, float))
    return R, -R @ center


def ring_rig(n_cams, radius=4.0, height=1.6, f=1400.0, dist=(-0.25, 0.08, 0.001, -0.001, 0.0), seed=0) -> CameraRig:
    """``n_cams`` 1920x1080 cameras evenly round a ring (jittered), 1.3-2.4 m high, looking at (0, 0, 1)."""
    rng = np.random.default_rng(seed)
    cams = []
    for i in range(n_cams):
        a = 2 * np.pi * i / n_cams + rng.uniform(-0.2, 0.2)
        c = np.array([radius * np.cos(a), radius * np.sin(a), height + rng.uniform(-0.3, 0.8)])
        R, t = look_at_camera(c, [0, 0, 1.0])
        K = np.array([[f, 0, 960], [0, f, 540], [0, 0, 1.0]])
        cams.append(Camera(f"cam{i + 1}", K, np.array(dist), R, t, (1920, 1080)))
    return CameraRig(cams)


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
