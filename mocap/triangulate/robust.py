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
from itertools import combinations

import numpy as np

from ..core.camera import CameraRig
from ..core.keypoints import Keypoints2D
from .dlt import normalized_errors, solve_normal, summed_normal, view_coefficients
from .result import TriangulationResult, _check, _result

CHUNK = 32768  # points per batch: bounds memory to ~100 MB with 8 cameras


def pair_masks(n_cams: int) -> np.ndarray:
    """``(S, C)`` bool: every camera pair, plus all cameras as the first hypothesis."""
    masks = [np.ones(n_cams, bool)]
    for a, b in combinations(range(n_cams), 2):
        m = np.zeros(n_cams, bool)
        m[[a, b]] = True
        masks.append(m)
    return np.array(masks)


def triangulate_robust(xy: np.ndarray, conf: np.ndarray, Rt: np.ndarray, focals: np.ndarray,
                       threshold_px: float | np.ndarray = 15.0, min_views: int = 2, iterations: int = 1):
    """Robust weighted DLT for ``N`` points seen by ``C`` cameras.

    xy: ``(C, N, 2)`` undistorted normalised coordinates; conf: ``(C, N)`` weights (0 = missing).
    Rt: ``(C, 3, 4)`` world->camera; focals: ``(C,)`` px (to express errors in pixels).
    The all-view DLT is kept where every view agrees with it within ``threshold_px``; elsewhere every
    camera pair is a hypothesis, scored on all views with the truncated quadratic
    ``sum_c min(e_c^2, threshold^2)``, and the best one's inliers are refit ``iterations`` times.
    ``threshold_px`` may be one value per camera ``(C,)``. Returns ``X (N, 3)``, ``inliers (C, N)``
    and ``errors (C, N)`` px (pinhole, undistorted). Points with < ``min_views`` inliers are NaN.
    """
    C, N = conf.shape
    valid = conf > 0
    coef, basis = view_coefficients(Rt, xy, conf)
    thr = np.broadcast_to(np.asarray(threshold_px, dtype=float), (C,))[:, None]

    def errors_for(valid_s, xy_s):
        def errors_of(X):
            with np.errstate(invalid="ignore"):
                return np.where(valid_s, normalized_errors(Rt, X, xy_s, focals), np.inf)
        return errors_of

    errors_of = errors_for(valid, xy)

    # Hypothesis 0: all views. Where its summed squared error is below one threshold^2, no
    # hypothesis that rejects a view can score better (rejecting costs threshold^2): done.
    X = solve_normal(summed_normal(coef, basis))
    e = errors_of(X)
    inl = np.nan_to_num(e, nan=np.inf) < thr
    sq = np.where(valid, np.minimum(np.nan_to_num(e, nan=1e6), 1e6) ** 2, 0.0).sum(axis=0)
    sus = np.flatnonzero(~(sq < thr.min() ** 2) | ~np.isfinite(X).all(axis=1))
    if sus.size and C > 2:
        X[sus], inl[:, sus], e[:, sus] = _pair_search(coef[:, sus], basis, valid[:, sus], errors_for(valid[:, sus], xy[:, sus]), thr,
                                                      iterations, X[sus], e[:, sus])
    X[inl.sum(axis=0) < min_views] = np.nan
    return X, inl, e


def _pair_search(coef, basis, valid, errors_of, thr, iterations, X0, e0, penalty=None):
    """Best of the initial (``X0``, errors ``e0``) and camera-pair hypotheses by truncated quadratic
    cost (plus ``penalty(X) -> (N,)`` if given), then inlier refits (see :func:`triangulate_robust`)."""
    C, N, _ = coef.shape

    def cost_of(Xs, e, usable):
        cost = np.where(valid, np.minimum(np.nan_to_num(e, nan=np.inf), thr) ** 2, 0.0).sum(axis=0)
        if penalty is not None:
            cost = cost + penalty(Xs)
        cost[~usable | ~np.isfinite(Xs).all(axis=1)] = np.inf
        return cost

    X = X0.copy()
    best_cost = cost_of(X0, e0, valid.sum(axis=0) >= 2)
    for m in pair_masks(C)[1:]:
        Xs = solve_normal(summed_normal(coef[m], basis[m]))
        cost = cost_of(Xs, errors_of(Xs), valid[m].all(axis=0))
        better = cost < best_cost
        best_cost[better] = cost[better]
        X[better] = Xs[better]
    e = errors_of(X)
    inl = np.nan_to_num(e, nan=np.inf) < thr
    for _ in range(iterations):
        Xn = solve_normal(summed_normal(coef, basis, inl))
        keep = inl.sum(axis=0) >= 2
        X = np.where(keep[:, None], Xn, X)
        e = errors_of(X)
        inl = np.nan_to_num(e, nan=np.inf) < thr
    return X, inl, e


def refine_points(X: np.ndarray, uv: np.ndarray, w: np.ndarray, rig: CameraRig, iterations: int = 5) -> np.ndarray:
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
                min_views: int = 2, refine: bool = False, temporal: bool = True, progress=None) -> TriangulationResult:
    """Robust, confidence-weighted triangulation of ``keypoints (C, T, J, 3)`` with lens distortion.

    Detections below ``min_confidence`` are ignored; views whose reprojection error exceeds
    ``threshold_px`` (default :func:`default_threshold`) are rejected per point; points keep at least ``min_views`` inlier views or are
    NaN (and counted). ``temporal`` re-decides points that jump away from their well-supported
    neighbours in time (:func:`temporal_recheck`). ``refine`` adds a batched nonlinear refinement
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
        X[sl], inl[:, sl], _ = triangulate_robust(xy[:, sl], conf[:, sl], Rt, focals, threshold_px, min_views)
        if refine:
            X[sl] = refine_points(X[sl], uv[:, sl], np.where(inl[:, sl], conf[:, sl], 0.0), rig)
        return sl.stop - sl.start

    # numpy releases the GIL in its kernels: chunks run in parallel threads, one per core.
    chunks = [slice(s, min(N, s + CHUNK)) for s in range(0, N, CHUNK)]
    done = 0
    with ThreadPoolExecutor(max_workers=min(len(chunks), os.cpu_count() or 1)) as pool:
        for n in pool.map(work, chunks):
            done += n
            if progress:
                progress(done, N)
    if temporal:
        X, inl = temporal_recheck(X.reshape(T, J, 3), inl.reshape(C, T, J), xy.reshape(C, T, J, 2),
                                  conf.reshape(C, T, J), Rt, focals, threshold_px, keypoints.fps)
        X, inl = X.reshape(N, 3), inl.reshape(C, N)
    return _result(keypoints, rig, X, inl, conf > 0, "robust+refine" if refine else "robust")


def temporal_prediction(X: np.ndarray, strong: np.ndarray, window: int = 3) -> np.ndarray:
    """``(T, J, 3)`` median of the ``strong`` ``(T, J)`` neighbours within +-window frames (frame itself excluded)."""
    T = X.shape[0]
    Xs = np.where(strong[..., None], X, np.nan)
    pad = np.concatenate([np.full((window,) + X.shape[1:], np.nan), Xs, np.full((window,) + X.shape[1:], np.nan)])
    stack = np.sort(np.stack([pad[window + k: window + k + T] for k in range(-window, window + 1) if k]), axis=0)
    n = np.isfinite(stack).sum(axis=0)  # NaNs sort last
    lo = np.take_along_axis(stack, np.maximum(n - 1, 0)[None] // 2, axis=0)[0]
    hi = np.take_along_axis(stack, (n // 2)[None], axis=0)[0]
    return np.where(n > 0, 0.5 * (lo + hi), np.nan)


def temporal_recheck(X, inl, xy, conf, Rt, focals, threshold_px, fps, window: int = 3, speed: float = 3.0,
                     min_jump: float = 0.1):
    """Re-decide points that jump away from their strongly supported neighbours in time.

    X: ``(T, J, 3)``; inl: ``(C, T, J)``; xy/conf: ``(C, T, J, 2)``/``(C, T, J)`` undistorted views.
    A point further than ``tau = min_jump + speed * window / fps`` metres from the median of its
    neighbours (those with >= 3 inlier views) is re-solved: the per-frame answer and every camera pair are
    scored with the truncated quadratic cost plus ``threshold^2 * (max(0, d - tau) / tau)^2`` for a
    distance ``d`` to the prediction. This catches two outlier views that agree by chance, which a
    single frame cannot tell from the truth. Returns updated ``X`` and ``inl``.
    """
    C, T, J = conf.shape
    pred = temporal_prediction(X, inl.sum(axis=0) >= 3, window)
    tau = min_jump + speed * window / fps
    d = np.linalg.norm(X - pred, axis=-1)
    flag = np.flatnonzero((np.isfinite(pred).all(-1) & ~(d <= tau)).ravel() & ((conf > 0).sum(0) >= 2).ravel())
    if flag.size == 0:
        return X, inl
    X, inl = X.reshape(T * J, 3).copy(), inl.reshape(C, T * J).copy()
    xy_f, conf_f = xy.reshape(C, -1, 2)[:, flag], conf.reshape(C, -1)[:, flag]
    pred_f = pred.reshape(-1, 3)[flag]
    thr = np.broadcast_to(np.asarray(threshold_px, dtype=float), (C,))[:, None]
    valid = conf_f > 0
    coef, basis = view_coefficients(Rt, xy_f, conf_f)

    def errors_of(P):
        with np.errstate(invalid="ignore"):
            return np.where(valid, normalized_errors(Rt, P, xy_f, focals), np.inf)

    def penalty(P):
        excess = np.maximum(0.0, np.linalg.norm(P - pred_f, axis=-1) - tau) / tau
        return thr.min() ** 2 * np.nan_to_num(excess, nan=np.inf) ** 2

    X0 = X[flag]
    Xf, inl_f, _ = _pair_search(coef, basis, valid, errors_of, thr, 2, X0, errors_of(X0), penalty)
    ok = inl_f.sum(axis=0) >= 2
    # No consistent answer near the prediction: a point backed by only two views is dropped (two
    # outliers agreeing by chance); better-supported points keep their per-frame answer.
    weak = ~ok & (inl[:, flag].sum(axis=0) <= 2)
    X[flag[ok]], inl[:, flag[ok]] = Xf[ok], inl_f[:, ok]
    X[flag[weak]], inl[:, flag[weak]] = np.nan, False
    return X.reshape(T, J, 3), inl.reshape(C, T, J)
