"""Quality metrics for 3D motion (used by tests and CLI summaries)."""
from __future__ import annotations

import warnings

import numpy as np

from ..core.kinematics import bone_lengths


def jitter(x: np.ndarray, fps: float) -> float:
    """Mean joint acceleration magnitude, units of x per s^2 (``x``: ``(T, J, 3)``)."""
    a = np.diff(x, n=2, axis=0) * fps * fps
    return float(np.nanmean(np.linalg.norm(a, axis=-1)))


def lag(reference: np.ndarray, signal_: np.ndarray, max_lag: int = 30) -> int:
    """Frames by which ``signal_`` trails ``reference`` (positive = late), by cross-correlation of
    the mean-removed, NaN-zeroed series summed over all columns."""
    r = np.nan_to_num(reference - np.nanmean(reference, axis=0)).reshape(len(reference), -1)
    s = np.nan_to_num(signal_ - np.nanmean(signal_, axis=0)).reshape(len(signal_), -1)
    T = len(r)
    best, best_k = -np.inf, 0
    for k in range(-max_lag, max_lag + 1):
        a, b = (r[: T - k], s[k:]) if k >= 0 else (r[-k:], s[: T + k])
        c = float((a * b).sum())
        if c > best:
            best, best_k = c, k
    return best_k


def bone_length_cv(positions: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """``(B,)`` coefficient of variation (std / mean) of each bone's length over frames (NaN for a
    bone never seen)."""
    L = bone_lengths(positions, bones)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: a joint never seen
        return np.nanstd(L, axis=0) / np.nanmean(L, axis=0)
