"""Planted feet anchor a body's path: one translation per frame that stops planted feet from moving.

A single camera measures where a body is across the picture well and how far away it is badly: the learned
lifter's root wanders along the line of sight by centimetres from frame to frame, and a planted foot slides
with it. A foot that stands on the floor does not move, so while a foot is planted the body's translation is
known up to the foot's own pose: :func:`anchor_offsets` finds, for every frame, the smallest translation ``d_t``
(mostly along the camera ray, where the lifter is unsure) that keeps the planted feet still, is
smooth over time, and stays near the lifter where no foot is planted (a jump keeps its flight).

It is one sparse linear least-squares problem over the ``3 T`` offsets (SciPy). Shapes: positions ``(T, J, 3)``
metres, feet ``(T, F, 3)``, contacts ``(T, F)`` bool, offsets ``(T, 3)``.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

from .contacts import ONE_CAMERA_HEIGHTS, SPEEDS, across_ray


def ray_priors(root: np.ndarray, camera: np.ndarray, along_m: float = 0.15, across_m: float = 0.02) -> np.ndarray:
    """``(T, 3, 3)`` prior weights (inverse covariances, 1/m^2) of a one-camera root ``(T, 3)`` seen from
    ``camera (3,)``: unsure by ``along_m`` along the ray, ``across_m`` across it."""
    u = root - camera
    u = u / np.maximum(np.linalg.norm(u, axis=-1, keepdims=True), 1e-9)
    uu = u[:, :, None] * u[:, None, :]
    return uu / along_m ** 2 + (np.eye(3) - uu) / across_m ** 2


def level_priors(T: int, up: np.ndarray, horizontal_m: float = 1.0, vertical_m: float = 0.1) -> np.ndarray:
    """``(T, 3, 3)`` prior weights of a root with no trustworthy path (hip-centred 3D): free along the floor
    (``horizontal_m``), ``vertical_m`` up and down."""
    nn = np.outer(up, up)
    W = nn / vertical_m ** 2 + (np.eye(3) - nn) / horizontal_m ** 2
    return np.broadcast_to(W, (T, 3, 3)).copy()


def anchor_offsets(feet: np.ndarray, contacts: np.ndarray, fps: float, priors: np.ndarray,
                   *, still_mm: float = 3.0, accel: float = 3.0) -> np.ndarray:
    """``(T, 3)`` translations that keep planted feet still.

    Minimises, over ``d (T, 3)``: for each foot planted in frames t-1 and t, ``|Δfeet + Δd|^2 / still_mm^2``
    (a planted foot does not move); ``d_t^T priors_t d_t`` (stay near the input where it is trusted:
    :func:`ray_priors`, :func:`level_priors`); and ``|second difference of d|^2`` against ``accel`` m/s^2 (the
    correction itself is smooth: no pops). ``feet (T, F, 3)`` smooth positions (NaN: unknown), ``contacts (T, F)``.
    Frames without a planted foot follow from their neighbours and the prior: a
    flight keeps its arc. (Holding planted feet at one height as well was tried: with a lifter's depth error the
    floor found under them leans, and the height term then pushed bodies along the ray: fewer contacts found.)"""
    T = len(contacts)
    ok = np.isfinite(feet).all(-1) & contacts
    X = np.nan_to_num(feet)
    rows = _Rows(3 * T)
    t, f = np.nonzero(ok[1:] & ok[:-1])  # planted in t and t + 1: the difference d[t+1] - d[t], per axis
    a = np.tile(np.arange(3), len(t))
    cols = np.repeat(t, 3) * 3 + a
    s = 1.0 / (still_mm * 1e-3)
    rows.add(np.stack([cols + 3, cols], -1), np.tile([s, -s], (len(cols), 1)), -s * (X[t + 1, f] - X[t, f]).ravel())
    L = np.swapaxes(np.linalg.cholesky(priors), 1, 2)  # d^T W d = |L^T d|^2, W = L L^T: one row per (t, axis)
    rows.add(np.arange(3 * T)[:, None] // 3 * 3 + np.arange(3),
             L.reshape(3 * T, 3), np.zeros(3 * T))
    if T >= 3:  # second differences of each axis
        c = np.arange(3 * (T - 2))
        s = fps * fps / accel
        rows.add(np.stack([c, c + 3, c + 6], -1), np.tile([s, -2 * s, s], (len(c), 1)), np.zeros(len(c)))
    A, b = rows.matrix()
    return spsolve((A.T @ A).tocsc(), A.T @ b).reshape(T, 3)


class _Rows:
    """Rows of a sparse least-squares system over ``n`` unknowns: each block ``(R, K)`` columns and values, ``(R,)``
    right-hand sides."""

    def __init__(self, n: int):
        self.n, self.cols, self.vals, self.rhs = n, [], [], []

    def add(self, cols: np.ndarray, vals: np.ndarray, rhs: np.ndarray) -> None:
        if len(rhs):
            self.cols.append(np.asarray(cols).reshape(len(rhs), -1))
            self.vals.append(np.asarray(vals, float).reshape(len(rhs), -1))
            self.rhs.append(np.asarray(rhs, float))

    def matrix(self):
        r = np.concatenate([np.repeat(np.arange(len(b)), c.shape[1]) + o for c, b, o in
                            zip(self.cols, self.rhs, np.cumsum([0] + [len(b) for b in self.rhs[:-1]]))])
        A = sparse.csr_matrix((np.concatenate([v.ravel() for v in self.vals]),
                               (r, np.concatenate([c.ravel() for c in self.cols]))),
                              shape=(sum(len(b) for b in self.rhs), self.n))
        return A, np.concatenate(self.rhs)


class FootLock:
    """Causal planting for live: frame by frame, which feet are planted and the offset along the camera ray that
    keeps a planted foot from sliding in depth (the offline :func:`anchor_offsets`, one frame at a time: O(F)).

    A foot is planted when it is less than ``heights[0]`` above where it stands and slower than ``speeds[0]`` m/s
    across the line of sight, and stays planted while under ``heights[1]`` and ``speeds[1]`` (hysteresis, as
    :func:`~mocap.smooth.contacts.detect_contacts` offline). While a foot is planted its movement along the ray is
    taken out of the root; the offset then relaxes towards the lifter's own depth with time constant ``relax_s`` (the
    lifter stays in charge of where the body is over seconds). Positions Y-up metres, the camera at ``camera``."""

    def __init__(self, standing: np.ndarray, floor_y: float, camera=(0.0, 0.0, 0.0), heights=ONE_CAMERA_HEIGHTS,
                 *, speeds=SPEEDS, relax_s: float = 2.0):
        self.standing = np.asarray(standing, float)  # (F,) each foot's standing height above the floor
        self.floor_y, self.camera = float(floor_y), np.asarray(camera, float)
        self.heights, self.speeds, self.relax_s = heights, speeds, relax_s
        self.planted = np.zeros(len(self.standing), bool)
        self.offset = 0.0  # m along the root's ray
        self._last = None

    def step(self, feet: np.ndarray, root: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """``feet (F, 3)`` and ``root (3,)`` of this frame (before correction), ``dt`` s since the last ->
        ``(planted (F,) bool, offset (3,) m to add to every joint)``."""
        u = root - self.camera
        u = u / max(float(np.linalg.norm(u)), 1e-9)
        feet = np.asarray(feet, float)
        h = feet[:, 1] - self.floor_y - self.standing
        if self._last is None:
            speed = np.zeros(len(feet))
            moved = np.zeros(len(feet))
        else:
            speed = across_ray((feet - self._last) / max(dt, 1e-3), feet, self.camera)
            moved = (feet - self._last) @ u  # depth movement of each foot along the root's ray
        ok = np.isfinite(h) & np.isfinite(speed)
        hold = ok & (h < self.heights[1]) & (speed < self.speeds[1])
        start = ok & (h < self.heights[0]) & (speed < self.speeds[0])
        was = self.planted
        self.planted = np.where(was, hold, start)
        both = self.planted & was & np.isfinite(moved)
        self.offset *= float(np.exp(-dt / self.relax_s))
        if both.any():
            self.offset -= float(moved[both].mean())
        self._last = feet
        return self.planted.copy(), self.offset * u
