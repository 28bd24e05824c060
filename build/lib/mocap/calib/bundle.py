"""Bundle adjustment of camera poses and scene structure (scipy ``least_squares``, sparse Jacobian).

Observations are undistorted normalised image points (the intrinsics are known), residuals are
in pixels (normalised error x focal length), the loss is robust (soft-L1 by default), so a few
misdetected corners or keypoints do not pull the solution. The structure is either

- **board poses**: each view ``v`` places the board's object points in the world, ``X = R_v o + t_v``;
- **free points**: each point is 3 parameters (e.g. a person's joints, frame by frame).

Cameras: ``(C, 6)`` = world->camera rotation vector and translation (metres); camera
``fixed`` keeps its pose (it defines the world frame). Everything is vectorised over observations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.sparse import lil_matrix
from scipy.spatial.transform import Rotation

from ..core.rotations import rotate_vectors


@dataclass
class Observations:
    """``cam (N,)`` camera index, ``point (N,)`` structure point index, ``xy (N, 2)`` undistorted
    normalised coordinates, ``weight (N,)``."""

    cam: np.ndarray
    point: np.ndarray
    xy: np.ndarray
    weight: np.ndarray


@dataclass
class BundleResult:
    cameras: np.ndarray  # (C, 6)
    structure: np.ndarray  # (V, 6) board poses or (P, 3) points
    errors_px: np.ndarray  # (N,) reprojection error of each observation
    cost: tuple[float, float]


def bundle_adjust(cameras: np.ndarray, structure: np.ndarray, obs: Observations, focals: np.ndarray,
                  *, board_points: np.ndarray | None = None, fixed: int = 0, loss: str = "soft_l1",
                  scale_px: float = 1.0, keep_scale: bool = False, max_nfev: int = 100) -> BundleResult:
    """Refine ``cameras (C, 6)`` and ``structure`` (board poses ``(V, 6)`` when ``board_points (K, 3)``
    is given — observation ``point = v * K + k`` — else free points ``(P, 3)``).

    ``keep_scale`` adds one residual holding the distance between the fixed camera and the next
    one at its initial value (needed when nothing else fixes the scale, e.g. points from people).
    """
    cameras = np.asarray(cameras, float)
    structure = np.asarray(structure, float)
    C, S = len(cameras), len(structure)
    ds = structure.shape[1]
    free = np.array([c for c in range(C) if c != fixed])
    nc = 6 * len(free)
    K = None if board_points is None else np.asarray(board_points, float)
    sv = np.sqrt(np.asarray(obs.weight, float))
    f_obs = np.asarray(focals, float)[obs.cam]
    other = free[0] if len(free) else None
    base = _distance(cameras, fixed, other) if keep_scale and other is not None else None

    def unpack(x):
        cams = cameras.copy()
        cams[free] = x[:nc].reshape(-1, 6)
        return cams, x[nc:].reshape(S, ds)

    def world_points(st):
        if K is None:
            return st[obs.point]
        v, k = np.divmod(obs.point, len(K))
        return rotate_vectors(st[v, :3], K[k]) + st[v, 3:]

    def project(x):
        cams, st = unpack(x)
        Xc = rotate_vectors(cams[obs.cam, :3], world_points(st)) + cams[obs.cam, 3:]
        z = np.where(np.abs(Xc[:, 2]) > 1e-9, Xc[:, 2], 1e-9)
        return Xc[:, :2] / z[:, None], cams

    def fun(x):
        p, cams = project(x)
        r = ((p - obs.xy) * (f_obs * sv)[:, None]).ravel()
        if base is not None:
            r = np.append(r, 100.0 * (_distance(cams, fixed, other) - base) / base)
        return r

    pt = obs.point if K is None else obs.point // len(K)
    A = _sparsity(obs.cam, pt, C, free=free, S=S, ds=ds, scale_cam=other if base is not None else None)
    x0 = np.concatenate([cameras[free].ravel(), structure.ravel()])
    r0 = fun(x0)
    sol = least_squares(fun, x0, jac_sparsity=A, method="trf", loss=loss, f_scale=scale_px,
                        x_scale="jac", max_nfev=max_nfev, xtol=1e-10, ftol=1e-10,
                        tr_solver="lsmr", tr_options={"atol": 1e-12, "btol": 1e-12, "maxiter": 2000})
    cams, st = unpack(sol.x)
    p, _ = project(sol.x)
    err = np.linalg.norm((p - obs.xy) * f_obs[:, None], axis=-1)
    return BundleResult(cams, st, err, (float(0.5 * (r0 ** 2).sum()), float(sol.cost)))


def _sparsity(cam: np.ndarray, structure_of: np.ndarray, C: int, free: np.ndarray, *, S: int, ds: int,
              scale_cam: int | None):
    """Jacobian sparsity (CSR) of the bundle residuals: each observation's 2 rows depend on its
    camera's 6 parameters (unless fixed) and its structure element's ``ds``; the scale residual
    (``scale_cam`` not None) on that camera's parameters."""
    N, nc = len(cam), 6 * len(free)
    A = lil_matrix((2 * N + (scale_cam is not None), nc + S * ds), dtype=int)
    rows = np.arange(N)
    col_of = -np.ones(C, int)
    col_of[free] = np.arange(len(free)) * 6
    for k in range(6):
        m = col_of[cam] >= 0
        for o in (0, 1):
            A[2 * rows[m] + o, col_of[cam[m]] + k] = 1
    for k in range(ds):
        for o in (0, 1):
            A[2 * rows + o, nc + structure_of * ds + k] = 1
    if scale_cam is not None:
        A[2 * N, col_of[scale_cam]:col_of[scale_cam] + 6] = 1
    return A.tocsr()


def _distance(cams: np.ndarray, a: int, b: int) -> float:
    """Distance between the centres of cameras ``a`` and ``b`` of ``cams (C, 6)``."""
    c = camera_centers(cams[[a, b]])
    return np.linalg.norm(c[1] - c[0])


def camera_centers(cams: np.ndarray) -> np.ndarray:
    """``(C, 6)`` world->camera poses -> ``(C, 3)`` camera centres in the world."""
    R = Rotation.from_rotvec(cams[:, :3]).as_matrix()
    return -np.einsum("cji,cj->ci", R, cams[:, 3:])


def compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Poses ``(..., 6)`` as transforms: ``a o b`` (apply b, then a)."""
    Ra, Rb = Rotation.from_rotvec(a[..., :3]), Rotation.from_rotvec(b[..., :3])
    return np.concatenate([(Ra * Rb).as_rotvec(), Ra.apply(b[..., 3:]) + a[..., 3:]], -1)


def invert(a: np.ndarray) -> np.ndarray:
    """Inverse of poses ``(..., 6)``."""
    Ri = Rotation.from_rotvec(a[..., :3]).inv()
    return np.concatenate([Ri.as_rotvec(), -Ri.apply(a[..., 3:])], -1)
