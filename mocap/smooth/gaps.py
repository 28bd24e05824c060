"""Gap filling for ``(T, J, 3)`` trajectories (used by triangulation and smoothing)."""
from __future__ import annotations

import numpy as np
from scipy.interpolate import interp1d


def gap_runs(missing: np.ndarray) -> list[tuple[int, int]]:
    """``(T,)`` bool -> list of (start, stop) index ranges of consecutive True values."""
    m = np.concatenate([[False], missing, [False]]).astype(int)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


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


def unsure_fills(X: np.ndarray, missing: np.ndarray, fps: float, max_error: float = 0.03, share: float = 90.0) -> np.ndarray:
    """``(T, J)`` bool: the filled gaps of ``X (T, J, 3)`` metres (``missing (T, J)`` before filling) that are too
    long to trust for how fast each joint moves.

    A gap of ``D`` seconds bridged smoothly misses a joint accelerating at ``a`` m/s^2 by about ``a D^2 / 8``. ``a``
    is the ``share`` percentile of the joint's acceleration over the frames it was seen (a runner's feet: tens of
    m/s^2, a standing person's hips: a few); gaps whose ``a D^2 / 8`` exceeds ``max_error`` metres are marked.
    """
    T, J = missing.shape
    out = np.zeros((T, J), bool)
    if T < 3:
        return out
    acc = np.linalg.norm(X[2:] - 2 * X[1:-1] + X[:-2], axis=-1) * fps * fps  # (T-2, J) at frames 1..T-2
    seen = ~missing[2:] & ~missing[1:-1] & ~missing[:-2]
    for j in range(J):
        if not missing[:, j].any():
            continue
        a = np.percentile(acc[seen[:, j], j], share) if seen[:, j].any() else np.inf
        for s, e in gap_runs(missing[:, j]):
            D = (e - s + 1) / fps
            if a * D * D / 8 > max_error:
                out[s:e, j] = True
    return out
