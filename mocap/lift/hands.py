"""Finger shapes from one camera's 2D hand keypoints: an articulated hand fitted to them, frame by frame.

The hand (:func:`hand_points`) is the rig's template hand (:data:`mocap.retarget.rigs.HAND_TEMPLATE`, scaled) with
24 parameters: its turn (axis-angle, palm frame -> camera), its distance from the camera (log of depth), each
finger's spread and its three joints' flexion (towards the palm), and the thumb's direction (two angles) with the
flexion of its two outer joints. :func:`fit_hands` fits all hands of all frames at once by Levenberg-Marquardt on
the confidence-weighted reprojection error of the 20 finger points (the wrist fixes where the hand is), with the
flexion held in a hand's range (:data:`mocap.core.hands.HINGE_LIMITS_DEG`, the knuckles 0-90 deg) and weak priors
towards a relaxed hand; it starts from the palm towards and away from the camera and keeps the better. What one view
cannot tell (a finger bent towards or away from the camera) is decided by the range: fingers do not bend backwards.

Shapes: keypoints ``(N, 21, 3)`` px + confidence per hand; results ``(N, 21, 3)`` metres, camera axes (x right,
y down, z away), relative to the hand's wrist.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from ..core.hands import HINGE_LIMITS_DEG
from ..core.rotations import unit
from ..retarget.rigs import FINGER_DIRECTIONS, HAND_TEMPLATE, HandShape

N_PARAMS = 24  # turn 3, log depth 1, spread 4, flexion 4 x 3, thumb direction 2 + flexion 2
KNUCKLE_DEG = (-20.0, 90.0)  # a finger's base joint: a little backwards, a right angle in
REST_SPREAD = np.arctan2(FINGER_DIRECTIONS[1:, 1], FINGER_DIRECTIONS[1:, 0])  # (4,) index .. little, rad
LOWER = np.radians([KNUCKLE_DEG[0]] + [HINGE_LIMITS_DEG[k][0] for k in (1, 2)])
UPPER = np.radians([KNUCKLE_DEG[1]] + [HINGE_LIMITS_DEG[k][1] for k in (1, 2)])


def hand_points(params: np.ndarray, side: str, shape: HandShape = HAND_TEMPLATE) -> np.ndarray:
    """``(N, 21, 3)`` metres in camera axes relative to the wrist, :data:`~mocap.core.skeletons.HAND_21` order, of
    hands of ``side`` with ``params (N, 24)`` (see the module) and rest ``shape`` (palm frame: x towards the middle
    finger, y towards the thumb, z out of the back of a right hand; a left hand is its mirror image)."""
    N = len(params)
    z = np.array([0.0, 0.0, 1.0])
    P = np.zeros((N, 21, 3))
    spread, flex = params[:, 4:8], params[:, 8:20].reshape(N, 4, 3)
    for f in range(4):
        a = REST_SPREAD[f] + spread[:, f]
        d = np.stack([np.cos(a), np.sin(a), np.zeros(N)], -1)  # (N, 3) in the palm plane
        phi = np.cumsum(flex[:, f], axis=1)[..., None]  # (N, 3, 1)
        steps = shape.lengths[f + 1][:, None] * (np.cos(phi) * d[:, None] - np.sin(phi) * z)
        P[:, 5 + 4 * f] = shape.bases[f + 1]
        P[:, 6 + 4 * f:9 + 4 * f] = shape.bases[f + 1] + np.cumsum(steps, axis=1)
    th, el = params[:, 20] + np.pi / 4, params[:, 21] + np.radians(30.0)  # the thumb: across the palm, below it
    d = np.stack([np.cos(el) * np.cos(th), np.cos(el) * np.sin(th), -np.sin(el)], -1)
    n = unit(z - d[:, 2:3] * d)  # the palm's normal, square to the thumb
    phi = np.cumsum(params[:, 22:24], axis=1)[..., None]
    steps = shape.lengths[0][1:, None] * (np.cos(phi) * d[:, None] - np.sin(phi) * n[:, None])
    P[:, 1] = shape.bases[0]
    P[:, 2] = shape.bases[0] + shape.lengths[0][0] * d
    P[:, 3:5] = P[:, 2:3] + np.cumsum(steps, axis=1)
    if side == "left":
        P[..., 1] *= -1.0
    return np.einsum("nij,nkj->nki", Rotation.from_rotvec(params[:, :3]).as_matrix(), P)


def _project(params, side, shape, wrist_ray):
    """``(N, 20, 2)`` normalised image points of the finger points (the wrist on its ray at the hand's depth)."""
    X = hand_points(params, side, shape) + (np.exp(params[:, 3])[:, None] * wrist_ray)[:, None]
    return X[:, 1:, :2] / X[:, 1:, 2:3]


def _residuals(params, fit: tuple):
    """``(N, 40 + 24)``: weighted reprojection errors (normalised units / 0.002, about 4 px at 1920 px) and priors;
    ``fit`` = (observed points ``(N, 20, 2)`` normalised, weights ``(N, 20)``, side, shape, wrist rays ``(N, 3)``)."""
    obs, w, side, shape, wrist_ray = fit
    r = (_project(params, side, shape, wrist_ray) - obs) * np.sqrt(w)[..., None] / 0.002
    prior = np.concatenate([np.zeros((len(params), 4)), params[:, 4:8] / np.radians(10.0),
                            (params[:, 8:20] - np.radians(20.0)) / np.radians(60.0),
                            params[:, 20:22] / np.radians(30.0), (params[:, 22:24] - np.radians(15.0)) / np.radians(60.0)],
                           axis=1)
    return np.concatenate([r.reshape(len(params), -1), prior], axis=1)


def _clip(params):
    flex = params[:, 8:20].reshape(-1, 4, 3)
    params[:, 8:20] = np.clip(flex, LOWER, UPPER).reshape(-1, 12)
    params[:, 22:24] = np.clip(params[:, 22:24], np.radians(-20.0), np.radians(90.0))
    params[:, 3] = np.clip(params[:, 3], -3.0, 5.0)  # 5 cm to 150 m from the camera
    return params


def _levenberg_marquardt(params, fit: tuple, iterations: int = 40):
    """Batched LM with a forward-difference Jacobian: every hand solved at once."""
    lam = np.full(len(params), 1e-2)
    r = _residuals(params, fit)
    cost = (r ** 2).sum(1)
    eps = 1e-5
    for _ in range(iterations):
        J = np.stack([(_residuals(params + eps * np.eye(N_PARAMS)[k], fit) - r) / eps for k in range(N_PARAMS)], -1)
        H = np.einsum("nri,nrj->nij", J, J)
        g = np.einsum("nri,nr->ni", J, r)
        step = np.linalg.solve(H + lam[:, None, None] * (np.eye(N_PARAMS) * np.diagonal(H, axis1=1, axis2=2)[:, None]
                                                         + 1e-9 * np.eye(N_PARAMS)), -g[..., None])[..., 0]
        trial = _clip(params + step)
        rt = _residuals(trial, fit)
        ct = (rt ** 2).sum(1)
        better = ct < cost
        params = np.where(better[:, None], trial, params)
        r, cost = np.where(better[:, None], rt, r), np.where(better, ct, cost)
        lam = np.clip(np.where(better, lam / 3, lam * 4), 1e-7, 1e7)
    return params, cost


def _start(obs, w, wrist, shape, *, palm_to_camera: bool) -> np.ndarray:
    """Initial parameters: a relaxed hand in the image plane, along the wrist -> knuckles direction, the palm
    towards the camera or away, at the depth its template size gives."""
    N = len(obs)
    knuckles = np.nansum(obs[:, [4, 8, 12, 16]] * w[:, [4, 8, 12, 16], None], 1) / np.maximum(
        w[:, [4, 8, 12, 16]].sum(1), 1e-9)[:, None]  # the 4 finger bases (obs excludes the wrist)
    x2 = knuckles - wrist[:, :2]
    length = np.maximum(np.linalg.norm(x2, axis=-1), 1e-4)
    x = np.concatenate([x2 / length[:, None], np.zeros((N, 1))], 1)
    z = np.tile([0.0, 0.0, -1.0 if palm_to_camera else 1.0], (N, 1))  # out of the back of the hand
    y = np.cross(z, x)
    R = np.stack([x, y, z], -1)  # palm frame -> camera
    p = np.zeros((N, N_PARAMS))
    p[:, :3] = Rotation.from_matrix(R).as_rotvec()
    p[:, 3] = np.log(np.linalg.norm(shape.bases[2]) / length)  # depth (in wrist-ray lengths) from the palm's size
    p[:, 8:20] = np.radians(20.0)
    return p


def fit_hands(keypoints: np.ndarray, K: np.ndarray, side: str, *, shape: HandShape = HAND_TEMPLATE,
              min_points: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Fit the hand model to ``keypoints (N, 21, 3)`` (px, confidence) of hands of ``side`` seen by a camera of
    intrinsics ``K (3, 3)``: ``(N, 21, 3)`` metric points (camera axes, relative to the wrist; NaN for hands with
    fewer than ``min_points`` confident points or no wrist) and ``(N,)`` the fit's RMS reprojection error, px."""
    kp = np.asarray(keypoints, float)
    N = len(kp)
    out, rms = np.full((N, 21, 3), np.nan), np.full(N, np.nan)
    conf = np.where(np.isfinite(kp[..., :2]).all(-1), np.nan_to_num(kp[..., 2]), 0.0)
    ok = (conf[:, 0] > 0) & ((conf[:, 1:] > 0).sum(1) >= min_points)
    if not ok.any():
        return out, rms
    Kinv = np.linalg.inv(K)
    pts = np.einsum("ij,nkj->nki", Kinv, np.concatenate([np.nan_to_num(kp[ok, :, :2]), np.ones((ok.sum(), 21, 1))], -1))
    wrist_ray, obs, w = pts[:, 0], pts[:, 1:, :2], conf[ok, 1:]
    fit = (obs, w, side, shape, wrist_ray)
    best, best_cost = None, None
    for palm in (True, False):
        p, c = _levenberg_marquardt(_start(obs, w, wrist_ray, shape, palm_to_camera=palm), fit)
        if best is None:
            best, best_cost = p, c
        else:
            better = c < best_cost
            best, best_cost = np.where(better[:, None], p, best), np.where(better, c, best_cost)
    out[ok] = hand_points(best, side, shape)
    r = (_project(best, side, shape, wrist_ray) - obs) * (w > 0)[..., None]
    rms[ok] = np.sqrt((r ** 2).sum((1, 2)) / np.maximum((w > 0).sum(1), 1)) * K[0, 0]
    return out, rms
