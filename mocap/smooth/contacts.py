"""Foot contacts and the floor, from 3D feet: small pure functions over batched arrays.

- :func:`floor_plane`: a plane through points by RANSAC, then least squares on its inliers;
- :func:`estimate_floor`: the floor under a motion, from its feet where they are slow;
- :func:`heights`: signed height of points above a plane; :func:`standing_heights`: each foot joint's own;
- :func:`detect_contacts`: per foot and frame, planted or not (height and speed, hysteresis, minimum duration);
- :func:`foot_slide`: how far planted feet move along the floor per frame;
- :func:`contact_f1`: agreement of two contact masks.

Shapes: feet ``(T, F, 3)`` metres (F foot joints: heels, toes or ankles), contacts ``(T, F)`` bool; a plane is
``(normal (3,), offset)`` with ``normal @ p == offset`` on it and the normal pointing up.
"""
from __future__ import annotations

import numpy as np

from .gaps import gap_runs

ONE_CAMERA_HEIGHTS = (0.10, 0.14)  # m: contact start / hold heights of feet lifted from one camera
SPEEDS = (0.3, 0.5)  # m/s: contact start / hold speeds of a foot


def floor_plane(points: np.ndarray, up=(0.0, 0.0, 1.0), threshold: float = 0.02, iterations: int = 300,
                *, max_tilt_deg: float = 15.0, seed: int = 0) -> tuple[np.ndarray, float]:
    """The plane through most of ``points (N, 3)`` (within ``threshold`` metres) and tilted less than
    ``max_tilt_deg`` from horizontal (``up``; 0: level): RANSAC over triples, then a least-squares refit on the inliers.
    With fewer than 3 points, or inliers spread less than 10 cm (rms) across their narrower direction (one foot
    standing still: a line, not a plane), the horizontal plane through their median height."""
    up = np.asarray(up, float) / np.linalg.norm(up)
    P = np.asarray(points, float)
    P = P[np.isfinite(P).all(-1)]
    if len(P) < 3:
        return up, float(np.median(P @ up)) if len(P) else 0.0
    if max_tilt_deg <= 0:  # level by definition: the median height of the points
        return up, float(np.median(P @ up))
    rng = np.random.default_rng(seed)
    tri = P[rng.integers(0, len(P), (iterations, 3))]  # (I, 3, 3)
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    norm = np.linalg.norm(n, axis=-1)
    n = n / np.maximum(norm, 1e-12)[:, None]
    n *= np.sign(n @ up)[:, None]
    ok = (norm > 1e-9) & (n @ up > np.cos(np.radians(max_tilt_deg)))
    d = (n * tri[:, 0]).sum(-1)
    count = np.where(ok, (np.abs(P @ n.T - d) < threshold).sum(0), -1)  # (I,)
    best = int(np.argmax(count))
    if count[best] < 3:
        return up, float(np.median(P @ up))
    inl = P[np.abs(P @ n[best] - d[best]) < threshold]
    c = inl.mean(0)
    _, spread, vt = np.linalg.svd(inl - c, full_matrices=False)
    normal = vt[-1] * (np.sign(vt[-1] @ up) or 1.0)
    if spread[1] / np.sqrt(len(inl)) < 0.1 or normal @ up < np.cos(np.radians(max_tilt_deg)):
        return up, float(np.median(inl @ up))  # the points span a line (one foot standing): no tilt to be had
    return normal, float(normal @ c)


def heights(X: np.ndarray, plane: tuple[np.ndarray, float]) -> np.ndarray:
    """``(...)`` signed distance of ``X (..., 3)`` above ``plane`` (metres)."""
    normal, offset = plane
    return X @ normal - offset


def across_ray(v: np.ndarray, points: np.ndarray, camera) -> np.ndarray:
    """``(...)`` length of the part of ``v (..., 3)`` across the line of sight from ``camera (3,)`` to ``points
    (..., 3)``: what one camera sees of a motion (its depth left out)."""
    u = points - np.asarray(camera, float)
    u = u / np.maximum(np.linalg.norm(u, axis=-1, keepdims=True), 1e-9)
    return np.linalg.norm(v - (v * u).sum(-1, keepdims=True) * u, axis=-1)


def _speeds(feet: np.ndarray, fps: float, normal: np.ndarray, camera=None) -> np.ndarray:
    """``(T, F)`` speed along the floor (m/s), central differences (one-sided at the ends); with ``camera (3,)``
    (one camera's centre) the speed across its line of sight instead (:func:`across_ray`)."""
    v = np.gradient(feet, axis=0) * fps if len(feet) > 1 else np.zeros_like(feet)
    if camera is not None:
        return across_ray(v, feet, camera)
    v = v - (v @ normal)[..., None] * normal
    return np.linalg.norm(v, axis=-1)


def estimate_floor(feet: np.ndarray, fps: float, up=(0.0, 0.0, 1.0), slow: float = 0.25, **ransac) -> tuple[np.ndarray, float]:
    """The floor under ``feet (T, F, 3)``: :func:`floor_plane` through each frame's lowest foot point among those
    slower than ``slow`` m/s along the floor (a foot at rest is on something; an ankle stands higher than a toe),
    or through every frame's lowest point if none is slow."""
    up = np.asarray(up, float) / np.linalg.norm(up)
    s = _speeds(feet, fps, up)
    h = np.where((s < slow) & np.isfinite(feet).all(-1), feet @ up, np.inf)  # (T, F)
    if not np.isfinite(h).any():
        h = np.where(np.isfinite(feet).all(-1), feet @ up, np.inf)
    rows = np.flatnonzero(np.isfinite(h).any(1))
    lowest = feet[rows, np.argmin(h[rows], axis=1)]
    return floor_plane(lowest, up, **ransac)


def standing_heights(feet: np.ndarray, plane: tuple[np.ndarray, float], share: float = 5.0) -> np.ndarray:
    """``(F,)`` each foot joint's height above ``plane`` when it stands (its ``share`` percentile: an ankle ~8 cm, a
    toe ~2 cm)."""
    h = heights(feet, plane)
    return np.array([np.percentile(c[np.isfinite(c)], share) if np.isfinite(c).any() else 0.0 for c in h.T])


def detect_contacts(feet: np.ndarray, fps: float, plane: tuple[np.ndarray, float], confidence: np.ndarray | None = None,
                    *, height_on: float | None = None, height_off: float | None = None, speed_on: float = SPEEDS[0],
                    speed_off: float = SPEEDS[1],
                    min_duration_s: float = 0.1, min_confidence: float = 0.3, camera=None) -> np.ndarray:
    """``(T, F)`` bool: each foot planted or not.

    A contact starts where the foot is less than ``height_on`` metres above where it stands on ``plane``
    (:func:`standing_heights`) and slower than ``speed_on`` m/s along it (with ``confidence (T, F)`` at least ``min_confidence``, if given), and lasts while it stays below
    ``height_off`` and ``speed_off`` (hysteresis: no flicker at the thresholds); contacts shorter than
    ``min_duration_s`` are dropped. Unknown (NaN) frames are never in contact. ``camera (3,)``: feet seen by one
    camera at this centre: the speed is measured across its line of sight (a lifter's depth jitters) and the
    heights default to :data:`ONE_CAMERA_HEIGHTS` (a lifted foot's height wanders with its depth), else to 5 and 8 cm.
    """
    on, off = ONE_CAMERA_HEIGHTS if camera is not None else (0.05, 0.08)
    height_on = on if height_on is None else height_on
    height_off = off if height_off is None else height_off
    normal, _ = plane
    h = heights(feet, plane) - standing_heights(feet, plane)
    s = _speeds(feet, fps, normal, camera)
    known = np.isfinite(h) & np.isfinite(s)
    start = known & (h < height_on) & (s < speed_on)
    if confidence is not None:
        start &= np.asarray(confidence) >= min_confidence
    hold = known & (h < height_off) & (s < speed_off)
    T, F = hold.shape
    out = np.zeros((T, F), bool)
    shortest = max(1, int(round(min_duration_s * fps)))
    for f in range(F):  # runs of `hold` that contain a start, long enough
        for a, b in gap_runs(hold[:, f]):
            if b - a >= shortest and start[a:b, f].any():
                out[a:b, f] = True
    return out


def foot_slide(feet: np.ndarray, contacts: np.ndarray, plane: tuple[np.ndarray, float]) -> np.ndarray:
    """``(F,)`` median movement along the floor per frame (metres) of each foot over the frames it is planted in
    and in the frame before (NaN for a foot never planted two frames running)."""
    normal, _ = plane
    d = np.diff(feet, axis=0)
    d = d - (d @ normal)[..., None] * normal
    step = np.linalg.norm(d, axis=-1)  # (T-1, F)
    both = contacts[1:] & contacts[:-1] & np.isfinite(step)
    return np.array([np.median(step[both[:, f], f]) if both[:, f].any() else np.nan for f in range(step.shape[1])])


def contact_f1(pred: np.ndarray, truth: np.ndarray) -> float:
    """F1 score of the contact mask ``pred`` against ``truth`` (same shape, bool); 1.0 when both are empty."""
    tp = float((pred & truth).sum())
    fp, fn = float((pred & ~truth).sum()), float((~pred & truth).sum())
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)
