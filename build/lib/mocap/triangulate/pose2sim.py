"""Pose2Sim's documented triangulation (camera exclusion by reprojection error), vectorised over
points: ``mocap triangulate --mode pose2sim`` reproduces Pose2Sim's own output."""
from __future__ import annotations

from itertools import combinations

import numpy as np

from ..core.camera import CameraRig
from ..core.keypoints import Keypoints2D
from ..smooth.gaps import fill_gaps
from .dlt import solve_homogeneous
from .result import TriangulationResult, _check, _result


def _subset_dlt(P: np.ndarray, uv: np.ndarray, lik: np.ndarray, use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pose2Sim's likelihood-weighted DLT for every camera subset at once: ``P (C, 3, 4)`` pixel
    projection matrices, ``uv (C, n, 2)`` px, ``lik (C, n)``, ``use (S, C, n)`` bool -> points
    ``(S, n, 3)`` and their mean pixel reprojection error over the used views ``(S, n)`` (inf when
    undefined)."""
    w = np.where(use, lik[None], 0.0)  # (S, C, n)
    x = np.nan_to_num(uv[None])  # (1, C, n, 2)
    rows = np.concatenate([(x[..., 0:1] * P[None, :, None, 2] - P[None, :, None, 0]),
                           (x[..., 1:2] * P[None, :, None, 2] - P[None, :, None, 1])], axis=1)
    rows = rows * np.concatenate([w, w], axis=1)[..., None]  # (S, 2C, n, 4)
    Xs = solve_homogeneous(np.moveaxis(rows, 2, 1))  # (S, n, 3)
    Xh = np.concatenate([Xs, np.ones(Xs.shape[:-1] + (1,))], axis=-1)
    proj = np.einsum("cij,snj->scni", P, Xh)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.linalg.norm(proj[..., :2] / proj[..., 2:3] - uv[None], axis=-1)  # (S, C, n)
        err = np.where(use, d, 0).sum(axis=1) / use.sum(axis=1)
    return Xs, np.where(np.isfinite(err), err, np.inf)


def triangulate_pose2sim(keypoints: Keypoints2D, rig: CameraRig, *, likelihood_threshold: float = 0.3,
                         reproj_threshold: float = 15.0, min_cameras: int = 2, undistort: bool = False,
                         interpolation: str = "cubic", max_gap: int = 10) -> TriangulationResult:
    """Pose2Sim's documented triangulation, vectorised over points.

    Per point: detections with likelihood < ``likelihood_threshold`` are dropped; the
    likelihood-weighted DLT (pixel units, ``P = K[R|t]``, SVD) is computed on all views; while the
    mean reprojection error exceeds ``reproj_threshold`` px, every combination with one more camera
    left out is tried and the one with the smallest error kept, as long as at least ``min_cameras``
    remain. Points still above the threshold are NaN; gaps of at most ``max_gap`` frames are then
    interpolated (``interpolation`` = "cubic", "linear", ... or "none"). With ``undistort=False`` (the
    Pose2Sim default) lens distortion is ignored, as there.
    """
    _check(keypoints, rig)
    C, T, J, _ = keypoints.data.shape
    N = T * J
    uv = keypoints.xy.reshape(C, N, 2)
    if undistort:
        uv = np.stack([cam.undistort_pixels(u) for cam, u in zip(rig, uv)])
    lik = keypoints.confidence.reshape(C, N)
    valid = (lik >= likelihood_threshold) & np.isfinite(uv).all(axis=-1)
    P = rig.P
    X = np.full((N, 3), np.nan)
    err_min = np.full(N, np.inf)
    best_mask = np.zeros((C, N), bool)
    active = np.ones(N, bool)
    for off in range(0, C - min_cameras + 1):
        combos = list(combinations(range(C), off))
        keep = np.ones((len(combos), C), bool)
        for s, cs in enumerate(combos):
            keep[s, list(cs)] = False
        eff = keep[:, :, None] & valid[None]  # (S, C, N)
        stop = (C - eff.sum(axis=1)).max(axis=0) > C - min_cameras
        active &= ~stop
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        e_ = eff[:, :, idx]
        Xs, err = _subset_dlt(P, uv[:, idx], lik[:, idx], e_)
        s_best = err.argmin(axis=0)
        cols = np.arange(idx.size)
        X[idx] = Xs[s_best, cols]
        err_min[idx] = err[s_best, cols]
        best_mask[:, idx] = e_[s_best, :, cols].T
        active[idx] = err_min[idx] > reproj_threshold
    failed = ~(err_min <= reproj_threshold)
    X[failed] = np.nan
    best_mask[:, failed] = False
    pos = X.reshape(T, J, 3)
    filled = None
    if interpolation != "none" and max_gap > 0:
        pos, filled = fill_gaps(pos, max_gap, interpolation, extrapolate=True)
    res = _result(keypoints, rig, X, inl=best_mask, observed=valid, method="pose2sim", filled=filled)
    res.motion.positions = pos
    res.motion.confidence = np.where(np.isfinite(pos).all(-1), np.maximum(res.motion.confidence, 0), 0.0)
    return res
