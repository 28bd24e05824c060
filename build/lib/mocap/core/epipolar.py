"""Two calibrated views of one point: essential matrices and epipolar distances.

Small pure functions over batched arrays. Coordinates are undistorted and normalised (``x = X_c[:2] / X_c[2]`` in the
camera frame); a camera's pose is ``x_c = R x_w + t``. ``E[a, b]`` maps a point of camera ``a`` to its epipolar line
in camera ``b``: ``x_b^T E[a, b] x_a = 0``.
"""
from __future__ import annotations

import numpy as np

from .rotations import skew


def essential_matrices(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``R (C, 3, 3)``, ``t (C, 3)`` world -> camera poses -> ``(C, C, 3, 3)`` essential matrices ``E[a, b] =
    [t_ab]_x R_ab`` with ``R_ab = R_b R_a^T``, ``t_ab = t_b - R_ab t_a`` (zero on the diagonal)."""
    R, t = np.asarray(R, float), np.asarray(t, float)
    Rab = R[None] @ np.swapaxes(R, 1, 2)[:, None]  # (a, b): R_b R_a^T
    tab = t[None] - np.einsum("abij,aj->abi", Rab, t)  # t_b - R_ab t_a
    E = skew(tab) @ Rab
    E[np.arange(len(R)), np.arange(len(R))] = 0.0
    return E


def _homogeneous(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.ones(x.shape[:-1] + (1,))], -1)


def signed_epipolar(xa: np.ndarray, xb: np.ndarray, E: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance (normalised units) of ``xb (..., 2)`` to the epipolar line of ``xa (..., 2)`` in camera b
    (``E`` from a to b), and that line's unit normal ``(..., 2)`` (a motion of ``xb`` along it changes the distance
    one to one)."""
    line = _homogeneous(xa) @ E.T
    n = np.hypot(line[..., 0], line[..., 1])
    return (xb[..., 0] * line[..., 0] + xb[..., 1] * line[..., 1] + line[..., 2]) / n, line[..., :2] / n[..., None]


def epipolar_px(xa: np.ndarray, xb: np.ndarray, E: np.ndarray, fa: float, *, fb: float) -> np.ndarray:
    """Symmetric epipolar distance, px: ``xa``, ``xb`` ``(..., 2)`` (broadcast) of the same point in cameras a and b
    (``E`` from a to b, focal lengths ``fa``, ``fb`` px) -> ``(...)`` the mean of each point's distance to the other's
    epipolar line."""
    ha, hb = _homogeneous(xa), _homogeneous(xb)
    lb = ha @ E.T  # lines in b
    la = hb @ E  # lines in a
    r = np.einsum("...k,...k->...", hb, lb)
    return 0.5 * (fb * np.abs(r) / np.hypot(lb[..., 0], lb[..., 1]) + fa * np.abs(r) / np.hypot(la[..., 0], la[..., 1]))
