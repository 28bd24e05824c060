"""Multi-view triangulation, vectorised over frames x joints x cameras.

On the DLT blocks of :mod:`.dlt`:

- :func:`triangulate_robust`: confidence-weighted DLT with outlier views rejected by an exhaustive
  search over camera pairs (truncated-quadratic / MSAC score), then inlier refits;
- :func:`refine_points`: batched Gauss-Newton on the true (distorted) pixel reprojection error;
- :func:`triangulate` (API entry point); the Pose2Sim-compatible mode is :mod:`.pose2sim`.

Shapes: keypoints ``(C, T, J, 3)`` = x px, y px, confidence; results ``(T, J, 3)`` metres.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..core.camera import CameraRig
from ..core.keypoints import Keypoints2D
from .plausible import recheck
from .dlt import errors_function, exhaustive, pair_search, solve_normal, summed_normal, view_coefficients
from .result import TriangulationResult, _check, _result

CHUNK = 131072  # views per batch (32768 points of 4 cameras): bounds a batch's memory to ~50 MB whatever the cameras


def triangulate_robust(xy: np.ndarray, conf: np.ndarray, Rt: np.ndarray, focals: np.ndarray,
                       *, threshold_px: float | np.ndarray = 15.0, min_views: int = 2, iterations: int = 1,
                       refits: int = 3):
    """Robust weighted DLT for ``N`` points seen by ``C`` cameras.

    xy: ``(C, N, 2)`` undistorted normalised coordinates; conf: ``(C, N)`` weights (0 = missing).
    Rt: ``(C, 3, 4)`` world->camera; focals: ``(C,)`` px (to express errors in pixels).
    The all-view DLT is kept where every view agrees with it within ``threshold_px``. With more than six cameras,
    the views that agree are refit up to ``refits`` times, and kept where they stay the same majority of views and
    their summed squared error stays below one ``threshold^2``.
    Elsewhere camera pairs are hypotheses (:func:`~mocap.triangulate.dlt.pair_search`: every pair for a few cameras,
    seed pairs among the best views for many), scored on all views with the truncated quadratic
    ``sum_c min(e_c^2, threshold^2)``, and the best one's inliers are refit ``iterations`` times.
    ``threshold_px`` may be one value per camera ``(C,)``. Returns ``X (N, 3)``, ``inliers (C, N)``
    and ``errors (C, N)`` px (pinhole, undistorted). Points with < ``min_views`` inliers are NaN.
    """
    C, N = conf.shape
    valid = conf > 0
    coef, basis = view_coefficients(Rt, xy, conf)
    thr = np.broadcast_to(np.asarray(threshold_px, dtype=float), (C,))[:, None]

    errors_of = errors_function(Rt, xy, valid, focals)

    # Hypothesis 0: all views. Where its summed squared error is below one threshold^2, no
    # hypothesis that rejects a view can score better (rejecting costs threshold^2): done.
    X = solve_normal(summed_normal(coef, basis))
    e = errors_of(X)
    inl = np.nan_to_num(e, nan=np.inf) < thr
    sq = np.where(valid, np.minimum(np.nan_to_num(e, nan=1e6), 1e6) ** 2, 0.0).sum(axis=0)
    sus = np.flatnonzero(~(sq < thr.min() ** 2) | ~np.isfinite(X).all(axis=1))
    if sus.size and C > 2 and not exhaustive(C):
        sus = settle_by_refits(sus, X, inl, e, coef=coef, basis=basis, xy=xy, valid=valid, Rt=Rt, focals=focals,
                               thr=thr, refits=refits)
    if sus.size and C > 2:
        X[sus], inl[:, sus], e[:, sus] = pair_search(coef[:, sus], basis, valid[:, sus],
                                                     errors_of=errors_function(Rt, xy[:, sus], valid[:, sus], focals),
                                                     thr=thr, iterations=iterations, X0=X[sus], e0=e[:, sus])
    X[inl.sum(axis=0) < min_views] = np.nan
    return X, inl, e


def settle_by_refits(sus, X, inl, e, *, coef, basis, xy, valid, Rt, focals, thr, refits: int = 3) -> np.ndarray:
    """In place on ``X (N, 3)``, ``inl (C, N)``, ``e (C, N)`` for the points ``sus``: refits on the views that agree.

    With many views an outlier moves the all-view answer by a share of its error, so the views that agree with it are
    mostly the inliers, and refits on them converge to the inlier set in a few rounds. Where a refit keeps exactly
    the views it was fit on, they are most of the point's views (3 at least) and their summed squared error is below
    one ``thr^2`` (as for the all-view answer: rejecting one of them cannot score better), the pair search could only
    pick the same views: settled. Returns the points still to search; they keep their last refit (the search starts
    there, and ranks their views by its errors).
    """
    for _ in range(refits):
        X1 = solve_normal(summed_normal(coef[:, sus], basis, inl[:, sus]))
        e1 = errors_function(Rt, xy[:, sus], valid[:, sus], focals)(X1)
        inl1 = np.nan_to_num(e1, nan=np.inf) < thr
        n1, sq1 = inl1.sum(0), np.where(inl1, e1, 0.0) ** 2
        done = ((inl1 == inl[:, sus]).all(0) & (n1 >= 3) & (2 * n1 > valid[:, sus].sum(0))
                & (sq1.sum(0) < thr.min() ** 2) & np.isfinite(X1).all(1))
        ok = np.isfinite(X1).all(1)
        X[sus[ok]], e[:, sus[ok]], inl[:, sus[ok]] = X1[ok], e1[:, ok], inl1[:, ok]
        sus = sus[~done]
        if not sus.size:
            break
    return sus


def refine_points(X: np.ndarray, uv: np.ndarray, w: np.ndarray, rig: CameraRig, *, iterations: int = 5) -> np.ndarray:
    """Batched Gauss-Newton on the distorted pixel reprojection error.

    X: ``(N, 3)`` initial points, metres; uv: ``(C, N, 2)`` observed px; w: ``(C, N)`` weights
    (0 excludes a view). Returns refined ``(N, 3)``; points whose error does not improve keep X.
    """
    X = X.copy()
    ok = np.isfinite(X).all(axis=1) & ((w > 0).sum(axis=0) >= 2)
    if not ok.any():
        return X
    w = w[:, ok]
    sw = np.sqrt(w)[..., None]
    uv0 = np.where(w[..., None] > 0, uv[:, ok], 0.0)

    def residual(P):
        r = (rig.project(P) - uv0) * sw
        return np.nan_to_num(np.where(w[..., None] > 0, r, 0.0), nan=1e6)

    eps = 1e-5
    Xo = X[ok]
    for _ in range(iterations):
        r = residual(Xo)  # (C, n, 2)
        J = np.stack([(residual(Xo + eps * np.eye(3)[k]) - residual(Xo - eps * np.eye(3)[k])) / (2 * eps)
                      for k in range(3)], axis=-1)  # (C, n, 2, 3)
        H = np.einsum("cnik,cnil->nkl", J, J) + 1e-9 * np.eye(3)
        g = np.einsum("cnik,cni->nk", J, r)
        Xn = Xo + np.linalg.solve(H, -g[..., None])[..., 0]
        better = (residual(Xn) ** 2).sum(axis=(0, 2)) < (r ** 2).sum(axis=(0, 2))
        Xo[better] = Xn[better]
    X[ok] = Xo
    return X


def default_threshold(rig: CameraRig) -> np.ndarray:
    """``(C,)`` outlier threshold in px: 1.5 % of each camera's larger image side (29 px at 1920)."""
    return np.array([0.015 * max(c.size) for c in rig])


def triangulate(keypoints: Keypoints2D, rig: CameraRig, *, min_confidence: float = 0.3,
                threshold_px: float | None = None,
                min_views: int = 2, refine: bool = False, temporal: bool = True, skeleton: bool = True,
                progress=None) -> TriangulationResult:
    """Robust, confidence-weighted triangulation of ``keypoints (C, T, J, 3)`` with lens distortion.

    Detections below ``min_confidence`` are ignored; views whose reprojection error exceeds
    ``threshold_px`` (default :func:`default_threshold`) are rejected per point; points keep at least ``min_views`` inlier views or are
    NaN (and counted). ``skeleton`` re-decides points whose bones break the person's robust bone lengths
    and ``temporal`` those that jump away from their well-supported neighbours in time, both in one pass
    (:func:`~mocap.triangulate.plausible.recheck`; what it did is in ``result.checks``). ``refine`` adds a batched nonlinear refinement
    of the distorted pixel error.
    ``progress(done, total)`` is called after each batch.
    """
    _check(keypoints, rig)
    C, T, J, _ = keypoints.data.shape
    uv = keypoints.xy.reshape(C, T * J, 2)
    conf = keypoints.confidence.reshape(C, T * J)
    conf = np.where(conf >= min_confidence, conf, 0.0)
    xy = rig.undistort(uv)
    conf = np.where(np.isfinite(xy).all(axis=-1), conf, 0.0)
    Rt, focals = rig.extrinsics, rig.focals
    if threshold_px is None:
        threshold_px = default_threshold(rig)
    N = T * J
    X = np.full((N, 3), np.nan)
    inl = np.zeros((C, N), bool)

    def work(sl):
        X[sl], inl[:, sl], _ = triangulate_robust(xy[:, sl], conf[:, sl], Rt, focals, threshold_px=threshold_px, min_views=min_views)
        if refine:
            X[sl] = refine_points(X[sl], uv[:, sl], np.where(inl[:, sl], conf[:, sl], 0.0), rig)
        return sl.stop - sl.start

    # numpy releases the GIL in its kernels: chunks run in parallel threads, one per core.
    step = max(1024, CHUNK // C)
    chunks = [slice(s, min(N, s + step)) for s in range(0, N, step)]
    done = 0
    with ThreadPoolExecutor(max_workers=min(len(chunks), os.cpu_count() or 1)) as pool:
        for n in pool.map(work, chunks):
            done += n
            if progress:
                progress(done, N)
    checks = {}
    if temporal or skeleton:
        X, inl, checks = recheck(X.reshape(T, J, 3), inl.reshape(C, T, J), xy.reshape(C, T, J, 2),
                                 conf=conf.reshape(C, T, J), Rt=Rt, focals=focals, threshold_px=threshold_px,
                                 fps=keypoints.fps, bones=keypoints.skeleton.bone_indices if skeleton else None,
                                 temporal=temporal)
        X, inl = X.reshape(N, 3), inl.reshape(C, N)
    res = _result(keypoints, rig, X, inl, observed=conf > 0, method="robust+refine" if refine else "robust")
    res.checks = checks
    return res
