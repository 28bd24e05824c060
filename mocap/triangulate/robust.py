"""Multi-view triangulation, vectorised over frames x joints x cameras.

Building blocks (pure functions over batched arrays):

- :func:`view_coefficients` / :func:`summed_normal`: DLT normal matrices ``(N, 4, 4)`` summed over any
  camera subset with one matrix product;
- :func:`solve_normal` / :func:`solve_homogeneous`: 3D points from summed normal matrices;
- :func:`triangulate_robust`: confidence-weighted DLT with outlier views rejected by an exhaustive
  search over camera pairs (truncated-quadratic / MSAC score), then inlier refits;
- :func:`refine_points`: batched Gauss-Newton on the true (distorted) pixel reprojection error;
- :func:`triangulate` (API entry point) and :func:`triangulate_pose2sim` (Pose2Sim-compatible mode).

Shapes: keypoints ``(C, T, J, 3)`` = x px, y px, confidence; results ``(T, J, 3)`` metres.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from ..core.camera import CameraRig, camera_coordinates
from ..errors import MocapError
from ..smooth.gaps import fill_gaps
from ..core.keypoints import Keypoints2D
from ..core.motion import Motion3D

CHUNK = 32768  # points per batch: bounds memory to ~100 MB with 8 cameras


@dataclass
class TriangulationResult:
    """Triangulated motion and per-point diagnostics.

    motion: ``(T, J, 3)`` metres (NaN where fewer than ``min_views`` inlier views).
    reprojection_error: ``(T, J)`` mean pixel error over inlier views (distortion applied).
    view_errors: ``(C, T, J)`` pixel error of each view against the 3D point (NaN if missing).
    inliers: ``(C, T, J)`` bool, views used for each point.
    observed: ``(C, T, J)`` bool, views that had a usable detection (finite, confident enough).
    notes: what a user should know (people dropped, points left empty, gaps filled);
    quality: before/after measures of a refinement (``{"jitter": (a, b), "bone_cv": (a, b)}``).
    """

    motion: Motion3D
    reprojection_error: np.ndarray
    view_errors: np.ndarray
    inliers: np.ndarray
    observed: np.ndarray
    camera_names: list[str] = field(default_factory=list)
    method: str = "robust"
    filled: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    quality: dict = field(default_factory=dict)

    @property
    def views_used(self) -> np.ndarray:
        """``(T, J)`` number of inlier views per point."""
        return self.inliers.sum(axis=0)

    def camera_summary(self) -> list[dict]:
        """Per camera: mean reprojection error (px) over its inlier views and % of its detections rejected."""
        out = []
        for c, name in enumerate(self.camera_names):
            inl, obs = self.inliers[c], self.observed[c]
            err = self.view_errors[c][inl]
            out.append({"camera": name, "mean_error_px": float(np.mean(err)) if err.size else float("nan"),
                        "rejected_pct": 100.0 * float((obs & ~inl).sum()) / max(1, int(obs.sum())),
                        "detections": int(obs.sum())})
        return out

    def joint_summary(self) -> list[dict]:
        """Per joint: mean reprojection error (px), mean views used, % of frames triangulated."""
        out = []
        valid = self.motion.valid
        for j, name in enumerate(self.motion.names):
            e = self.reprojection_error[:, j]
            out.append({"joint": name, "mean_error_px": float(np.nanmean(e)) if np.isfinite(e).any() else float("nan"),
                        "views": float(self.views_used[:, j][valid[:, j]].mean()) if valid[:, j].any() else 0.0,
                        "valid_pct": 100.0 * float(valid[:, j].mean())})
        return out


# ------------------------------------------------------------------ building blocks
def view_coefficients(Rt: np.ndarray, xy: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-view DLT normal matrices ``sum_rows w^2 a a^T`` (rows ``x P2 - P0``, ``y P2 - P1``) as a linear form.

    Rt: ``(C, 3, 4)`` projection matrices (``[R|t]`` for normalised coordinates or ``K[R|t]`` for px);
    xy: ``(C, N, 2)`` matching image coordinates (NaN allowed where ``w`` is 0); w: ``(C, N)`` weights.

    ``w^2 [(x^2 + y^2) P2 P2^T - x (P0 P2^T + P2 P0^T) - y (P1 P2^T + P2 P1^T) + P0 P0^T + P1 P1^T]``
    Returns coef ``(C, N, 4)`` and basis ``(C, 4, 16)``: the normal matrix summed over any camera
    subset is ``(coef * mask).reshape(N, 4C) @ basis.reshape(4C, 16)`` (one matrix product).
    """
    x = np.where(w > 0, xy[..., 0], 0.0)
    y = np.where(w > 0, xy[..., 1], 0.0)
    w2 = w * w
    coef = np.stack([w2 * (x * x + y * y), w2 * x, w2 * y, w2], axis=-1)
    P0, P1, P2 = Rt[:, 0], Rt[:, 1], Rt[:, 2]
    o = lambda a, b: a[:, :, None] * b[:, None, :]  # noqa: E731  (C, 4, 4) outer products
    basis = np.stack([o(P2, P2), -(o(P0, P2) + o(P2, P0)), -(o(P1, P2) + o(P2, P1)), o(P0, P0) + o(P1, P1)], axis=1)
    return coef, basis.reshape(len(Rt), 4, 16)


def summed_normal(coef: np.ndarray, basis: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``(C, N, 4)`` coefficients, ``(C, 4, 16)`` basis, optional ``(C, N)`` or ``(C,)`` mask -> ``(N, 4, 4)``."""
    C, N, _ = coef.shape
    if mask is not None:
        mask = np.asarray(mask, dtype=float)
        coef = coef * (mask[:, :, None] if mask.ndim == 2 else mask[:, None, None])
    return (coef.transpose(1, 0, 2).reshape(N, 4 * C) @ basis.reshape(4 * C, 16)).reshape(N, 4, 4)


def solve_normal(M: np.ndarray) -> np.ndarray:
    """``(..., 4, 4)`` summed normal matrices -> ``(..., 3)`` least-squares points (NaN if degenerate).

    Solves the inhomogeneous DLT ``A[:, :3] X = -A[:, 3]`` by a closed-form 3x3 inverse.
    """
    A, b = M[..., :3, :3], -M[..., :3, 3]
    c00 = A[..., 1, 1] * A[..., 2, 2] - A[..., 1, 2] * A[..., 2, 1]
    c01 = A[..., 1, 2] * A[..., 2, 0] - A[..., 1, 0] * A[..., 2, 2]
    c02 = A[..., 1, 0] * A[..., 2, 1] - A[..., 1, 1] * A[..., 2, 0]
    det = A[..., 0, 0] * c00 + A[..., 0, 1] * c01 + A[..., 0, 2] * c02
    inv = np.empty_like(A)
    inv[..., 0, 0] = c00
    inv[..., 1, 0] = c01
    inv[..., 2, 0] = c02
    inv[..., 0, 1] = A[..., 0, 2] * A[..., 2, 1] - A[..., 0, 1] * A[..., 2, 2]
    inv[..., 1, 1] = A[..., 0, 0] * A[..., 2, 2] - A[..., 0, 2] * A[..., 2, 0]
    inv[..., 2, 1] = A[..., 0, 1] * A[..., 2, 0] - A[..., 0, 0] * A[..., 2, 1]
    inv[..., 0, 2] = A[..., 0, 1] * A[..., 1, 2] - A[..., 0, 2] * A[..., 1, 1]
    inv[..., 1, 2] = A[..., 0, 2] * A[..., 1, 0] - A[..., 0, 0] * A[..., 1, 2]
    inv[..., 2, 2] = A[..., 0, 0] * A[..., 1, 1] - A[..., 0, 1] * A[..., 1, 0]
    scale = np.abs(A).max(axis=(-1, -2)) ** 3
    with np.errstate(divide="ignore", invalid="ignore"):
        X = np.einsum("...ij,...j->...i", inv, b) / det[..., None]
    X[~(np.abs(det) > 1e-12 * scale)] = np.nan
    return X


def solve_homogeneous(A: np.ndarray) -> np.ndarray:
    """``(..., R, 4)`` stacked DLT rows -> ``(..., 3)`` points from the smallest right singular vector."""
    _, _, Vt = np.linalg.svd(A)
    q = Vt[..., -1, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        return q[..., :3] / q[..., 3:4]


def normalized_errors(Rt: np.ndarray, X: np.ndarray, xy: np.ndarray, focals: np.ndarray) -> np.ndarray:
    """``(C, N)`` approximate pixel error ``f * |project(X) - xy|`` on undistorted coordinates (NaN behind)."""
    cx, cy, cz = camera_coordinates(Rt, X)
    cz = np.where(cz > 1e-9, cz, np.nan)
    dx = cx / cz - xy[..., 0]
    dy = cy / cz - xy[..., 1]
    return np.sqrt(dx * dx + dy * dy) * focals[:, None]


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


def pixel_errors(rig: CameraRig, X: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """``(C, N)`` distance in px between the distorted projection of ``X (N, 3)`` and ``uv (C, N, 2)``."""
    return np.linalg.norm(rig.project(X) - uv, axis=-1)


def mean_inlier_error(view_errors: np.ndarray, inliers: np.ndarray) -> np.ndarray:
    """``(C, ...)`` per-view px errors and inlier flags -> ``(...)`` mean over inlier views (NaN if none)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(inliers, view_errors, 0).sum(axis=0) / inliers.sum(axis=0)


def _check(kp: Keypoints2D, rig: CameraRig):
    if kp.n_cameras != len(rig):
        raise MocapError(f"calibration has {len(rig)} cameras but keypoints come from {kp.n_cameras} "
                         f"({', '.join(kp.camera_names)})", rig.source or None)


# ------------------------------------------------------------------ API
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


def _result(kp, rig, X, inl, observed, method, filled=None) -> TriangulationResult:
    C, T, J, _ = kp.data.shape
    uv = kp.xy.reshape(C, T * J, 2)
    verr = pixel_errors(rig, X, uv)
    inl = inl & np.isfinite(X).all(axis=1)[None]
    err = mean_inlier_error(verr, inl)
    motion = Motion3D(X.reshape(T, J, 3), kp.skeleton, kp.fps, confidence=np.where(
        inl, kp.confidence.reshape(C, -1), 0).max(axis=0).reshape(T, J) if C else None, up="z")
    return TriangulationResult(motion, err.reshape(T, J), verr.reshape(C, T, J), inl.reshape(C, T, J),
                               observed.reshape(C, T, J), list(rig.names), method, filled)


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
        w = np.where(e_, lik[None, :, idx], 0.0)  # (S, C, n)
        x = np.nan_to_num(uv[None, :, idx])  # (1, C, n, 2)
        rows = np.concatenate([(x[..., 0:1] * P[None, :, None, 2] - P[None, :, None, 0]),
                               (x[..., 1:2] * P[None, :, None, 2] - P[None, :, None, 1])], axis=1)
        rows = rows * np.concatenate([w, w], axis=1)[..., None]  # (S, 2C, n, 4)
        Xs = solve_homogeneous(np.moveaxis(rows, 2, 1))  # (S, n, 3)
        Xh = np.concatenate([Xs, np.ones(Xs.shape[:-1] + (1,))], axis=-1)
        proj = np.einsum("cij,snj->scni", P, Xh)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.linalg.norm(proj[..., :2] / proj[..., 2:3] - uv[None, :, idx], axis=-1)  # (S, C, n)
            err = np.where(e_, d, 0).sum(axis=1) / e_.sum(axis=1)
        err = np.where(np.isfinite(err), err, np.inf)
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
    res = _result(keypoints, rig, X, best_mask, valid, "pose2sim", filled)
    res.motion.positions = pos
    res.motion.confidence = np.where(np.isfinite(pos).all(-1), np.maximum(res.motion.confidence, 0), 0.0)
    return res
