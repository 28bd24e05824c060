"""DLT building blocks, pure functions over batched arrays.

- :func:`view_coefficients` / :func:`summed_normal`: DLT normal matrices ``(N, 4, 4)`` summed over any
  camera subset with one matrix product;
- :func:`solve_normal` / :func:`solve_homogeneous`: 3D points from summed normal matrices or stacked rows;
- :func:`normalized_errors`: each view's approximate pixel error of a point on undistorted coordinates;
- :func:`errors_function`, :func:`pair_masks` / :func:`pair_search`: the best camera pair by truncated quadratic
  cost: every pair for a few cameras, else the pairs among each point's :func:`ranked_views` (a constant number of
  hypotheses per point, so the cost grows linearly with the cameras), every pair again for the few points whose
  seeds leave most of their views out.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

from ..core.camera import camera_coordinates


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


def errors_function(Rt: np.ndarray, xy: np.ndarray, valid: np.ndarray, focals: np.ndarray):
    """``errors_of(X (n, 3), idx=None) -> (C, n)``: :func:`normalized_errors` of the points ``idx`` (all ``N`` when
    None) against ``xy (C, N, 2)``, inf where ``valid (C, N)`` is False (the form :func:`pair_search` scores)."""
    def errors_of(X, idx=None):
        v, p = (valid, xy) if idx is None else (valid[:, idx], xy[:, idx])
        with np.errstate(invalid="ignore"):
            return np.where(v, normalized_errors(Rt, X, p, focals), np.inf)
    return errors_of


def pair_masks(n_cams: int) -> np.ndarray:
    """``(S, C)`` bool: every camera pair, plus all cameras as the first hypothesis."""
    masks = [np.ones(n_cams, bool)]
    for a, b in combinations(range(n_cams), 2):
        m = np.zeros(n_cams, bool)
        m[[a, b]] = True
        masks.append(m)
    return np.array(masks)


#: Views ranked per point for the seed pairs (``SEEDS * (SEEDS - 1) / 2`` hypotheses): with ``C`` cameras every
#: pair is tried only while ``C * (C - 1) / 2 <= 2 *`` that (6 cameras or fewer).
SEEDS = 5


def exhaustive(n_cams: int, seeds: int = SEEDS) -> bool:
    """Whether :func:`pair_search` tries every camera pair for ``n_cams`` cameras (no more than twice the seed pairs)."""
    return n_cams * (n_cams - 1) <= seeds * (seeds - 1) * 2


def ranked_views(e: np.ndarray, valid: np.ndarray, m: int = SEEDS) -> np.ndarray:
    """``(m, N)`` each point's ``m`` views with the smallest errors ``e (C, N)`` among ``valid (C, N)`` (best first).

    Against an all-view estimate the inlier views agree best: an outlier pulls the estimate less than it is off.
    """
    key = np.where(valid, np.nan_to_num(e, nan=np.inf), np.inf)
    part = np.argpartition(key, m - 1, axis=0)[:m] if m < len(e) else np.broadcast_to(np.arange(len(e))[:, None], key.shape)
    order = np.argsort(np.take_along_axis(key, part, 0), axis=0)
    return np.take_along_axis(part, order, 0)


def pair_points(coef: np.ndarray, basis: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N, 3)``: each point triangulated from its own two views ``a (N,)``, ``b (N,)`` (camera indices)."""
    n = np.arange(coef.shape[1])
    M = np.einsum("nk,nkl->nl", coef[a, n], basis[a]) + np.einsum("nk,nkl->nl", coef[b, n], basis[b])
    return solve_normal(M.reshape(-1, 4, 4))


def pair_search(coef, basis, valid, errors_of, *, thr, iterations, X0, e0, penalty=None, seeds: int = SEEDS):
    """Best of the initial answer and camera pairs, then inlier refits.

    coef/basis: :func:`view_coefficients` of ``N`` points in ``C`` views; valid ``(C, N)``; ``errors_of(X (N, 3))
    -> (C, N)`` px (inf where not valid); thr ``(C, 1)`` px; ``X0 (N, 3)`` with errors ``e0 (C, N)``. Each
    hypothesis costs the truncated quadratic ``sum_c min(e_c, thr_c)^2`` (plus ``penalty(X) -> (N,)`` if given);
    the best one's inliers (error below threshold) are refit ``iterations`` times. Returns ``X (N, 3)``,
    ``inliers (C, N)``, ``errors (C, N)``. ``errors_of`` and ``penalty`` also take ``idx``, the points a subset of
    ``X`` stands for (:func:`errors_function`).

    The pairs: every one while ``C (C - 1) / 2 <= seeds (seeds - 1)``; otherwise those among each point's ``seeds``
    :func:`ranked_views` by ``e0`` (a constant number per point), and every pair for the points whose result then
    keeps fewer than half their views (a first estimate that the outliers outvoted).
    """
    C, N, _ = coef.shape
    if exhaustive(C, seeds):
        return _search(coef, basis, valid, errors_of, thr=thr, iterations=iterations, X0=X0, e0=e0, penalty=penalty)
    top = ranked_views(e0, valid, seeds)
    pairs = [(top[i], top[j]) for i, j in combinations(range(seeds), 2)]
    X, inl, e = _search(coef, basis, valid, errors_of, thr=thr, iterations=iterations, X0=X0, e0=e0, penalty=penalty,
                        pairs=pairs)
    n_valid = valid.sum(0)
    redo = np.flatnonzero((2 * inl.sum(0) < n_valid) & (n_valid >= 3))
    if redo.size:
        sub = lambda P: errors_of(P, redo)  # noqa: E731
        pen = None if penalty is None else (lambda P: penalty(P, redo))
        X[redo], inl[:, redo], e[:, redo] = _search(coef[:, redo], basis, valid[:, redo], sub, thr=thr,
                                                    iterations=iterations, X0=X[redo], e0=e[:, redo], penalty=pen)
    return X, inl, e


def _search(coef, basis, valid, errors_of, *, thr, iterations, X0, e0, penalty=None, pairs=None):
    """:func:`pair_search` over every camera pair (``pairs=None``) or the given per-point pairs ``[(a (N,), b (N,))]``."""
    C, N, _ = coef.shape

    def cost_of(Xs, e, usable):
        cost = np.where(valid, np.minimum(np.nan_to_num(e, nan=np.inf), thr) ** 2, 0.0).sum(axis=0)
        if penalty is not None:
            cost = cost + penalty(Xs)
        cost[~usable | ~np.isfinite(Xs).all(axis=1)] = np.inf
        return cost

    X = X0.copy()
    best_cost = cost_of(X0, e0, valid.sum(axis=0) >= 2)
    def hypotheses():  # (X (N, 3), usable (N,)) of each camera pair, one pair at a time
        if pairs is None:
            for m in pair_masks(C)[1:]:
                yield solve_normal(summed_normal(coef[m], basis[m])), valid[m].all(axis=0)
        else:
            n = np.arange(N)
            for a, b in pairs:
                yield pair_points(coef, basis, a, b), valid[a, n] & valid[b, n]

    for Xs, usable in hypotheses():
        cost = cost_of(Xs, errors_of(Xs), usable)
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
