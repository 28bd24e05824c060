"""Gap filling for ``(T, J, 3)`` trajectories (used by triangulation and smoothing)."""
from __future__ import annotations

import numpy as np
from scipy.interpolate import interp1d

from ..core.kinematics import bone_neighbours


def gap_runs(missing: np.ndarray) -> list[tuple[int, int]]:
    """``(T,)`` bool -> list of (start, stop) index ranges of consecutive True values."""
    m = np.concatenate([[False], missing, [False]]).astype(int)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def linear_bridges(present: np.ndarray, max_gap: int):
    """The gaps of at most ``max_gap`` frames along T that a straight line can bridge, vectorised over any leading
    axes: ``present (..., T, J)`` bool -> ``fill (..., T, J)`` bool (the points bridged: missing, seen before and
    after), ``prev`` / ``next (..., T, J)`` int (the frames seen either side, clipped to ``[0, T)``) and ``w (..., T,
    J)`` (the weight of ``next``: ``(t - prev) / (next - prev)``)."""
    T = present.shape[-2]
    idx = np.broadcast_to(np.arange(T)[:, None], present.shape)
    prev = np.maximum.accumulate(np.where(present, idx, -1), axis=-2)
    nxt = np.flip(np.minimum.accumulate(np.flip(np.where(present, idx, T), -2), axis=-2), -2)
    fill = ~present & (prev >= 0) & (nxt < T) & (nxt - prev - 1 <= max_gap)
    w = (idx - prev) / np.maximum(nxt - prev, 1)
    return fill, np.clip(prev, 0, T - 1), np.clip(nxt, 0, T - 1), w


def fill_gaps(positions: np.ndarray, max_gap: int, kind: str = "cubic", extrapolate: bool = False):
    """Interpolate runs of NaN frames no longer than ``max_gap`` frames, per joint.

    positions: ``(T, J, D)``; kind: any ``scipy.interpolate.interp1d`` kind ("linear", "cubic", ...).
    With ``extrapolate``, short runs at the start/end are extrapolated (Pose2Sim's behaviour).
    Returns ``(filled (T, J, D), filled_mask (T, J))``; longer gaps stay NaN.
    """
    out = np.array(positions, dtype=float)
    T, J = out.shape[:2]
    filled = np.zeros((T, J), bool)
    t = np.arange(T)
    order = {"linear": 1, "slinear": 1, "quadratic": 3, "cubic": 4}.get(kind, 2)
    for j in range(J):
        miss = ~np.isfinite(out[:, j]).all(axis=-1)
        good = ~miss
        if not miss.any() or good.sum() < max(2, order):
            continue
        runs = [(a, b) for a, b in gap_runs(miss) if b - a <= max_gap and (extrapolate or (a > 0 and b < T))]
        if not runs:
            continue
        f = interp1d(t[good], out[good, j], kind=kind, axis=0, bounds_error=False,
                     fill_value="extrapolate" if extrapolate else np.nan)
        for a, b in runs:
            out[a:b, j] = f(t[a:b])
            filled[a:b, j] = True
    return out, filled


def unsure_fills(X: np.ndarray, missing: np.ndarray, bones: np.ndarray | None = None, max_error: float = 0.15,
                 *, share: float = 75.0) -> np.ndarray:
    """``(T, J)`` bool: the filled gaps of ``X (T, J, 3)`` metres (``missing (T, J)`` before filling) that are too
    long to trust for how the joint moves.

    A straight bridge over ``n`` frames misses the joint at its middle by ``|X(t+h) + X(t-h) - 2 X(t)| / 2`` with
    ``h = (n + 1) / 2``: measured over every frame ``t`` where the joint was seen at ``t`` and ``t +- h``, its
    ``share`` percentile is what such a gap costs this joint (a runner's foot over 0.2 s: decimetres; a hip:
    millimetres). Where a bone (``bones (B, 2)``) ties the joint to a neighbour known throughout the gap, the same is
    measured on the joint's offset from that neighbour when smaller (a hand on a known forearm). Gaps costing more
    than ``max_error`` metres are marked (the refinement, with bones and smoothness, does better than a straight
    bridge: this errs on the side of leaving a gap).
    """
    T, J = missing.shape
    out = np.zeros((T, J), bool)
    neighbours = bone_neighbours(np.zeros((0, 2), int) if bones is None else bones, J)[0]  # (J, K), -1 padded
    cache = {}

    def cost(j, k, h):  # the share percentile of the midpoint miss of a bridge of half-length h
        if (j, k, h) not in cache:
            P = X[:, j] - (X[:, k] if k is not None else 0.0)
            ok = ~missing[:, j] & (~missing[:, k] if k is not None else True)
            both = ok[2 * h:] & ok[h:T - h] & ok[: T - 2 * h]
            m = 0.5 * np.linalg.norm(P[2 * h:] + P[: T - 2 * h] - 2 * P[h:T - h], axis=-1)[both]
            cache[j, k, h] = np.percentile(m, share) if m.size else np.inf
        return cache[j, k, h]

    for j in range(J):
        for s, e in gap_runs(missing[:, j]):
            h = max(1, int(round((e - s + 1) / 2)))
            if 2 * h >= T:
                out[s:e, j] = True
                continue
            miss = min([cost(j, None, h)] + [cost(j, k, h) for k in neighbours[j] if k >= 0 and not missing[s:e, k].any()])
            out[s:e, j] = miss > max_error
    return out
