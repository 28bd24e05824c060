"""Rotations and frames as batched numpy: small pure functions, one idea each.

Conventions: rotation matrices act on column vectors (``R @ v``), batched over leading dimensions
``(..., 3, 3)``; angles in radians; axis-angle vectors ``(..., 3)`` = unit axis x angle (OpenCV's
Rodrigues vectors). Cameras are OpenCV (x right, y down, z forward), ``x_cam = R X_world + t``.
"""
from __future__ import annotations

import numpy as np


def unit(v: np.ndarray) -> np.ndarray:
    """``(..., 3)`` vectors scaled to length 1 (NaN for zero vectors)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def skew(v: np.ndarray) -> np.ndarray:
    """``(..., 3)`` -> ``(..., 3, 3)`` cross-product matrices: ``skew(a) @ b == cross(a, b)``."""
    v = np.asarray(v, float)
    z = np.zeros(v.shape[:-1])
    return np.stack([np.stack([z, -v[..., 2], v[..., 1]], -1), np.stack([v[..., 2], z, -v[..., 0]], -1),
                     np.stack([-v[..., 1], v[..., 0], z], -1)], -2)


def axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """``(..., 3)`` unit axes, ``(...)`` radians -> ``(..., 3, 3)`` rotation matrices (Rodrigues)."""
    K = skew(axis)
    s, c = np.sin(angle)[..., None, None], np.cos(angle)[..., None, None]
    return np.eye(3) + s * K + (1 - c) * (K @ K)


def rotate_vectors(rvecs: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Rotate points ``X (..., 3)`` by axis-angle vectors ``rvecs (..., 3)`` (Rodrigues' formula,
    without forming matrices; a zero vector leaves the point as it is)."""
    th = np.linalg.norm(rvecs, axis=-1, keepdims=True)
    k = rvecs / np.where(th > 1e-12, th, 1.0)
    c, s = np.cos(th), np.sin(th)
    return X * c + np.cross(k, X) * s + k * (k * X).sum(-1, keepdims=True) * (1 - c)


def swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` smallest rotation taking unit vectors ``a`` to ``b`` (about an axis
    perpendicular to ``a`` when they are opposite)."""
    v = np.cross(a, b)
    c = (a * b).sum(-1)
    K = skew(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        R = np.eye(3) + K + (K @ K) / (1 + c)[..., None, None]
    opp = c < -1 + 1e-9
    if opp.any():
        perp = np.cross(a[opp], np.where(np.abs(a[opp, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]]))
        R[opp] = axis_angle(unit(perp), np.full(int(opp.sum()), np.pi))
    return R


def look_at(center: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``(..., 3)`` camera centres, targets and world up -> ``(..., 3, 3)`` world->camera rotations
    (OpenCV axes: z towards the target, x = z x up to the right, y = z x x down)."""
    z = unit(np.asarray(target, float) - center)
    x = unit(np.cross(z, np.broadcast_to(up, z.shape)))
    return np.stack([x, np.cross(z, x), z], axis=-2)


def roll_matrices(roll: np.ndarray) -> np.ndarray:
    """``(B,)`` rad -> ``(B, 3, 3)`` rotations about a camera's optical axis (z): a camera rolled by
    ``roll`` sees ``roll_matrices(roll) @ X`` for the camera-frame points ``X`` it saw before."""
    c, s = np.cos(roll), np.sin(roll)
    Rz = np.zeros(np.shape(roll) + (3, 3))
    Rz[..., 0, 0], Rz[..., 0, 1], Rz[..., 1, 0], Rz[..., 1, 1], Rz[..., 2, 2] = c, -s, s, c, 1
    return Rz


def look_at_y(center: np.ndarray, target: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """``(B, 3)`` camera centres and targets in a Y-up world, ``(B,)`` roll rad -> ``(B, 3, 3)``
    world->camera rotations (:func:`look_at`, then rolled about the optical axis)."""
    return roll_matrices(roll) @ look_at(center, target, np.array([0.0, 1.0, 0.0]))


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``(N, J, 3)`` -> ``(N, J, 3)``: each ``pred`` moved onto its ``gt`` by the best similarity
    (rotation, uniform scale, translation; least squares, reflections excluded)."""
    p, g = pred - pred.mean(1, keepdims=True), gt - gt.mean(1, keepdims=True)
    U, S, Vt = np.linalg.svd(np.einsum("nji,njk->nik", p, g))
    D = np.ones((len(p), 3))
    D[:, -1] = np.sign(np.linalg.det(U @ Vt))
    R = U @ (D[:, :, None] * Vt)  # p @ R ~ g
    scale = (S * D).sum(1) / (p ** 2).sum((1, 2))
    return scale[:, None, None] * (p @ R) + gt.mean(1, keepdims=True)
