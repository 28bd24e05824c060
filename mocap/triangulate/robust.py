"""Multi-view triangulation, vectorised over frames x joints x cameras.

On the DLT blocks of :mod:`.dlt`:

- :func:`triangulate_robust`: confidence-weighted DLT with outlier views rejected by an exhaustive
  search over camera pairs (truncated-quadratic / MSAC score), then inlier refits;
- :func:`refine_points`: batched Gauss-Newton on the true (distorted) pixel reprojection error;
- :func:`triangulate` (API entry point); the Pose2Sim-compatible mode is :mod:`.pose2sim`.

Shapes: keypoints ``(C, T, J, 3)`` = x px, y px, confidence; results ``(T, J, 3)`` metres.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..core.camera import CameraRig
from ..core.keypoints import Keypoints2D
from ..workers import blocks as frame_blocks, ordered_map
from .plausible import bone_model, recheck
from .dlt import errors_function, exhaustive, pair_search, solve_normal, summed_normal, view_coefficients
from .result import TriangulationResult, _check, _result, pixel_errors

CHUNK = 65536  # views per block (16384 points of 4 cameras): a block's temporaries stay near 25 MB whatever the cameras


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
        sus = settle_by_refits(sus, X, inl, e, coef=coef, basis=basis, valid=valid, errors_of=errors_of, thr=thr,
                               refits=refits)
    if sus.size and C > 2:
        X[sus], inl[:, sus], e[:, sus] = pair_search(coef[:, sus], basis, valid[:, sus],
                                                     errors_of=errors_function(Rt, xy[:, sus], valid[:, sus], focals),
                                                     thr=thr, iterations=iterations, X0=X[sus], e0=e[:, sus])
    X[inl.sum(axis=0) < min_views] = np.nan
    return X, inl, e


def settle_by_refits(sus, X, inl, e, *, coef, basis, valid, errors_of, thr, refits: int = 3) -> np.ndarray:
    """In place on ``X (N, 3)``, ``inl (C, N)``, ``e (C, N)`` for the points ``sus``: refits on the views that agree
    (``errors_of`` of :func:`~mocap.triangulate.dlt.errors_function` over all ``N`` points).

    With many views an outlier moves the all-view answer by a share of its error, so the views that agree with it are
    mostly the inliers, and refits on them converge to the inlier set in a few rounds. Where a refit keeps exactly
    the views it was fit on, they are most of the point's views (3 at least) and their summed squared error is below
    one ``thr^2`` (as for the all-view answer: rejecting one of them cannot score better), the pair search could only
    pick the same views: settled. Returns the points still to search; they keep their last refit (the search starts
    there, and ranks their views by its errors).
    """
    for _ in range(refits):
        X1 = solve_normal(summed_normal(coef[:, sus], basis, inl[:, sus]))
        e1 = errors_of(X1, sus)
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
                progress=None, executor=None) -> TriangulationResult:
    """Robust, confidence-weighted triangulation of ``keypoints (C, T, J, 3)`` with lens distortion.

    Detections below ``min_confidence`` are ignored; views whose reprojection error exceeds
    ``threshold_px`` (default :func:`default_threshold`) are rejected per point; points keep at least ``min_views`` inlier views or are
    NaN (and counted). ``skeleton`` re-decides points whose bones break the person's robust bone lengths
    and ``temporal`` those that jump away from their well-supported neighbours in time, both in one pass
    (:func:`~mocap.triangulate.plausible.recheck`; what it did is in ``result.checks``). ``refine`` adds a batched nonlinear refinement
    of the distorted pixel error.

    Frames are processed in blocks of about :data:`CHUNK` views, so memory beyond the keypoints and the result does
    not grow with the length: the checks see each block with ``WINDOW`` frames of the first pass on either side and
    the whole recording's bone lengths, which gives the answer of one pass over everything. The blocks go to
    ``executor`` (:func:`mocap.workers.ordered_map`: threads by default, or processes / Ray tasks; the same answer).
    ``progress(done, total)`` is called after each block of each pass (total: twice the points).
    """
    _check(keypoints, rig)
    C, T, J, _ = keypoints.data.shape
    thr = default_threshold(rig) if threshold_px is None else threshold_px
    blocks = frame_blocks(T, CHUNK // max(1, C * J))
    tick = counter(progress, 2 * T * J)
    X, inl, observed = first_pass(keypoints, rig, blocks, tick, executor=executor,
                                  options=dict(min_confidence=min_confidence, thr=thr, min_views=min_views, refine=refine))
    bones = keypoints.skeleton.bone_indices if skeleton else None
    out, out_inl, verr, checks = second_pass(keypoints, rig, blocks, tick, X=X, inl=inl, observed=observed, thr=thr,
                                             bones=bones, temporal=temporal, check=temporal or skeleton,
                                             executor=executor)
    res = _result(keypoints, rig, out.reshape(T * J, 3), out_inl.reshape(C, T * J), observed=observed,
                  method="robust+refine" if refine else "robust", view_errors=verr.reshape(C, T * J))
    res.checks = checks
    return res


def first_pass(keypoints: Keypoints2D, rig: CameraRig, blocks: list[slice], tick, *, options: dict, executor=None):
    """Each block of frames triangulated (:func:`first_block` with ``options``): ``X (T, J, 3)``, ``inliers (C, T,
    J)`` and ``observed (C, T, J)`` (used detections)."""
    C, T, J, _ = keypoints.data.shape
    X, inl, observed = np.full((T, J, 3), np.nan), np.zeros((C, T, J), bool), np.zeros((C, T, J), bool)
    work = partial(first_block, rig=rig, **options)
    for frames, (Xb, ib, ob) in zip(blocks, ordered_map(work, (keypoints.data[:, f] for f in blocks), executor)):
        X[frames], inl[:, frames], observed[:, frames] = Xb, ib, ob
        tick(ob[0].size)
    return X, inl, observed


def first_block(data: np.ndarray, *, rig: CameraRig, min_confidence: float, thr, min_views: int, refine: bool):
    """One block's keypoints ``data (C, n, J, 3)`` undistorted and triangulated (:func:`triangulate_robust`, then
    :func:`refine_points` when ``refine``): ``X (n, J, 3)``, ``inliers (C, n, J)``, ``observed (C, n, J)``."""
    C, n, J, _ = data.shape
    conf = data[..., 2]
    xy = rig.undistort(data[..., :2])
    conf = np.where((conf >= min_confidence) & np.isfinite(xy).all(-1), conf, 0.0)
    Xb, ib, _ = triangulate_robust(xy.reshape(C, n * J, 2), conf.reshape(C, n * J), rig.extrinsics, rig.focals,
                                   threshold_px=thr, min_views=min_views)
    if refine:
        Xb = refine_points(Xb, data[..., :2].reshape(C, n * J, 2), np.where(ib, conf.reshape(C, n * J), 0.0), rig)
    return Xb.reshape(n, J, 3), ib.reshape(C, n, J), conf > 0


def second_pass(keypoints: Keypoints2D, rig: CameraRig, blocks: list[slice], tick, *, X, inl, observed, thr, bones,
                temporal: bool, check: bool, executor=None):
    """The plausibility checks (:func:`second_block`, when ``check``) on each block with the first pass's answers
    ``WINDOW`` frames around it and the whole recording's bone model (the answer of one pass over everything), and
    the per-view px errors. Returns ``X``, ``inliers``, ``view_errors (C, T, J)`` and the checks' report (counts per
    joint of the block's own frames)."""
    C, T, J, _ = keypoints.data.shape
    out, out_inl = (X.copy(), inl.copy()) if check else (X, inl)
    verr = np.full((C, T, J), np.nan)
    checks = bone_report(X, inl, bones) if check else {}
    model = (checks["lengths"], checks["frames"], checks["tolerance"]) if check else None
    work = partial(second_block, rig=rig, thr=thr, fps=keypoints.fps, bones=bones, temporal=temporal, model=model)

    def pieces():
        for frames in blocks:
            ext = slice(max(0, frames.start - WINDOW), min(T, frames.stop + WINDOW)) if check else frames
            yield (keypoints.data[:, ext], X[ext], inl[:, ext], observed[:, ext], frames.start - ext.start,
                   frames.stop - frames.start)

    for frames, (Xb, ib, eb) in zip(blocks, ordered_map(work, pieces(), executor)):
        if check:
            old, new = np.isfinite(X[frames]).all(-1), np.isfinite(Xb).all(-1)
            checks["retriangulated"] += (new & ~(np.linalg.norm(Xb - X[frames], axis=-1) < 1e-9)).sum(0)
            checks["rejected"] += (old & ~new).sum(0)
            out[frames], out_inl[:, frames] = Xb, ib
        verr[:, frames] = eb
        tick(Xb.shape[0] * J)
    return out, out_inl, verr, checks


def second_block(piece: tuple, *, rig: CameraRig, thr, fps: float, bones, temporal: bool, model):
    """One block of the second pass. ``piece``: keypoints ``(C, m, J, 3)``, first-pass ``X (m, J, 3)``, ``inliers``
    and ``observed (C, m, J)`` of the block with ``WINDOW`` frames either side, where the block starts in them and
    how many frames it has; ``model`` None: no checks. Returns the block's ``X (n, J, 3)``, ``inliers (C, n, J)`` and
    ``view_errors (C, n, J)`` px."""
    data, X, inl, observed, start, n = piece
    C, m, J, _ = data.shape
    inner = slice(start, start + n)
    if model is not None:
        conf = np.where(observed, data[..., 2], 0.0)
        xy = lambda flag: rig.undistort(data[..., :2].reshape(C, -1, 2)[:, flag])  # noqa: E731 (suspects only)
        X, inl, _ = recheck(X, inl, xy, conf=conf, Rt=rig.extrinsics, focals=rig.focals, threshold_px=thr, fps=fps,
                            bones=bones, temporal=temporal, window=WINDOW, model=model)
    Xb = X[inner]
    verr = pixel_errors(rig, Xb.reshape(n * J, 3), data[:, inner, :, :2].reshape(C, n * J, 2)).reshape(C, n, J)
    return Xb, inl[:, inner], verr


WINDOW = 3  # frames on either side that the time check looks at (:func:`~mocap.triangulate.plausible.recheck`)


def bone_report(X: np.ndarray, inl: np.ndarray, bones) -> dict:
    """The checks' report before any point is re-decided: the whole recording's bone model
    (:func:`~mocap.triangulate.plausible.bone_model` on the points with 3 or more views) and zero counts per joint."""
    J = X.shape[1]
    bones = np.zeros((0, 2), int) if bones is None else np.asarray(bones, int).reshape(-1, 2)
    L, frames, tol = bone_model(X, bones, inl.sum(0) >= 3)
    return {"lengths": L, "frames": frames, "tolerance": tol, "retriangulated": np.zeros(J, int),
            "rejected": np.zeros(J, int)}


def counter(progress, total: int):
    """``tick(n)``: ``n`` more points done, reported as ``progress(done, total)`` (None: silent). Called where the
    blocks' results are collected, in order (:func:`~mocap.workers.ordered_map`), so from one thread."""
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress:
            progress(done[0], total)
    return tick


