"""Where a body is and which way it stands, from its joints: the body's up direction, standing a
monocular motion upright, a steady point to follow and the body's own size. Arrays ``(T, J, 3)`` metres."""
from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from ..errors import MocapError
from .motion import Motion3D
from .rotations import axis_angle
from .skeletons import Skeleton, midpoint


def body_up(positions: np.ndarray, skeleton: Skeleton) -> np.ndarray | None:
    """Median unit direction ``(3,)`` from the mid-ankles to the neck (mid-shoulders) over frames
    ``(T, J, 3)``, or None when those joints are missing."""
    def get(name):
        return positions[:, skeleton.index(name)] if name in skeleton.joints else None

    la, ra = get("left_ankle"), get("right_ankle")
    ls, rs = get("left_shoulder"), get("right_shoulder")
    if la is None or ra is None or ls is None or rs is None:
        return None
    v = midpoint(ls, rs) - midpoint(la, ra)
    v = v[np.isfinite(v).all(-1)]
    if not len(v):
        return None
    u = np.median(v / np.linalg.norm(v, axis=-1, keepdims=True), axis=0)
    return u / np.linalg.norm(u)


def upright(motion: "Motion3D", max_tilt_deg: float = 40.0) -> tuple["Motion3D", float]:
    """Turn a monocular motion so that the person's median body axis is vertical (undoing the
    camera's pitch and roll, which a single camera cannot tell from a lean); heading kept, rotation
    about the pelvis' mean position. Returns ``(motion, tilt removed in degrees)``; a median tilt
    beyond ``max_tilt_deg`` (someone lying, crawling, cartwheeling most of the clip) is left as is."""
    R, angle = upright_rotation(motion.positions, motion.skeleton, motion.up, max_tilt_deg)
    if R is None:
        return motion, 0.0
    c = np.nanmean(motion.positions.reshape(-1, 3), axis=0)
    return replace(motion, positions=(motion.positions - c) @ R.T + c), angle


def upright_rotation(positions: np.ndarray, skeleton: Skeleton, up: str = "y", max_tilt_deg: float = 40.0
                     ) -> tuple[np.ndarray | None, float]:
    """The rotation ``(3, 3)`` (smallest, heading kept) that turns the median body axis of ``positions
    (T, J, 3)`` to ``up`` ("y" or "z"), and its angle in degrees; ``(None, 0)`` when the axis is unknown, under
    0.5 degrees or beyond ``max_tilt_deg`` (see :func:`upright`)."""
    u = body_up(positions, skeleton)
    axis_up = np.array([0.0, 1.0, 0.0]) if up == "y" else np.array([0.0, 0.0, 1.0])
    if u is None:
        return None, 0.0
    angle = float(np.degrees(np.arccos(np.clip(u @ axis_up, -1, 1))))
    if angle < 0.5 or angle > max_tilt_deg:
        return None, 0.0
    axis = np.cross(u, axis_up)
    axis /= np.linalg.norm(axis)
    return axis_angle(axis, np.radians(angle)), angle


def root_track(positions: np.ndarray, fps: float, smooth_s: float = 0.25) -> np.ndarray:
    """``(T, J, 3)`` -> ``(T, 3)``: joint 0 (the root, e.g. the pelvis) over time, frames where it is
    missing taken from the middle of the other joints, gaps interpolated (ends held), then
    Gaussian-smoothed with sigma ``smooth_s`` seconds — a steady point for a camera to follow."""
    from scipy.ndimage import gaussian_filter1d

    P = np.asarray(positions, float)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames
        mid = (np.nanmin(P, axis=1) + np.nanmax(P, axis=1)) / 2
    root = np.where(np.isfinite(P[:, 0]).all(-1, keepdims=True), P[:, 0], mid)
    t = np.arange(len(P))
    ok = np.isfinite(root).all(-1)
    if not ok.any():
        raise MocapError("nothing to follow: every position is missing")
    track = np.stack([np.interp(t, t[ok], root[ok, k]) for k in range(3)], -1)
    if len(P) > 1 and smooth_s > 0:
        track = gaussian_filter1d(track, smooth_s * fps, axis=0, mode="nearest")
    return track


def body_extent(positions: np.ndarray, up_axis: int, percentile: float = 95.0) -> float:
    """The size (m) of the body itself, not of its path: per frame the largest side of the joints'
    box (measured from the floor, coordinate 0 on ``up_axis``, when the body is above it), its
    ``percentile`` over the frames; 0 when nothing is known."""
    P = np.asarray(positions, float)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanmin(P, axis=1), np.nanmax(P, axis=1)
    lo[:, up_axis] = np.minimum(lo[:, up_axis], 0.0)
    size = (hi - lo).max(-1)
    size = size[np.isfinite(size)]
    return float(np.percentile(size, percentile)) if len(size) else 0.0
