"""Spatiotemporal refinement: all frames at once, constant bone lengths, smooth without lag.

Minimises, over every joint position of every frame (and the bone lengths):

- data: confidence-weighted, robust (soft-L1) reprojection error in pixels of the inlier views
  (multi-view), or robust distance to the raw 3D (monocular);
- smoothness: joint acceleration (a symmetric second difference: zero phase, no lag);
- constant bone lengths: ``|X_a - X_b| - L_b`` in every frame; lengths given (a rig) or measured robustly on
  the input: the median over the frames where both ends are well supported (three or more inlier views, or a
  target weight), never a mean over everything (a few gross points would lengthen a limb).

Solver: Gauss-Newton (Levenberg-Marquardt damped) with iteratively reweighted soft-L1, whose normal
equations are solved by
preconditioned conjugate gradients. The preconditioner is exact for everything but the coupling of
joints through bones: one banded Cholesky factor per joint over the whole sequence (bandwidth 6),
so the whole sequence is solved at once, without chunks. Everything else is vectorised numpy;
the result is deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.linalg import cholesky_banded
from scipy.linalg.lapack import dpbtrs

from ..core.camera import camera_coordinates
from ..core.kinematics import robust_bone_lengths
from ..errors import MocapError
from .contacts import detect_contacts, estimate_floor
from .gaps import fill_gaps, gap_runs, unsure_fills


@dataclass
class RefineResult:
    """positions ``(T, J, 3)`` metres (NaN in gaps longer than the maximum); bone_lengths ``(B,)`` m and
    bone_frames ``(B,)`` the frames each length was measured on (0 when given); filled ``(T, J)`` points that
    were missing and are now estimated; iterations (Gauss-Newton); cost ``[initial, final]``."""

    positions: np.ndarray
    bone_lengths: np.ndarray
    filled: np.ndarray
    iterations: int
    cost: tuple[float, float]
    empty_joints: tuple[int, ...] = ()  # joints never known in any frame: left NaN, not refined
    bone_frames: np.ndarray | None = None
    contacts: np.ndarray | None = None  # (T, F) planted feet (refine(feet=...)), else None
    floor: tuple | None = None  # (normal (3,), offset m) under the feet


def _init(X0: np.ndarray, max_gap: int):
    """Every gap bridged linearly (the solver needs numbers) and the mask of gaps too long to trust."""
    X = np.array(X0, dtype=float)
    missing = ~np.isfinite(X).all(-1)
    long_gap = np.zeros_like(missing)
    for j in range(X.shape[1]):
        for a, b in gap_runs(missing[:, j]):
            if b - a > max_gap:
                long_gap[a:b, j] = True
    X, _ = fill_gaps(X, X.shape[0], "linear", extrapolate=False)
    for j in range(X.shape[1]):  # leading/trailing gaps: hold the nearest known value
        good = np.flatnonzero(np.isfinite(X[:, j]).all(-1))
        X[: good[0], j] = X[good[0], j]
        X[good[-1] + 1:, j] = X[good[-1], j]
    return X, missing, long_gap


def _d2t_d2(v: np.ndarray, wT: np.ndarray, scale: float) -> np.ndarray:
    """``scale * D2^T W D2 v`` along axis 1 of a joint-major ``v (J, T, 3)``, ``wT (J, T-2)`` the weights (the
    layout of the gradient and the conjugate-gradient loop: each joint's sequence contiguous)."""
    a = v[:, 2:] - 2 * v[:, 1:-1] + v[:, :-2]
    a *= (scale * wT)[..., None]
    out = np.zeros_like(v)
    out[:, 2:] += a
    out[:, 1:-1] -= 2 * a
    out[:, :-2] += a
    return out


def _acc_band(wT: np.ndarray, scale2: float) -> np.ndarray:
    """Lower banded form ``(3, J, T)`` of ``scale2 * D2^T W D2`` for each joint's length-T series, ``wT (J, T-2)``
    the weights of the second differences."""
    J, T = wT.shape[0], wT.shape[1] + 2
    wj = wT * scale2
    band = np.zeros((3, J, T))
    band[0, :, :-2] += wj
    band[0, :, 1:-1] += 4 * wj
    band[0, :, 2:] += wj
    band[1, :, :-2] -= 2 * wj
    band[1, :, 1:-1] -= 2 * wj
    band[2, :, :-2] += wj
    return band


class _Problem:
    """Residuals, cost and Gauss-Newton pieces for one refinement problem (see :func:`refine`)."""

    def __init__(self, T, J, bones, acc_scale, *, bone_sigma, data, acc_weight=None, acc_robust=None):
        self.T, self.J = T, J
        self.acc_weight = np.ones((T - 2, J)) if acc_weight is None else acc_weight  # (T-2, J)
        self.acc_robust = acc_robust  # soft-L1 scale of the acceleration term, in sigmas (None: quadratic)
        self.bones = bones
        self.acc_scale = acc_scale
        self.bone_sigma = bone_sigma
        self.data = data  # callable X -> (cost, H (T,J,3,3), g (T,J,3)) with IRLS weights

    def _acc_sq(self, X):
        """``(T-2, J)`` squared acceleration in sigmas."""
        a = (X[2:] - 2 * X[1:-1] + X[:-2]) * self.acc_scale
        return (a * a).sum(-1)

    def acc_weights(self, X):
        """``(T-2, J)`` IRLS weights of the acceleration terms at ``X``: the fixed ones times soft-L1's (a foot
        strike's acceleration is real: it is penalised linearly, not quadratically, beyond ``acc_robust``)."""
        if self.acc_robust is None:
            return self.acc_weight
        return self.acc_weight / np.sqrt(1.0 + self._acc_sq(X) / self.acc_robust ** 2)

    def cost(self, X, L):
        c = self.data(X, need_grad=False)[0]
        sq = self._acc_sq(X)
        if self.acc_robust is not None:
            k2 = self.acc_robust ** 2
            sq = 2.0 * k2 * (np.sqrt(1.0 + sq / k2) - 1.0)
        d = X[:, self.bones[:, 1]] - X[:, self.bones[:, 0]]
        r = (np.linalg.norm(d, axis=-1) - L) / self.bone_sigma
        return c + (self.acc_weight * sq).sum() + (r * r).sum()

    def step(self, X, L, damping=0.0, cg_iters=60, *, cg_tol=1e-3):
        """Gauss-Newton step ``dx (T, J, 3)``: the damped normal equations solved by conjugate
        gradients, preconditioned by one banded Cholesky factor per joint. Internally joint-major
        ``(J, T, 3)``, so that each joint's whole sequence is contiguous for its banded solve."""
        w = self.acc_weights(X)
        wT = np.ascontiguousarray(w.T)
        g, Hd, Hdiag, u = self._gradient_and_blocks(X, L, damping, wT)
        s2, inv_s2 = self.acc_scale ** 2, 1.0 / self.bone_sigma ** 2
        b0, b1 = self.bones[:, 0], self.bones[:, 1]

        def matvec(v):
            out = (Hd[..., 0] * v[..., 0:1] + Hd[..., 1] * v[..., 1:2] + Hd[..., 2] * v[..., 2:3])
            out += _d2t_d2(v, wT, s2)
            sv = (u * (v[b1] - v[b0])).sum(-1, keepdims=True) * u * inv_s2
            for i, (a, b) in enumerate(self.bones):
                out[b] += sv[i]
                out[a] -= sv[i]
            return out

        return _pcg(matvec, self._preconditioner(Hdiag, wT), g, cg_iters, tol=cg_tol).transpose(1, 0, 2)

    def _gradient_and_blocks(self, X, L, damping, wT):
        """Joint-major gradient ``g (J, T, 3)``, the data term's damped 3x3 blocks ``Hd (J, T, 3, 3)``,
        the same with the bone terms' diagonal blocks added (for the preconditioner), and the bones'
        unit directions ``(B, T, 3)``; ``wT (J, T-2)`` the acceleration terms' weights."""
        _, Hd, g = self.data(X, need_grad=True)
        Xj = np.ascontiguousarray(X.transpose(1, 0, 2))  # (J, T, 3)
        g = np.ascontiguousarray(g.transpose(1, 0, 2)) + _d2t_d2(Xj, wT, self.acc_scale ** 2)
        Hd = np.ascontiguousarray(Hd.transpose(1, 0, 2, 3))  # (J, T, 3, 3)
        b0, b1 = self.bones[:, 0], self.bones[:, 1]
        d = (X[:, b1] - X[:, b0]).transpose(1, 0, 2)  # (B, T, 3)
        n = np.linalg.norm(d, axis=-1, keepdims=True)
        u = d / np.maximum(n, 1e-9)
        inv_s2 = 1.0 / self.bone_sigma ** 2
        gb = ((n[..., 0] - L[:, None]) * inv_s2)[..., None] * u
        uu = u[..., :, None] * u[..., None, :] * inv_s2  # (B, T, 3, 3)
        Hdiag = Hd.copy()
        for i, (a, b) in enumerate(self.bones):  # a loop over bones (not points)
            g[b] += gb[i]
            g[a] -= gb[i]
            Hdiag[a] += uu[i]
            Hdiag[b] += uu[i]
        lam = damping * np.trace(Hdiag, axis1=-2, axis2=-1).mean() / 3 + 1e-9  # Levenberg-Marquardt
        return g, Hd + lam * np.eye(3), Hdiag + lam * np.eye(3), u

    def _preconditioner(self, Hdiag, wT):
        """Per joint, the banded (interleaved t*3+k) matrix of its own 3x3 blocks plus the
        acceleration term; the joints stacked into one block-diagonal banded matrix (bandwidth 6),
        factorised once per step; returns the solve (one LAPACK call)."""
        T, J = self.T, self.J
        acc = _acc_band(wT, self.acc_scale ** 2)  # (3, J, T)
        band = np.zeros((7, J, 3 * T))
        for k in range(3):
            for m in range(3 - k):  # within-point couplings (offset m within the 3x3 block)
                band[m, :, k::3] = Hdiag[:, :, k + m, k]
            band[0, :, k::3] += acc[0]
            band[3, :, k::3][:, : T - 1] += acc[1][:, : T - 1]
            band[6, :, k::3][:, : T - 2] += acc[2][:, : T - 2]
        factor = cholesky_banded(band.reshape(7, -1), lower=True)
        return lambda r: dpbtrs(factor, r.reshape(-1), lower=1)[0].reshape(J, T, 3)


def _pcg(matvec, precond, g: np.ndarray, iters: int, *, tol: float) -> np.ndarray:
    """Preconditioned conjugate gradients on ``H x = -g`` (``matvec(v) = H v``), from x = 0, until
    the residual is below ``tol`` times ``|g|`` or after ``iters`` iterations."""
    x = np.zeros_like(g)
    r = -g
    z = precond(r)
    p = z.copy()
    rz = (r * z).sum()
    g_norm = np.sqrt((g * g).sum())
    for _ in range(iters):
        Ap = matvec(p)
        alpha = rz / (p * Ap).sum()
        x += alpha * p
        r -= alpha * Ap
        if np.sqrt((r * r).sum()) < tol * g_norm:
            break
        z = precond(r)
        rz_new = (r * z).sum()
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x


@dataclass(frozen=True)
class Planting:
    """What :func:`refine` does with feet: the foot joints ``feet (F,)`` to plant; ``up`` the world's vertical; planted
    joints held along the floor within ``sigma_mm``; ``camera (3,)``: one camera's centre (contacts judged by the speed
    across its line of sight, :func:`~mocap.smooth.contacts.detect_contacts`); the floor tilted up to
    ``floor_tilt_deg``; ``planted``: ``(contacts (T, F), floor)`` already known, used as they are."""

    feet: tuple = ()
    up: tuple = (0.0, 0.0, 1.0)
    sigma_mm: float = 3.0
    camera: np.ndarray | None = None
    floor_tilt_deg: float = 15.0
    planted: tuple | None = None

    def contacts_and_floor(self, F: np.ndarray, fps: float) -> tuple[np.ndarray, tuple]:
        """``contacts (T, F)`` and ``floor`` of the feet ``F (T, F, 3)``: :attr:`planted` when given, else the floor
        (:func:`~mocap.smooth.contacts.estimate_floor`) and the contacts on it
        (:func:`~mocap.smooth.contacts.detect_contacts`)."""
        if self.planted is not None:
            return np.asarray(self.planted[0], bool), self.planted[1]
        floor = estimate_floor(F, fps, self.up, max_tilt_deg=self.floor_tilt_deg)
        return detect_contacts(F, fps, floor, camera=self.camera), floor


def refine(X0: np.ndarray, bones: np.ndarray, fps: float, *, views=None, target_weight=None,
           sigma_px: float = 3.0, sigma_mm: float = 10.0, accel_sigma: float = 30.0, bone_sigma_mm: float = 2.0,
           bone_lengths: np.ndarray | None = None, max_gap_s: float = 0.5, iterations: int = 5,
           robust_scale: float = 1.0, max_fill_error_mm: float | None = 150.0,
           accel_robust: float | None = 3.0, plant: Planting | None = None) -> RefineResult:
    """Refine ``X0 (T, J, 3)`` metres (NaN where unknown).

    views: multi-view data ``(xy (C, T, J, 2) undistorted normalised coords, w (C, T, J) weights
    (confidence x inlier), Rt (C, 3, 4), focals (C,))``: data term = soft-L1 (quadratic up to about
    ``robust_scale`` sigmas) of the pixel reprojection error / ``sigma_px``. Without views: soft-L1 of the distance to ``X0`` /
    ``sigma_mm``, weighted by ``target_weight (T, J)``. accel_sigma: expected joint acceleration
    (m/s^2; smaller = smoother), penalised quadratically up to ``accel_robust`` sigmas and linearly beyond
    (soft-L1: a foot strike or a hit keeps its snap; None: quadratic everywhere). bones: ``(B, 2)`` joint indices;
    ``bone_lengths (B,)`` metres fixes them, else they are measured on ``X0``
    (:func:`~mocap.core.kinematics.robust_bone_lengths`: median over the frames where both ends have three or more
    weighted views, or a target weight) and held. Gaps up to ``max_gap_s`` are filled, unless the joint moves so
    much that a straight bridge would miss it by more than ``max_fill_error_mm``
    (:func:`~mocap.smooth.gaps.unsure_fills`; None: every gap up to ``max_gap_s``); others stay NaN, the smoothness
    across them released (they must not bend the seen points beside them). plant (:class:`Planting`): the feet's
    floor and contacts found on the refined motion (:mod:`mocap.smooth.contacts`), planted joints held along the
    floor (:func:`contact_targets`) and everything refined again; the result carries ``contacts (T, F)`` and ``floor``."""
    X0 = np.asarray(X0, dtype=float)
    T, J, _ = X0.shape
    if T < 3:
        raise MocapError(f"refinement needs at least 3 frames, got {T}")
    known = np.isfinite(X0).all(-1).any(0)
    if not known.any():
        raise MocapError("no joint is known in any frame: nothing to refine")
    if not known.all():  # refine the joints that were ever seen; the others stay empty
        return _refine_known(X0, known, bones, fps=fps, views=views, target_weight=target_weight,
                             bone_lengths=bone_lengths, sigma_px=sigma_px, sigma_mm=sigma_mm, accel_sigma=accel_sigma,
                             bone_sigma_mm=bone_sigma_mm, max_gap_s=max_gap_s, iterations=iterations,
                             robust_scale=robust_scale, plant=plant, max_fill_error_mm=max_fill_error_mm,
                             accel_robust=accel_robust)
    X, missing, long_gap = _init(X0, int(round(max_gap_s * fps)))
    bones = np.asarray(bones, dtype=int).reshape(-1, 2)
    L, frames = _lengths(X0, bones, views, target_weight, missing=missing, given=bone_lengths)
    if views is not None:
        data = reprojection_term(*views, sigma_px=sigma_px, robust_scale=robust_scale)
    else:
        tw = np.ones((T, J)) if target_weight is None else np.asarray(target_weight, dtype=float)
        data = target_term(np.nan_to_num(X0), np.where(missing, 0.0, tw), sigma_mm)
    prob = _Problem(T, J, bones, acc_scale=fps * fps / accel_sigma, bone_sigma=bone_sigma_mm * 1e-3, data=data,
                    acc_weight=_loose(long_gap), acc_robust=accel_robust)
    X, it, costs = _levenberg_marquardt(prob, X, L, iterations)
    if max_fill_error_mm is not None:
        unsure = unsure_fills(X, missing, bones, max_fill_error_mm * 1e-3) & ~long_gap
        if unsure.any():  # again, without the smoothness pulling seen points towards bridges that are dropped
            long_gap |= unsure
            prob.acc_weight = _loose(long_gap)
            X, it2, (_, c1) = _levenberg_marquardt(prob, X, L, iterations)
            it, costs = it + it2, (costs[0], c1)
    contacts, floor = None, None
    if plant is not None and len(plant.feet):
        X, contacts, floor, it2, c1 = _plant(prob, data, X, L=L, plant=plant, dropped=long_gap, fps=fps,
                                             iterations=iterations)
        it, costs = it + it2, (costs[0], c1 if c1 is not None else costs[1])
    X = X.copy()
    X[long_gap] = np.nan
    return RefineResult(X, L, missing & ~long_gap, it, costs, bone_frames=frames, contacts=contacts, floor=floor)


def _lengths(X0, bones, views, target_weight, *, missing, given):
    """The bone lengths to hold and the frames each was measured on: ``given`` (0 frames), or
    :func:`~mocap.core.kinematics.robust_bone_lengths` of ``X0`` over the points with three or more weighted
    views (or a target weight)."""
    if given is not None:
        return np.asarray(given, float), np.zeros(len(bones), int)
    if views is not None:
        support = (np.asarray(views[1]) > 0).sum(0) >= 3
    else:
        support = np.ones(missing.shape, bool) if target_weight is None else np.asarray(target_weight) > 0
    L, frames, _ = robust_bone_lengths(X0, bones, support & ~missing)
    return L, frames


def _plant(prob, data, X, L, *, plant: Planting, dropped, fps, iterations):
    """The floor and contacts of the ``plant.feet`` joints of ``X`` (points ``dropped`` left out; or as
    ``plant.planted`` gives them), then ``prob`` solved again from ``X`` with the planted joints held along the floor.
    Returns X, contacts ``(T, F)``, floor, the iterations and the final cost (None when no foot is planted: nothing
    solved)."""
    feet = np.asarray(plant.feet, int)
    F = np.where(dropped[:, feet, None], np.nan, X[:, feet])
    contacts, floor = plant.contacts_and_floor(F, fps)
    if not contacts.any():
        return X, contacts, floor, 0, None
    target, weight = contact_targets(F, contacts, floor, fps)
    T, J = X.shape[:2]
    w, t = np.zeros((T, J)), np.zeros((T, J, 3))
    w[:, feet], t[:, feet] = weight, np.nan_to_num(target)
    prob.data = _sum(data, along_term(t, w, floor[0], plant.sigma_mm))
    X, it, (_, c1) = _levenberg_marquardt(prob, X, L, iterations)
    return X, contacts, floor, it, c1


def _loose(dropped: np.ndarray, weight: float = 1e-3) -> np.ndarray:
    """``(T-2, J)`` weights of the acceleration terms: ``weight`` where a second difference touches a point of
    ``dropped (T, J)`` (a bridge that will be left empty: it must not bend the seen points beside it), else 1."""
    touch = dropped[2:] | dropped[1:-1] | dropped[:-2]
    return np.where(touch, weight, 1.0)


def _refine_known(X0, known, bones, fps, *, views, target_weight, bone_lengths, **options) -> RefineResult:
    """:func:`refine` on the joints ``known (J,)`` marks (bones between them only); the rest come back
    NaN and are listed in ``empty_joints``."""
    bones = np.asarray(bones, dtype=int).reshape(-1, 2)
    keep = known[bones].all(1)
    new_index = np.cumsum(known) - 1
    sub_views = None if views is None else (views[0][:, :, known], views[1][:, :, known], *views[2:])
    plant = options.pop("plant", None)
    if plant is not None:  # the feet ever seen, renumbered (and their columns of known contacts)
        feet = list(plant.feet)
        seen = [i for i, f in enumerate(feet) if known[f]]
        plant = replace(plant, feet=tuple(int(new_index[feet[i]]) for i in seen), planted=None if plant.planted is None
                        else (np.asarray(plant.planted[0])[:, seen], plant.planted[1]))
    r = refine(X0[:, known], new_index[bones[keep]], fps, views=sub_views, plant=plant,
               target_weight=None if target_weight is None else np.asarray(target_weight)[:, known],
               bone_lengths=None if bone_lengths is None else np.asarray(bone_lengths, float)[keep], **options)
    T, J = X0.shape[:2]
    X = np.full((T, J, 3), np.nan)
    X[:, known] = r.positions
    L = np.full(len(bones), np.nan)
    L[keep] = r.bone_lengths
    frames = np.zeros(len(bones), int)
    frames[keep] = r.bone_frames
    filled = np.zeros((T, J), bool)
    filled[:, known] = r.filled
    contacts = None
    if r.contacts is not None:  # a foot never seen is never planted
        contacts = np.zeros((T, len(feet)), bool)
        contacts[:, seen] = r.contacts
    return RefineResult(X, L, filled, iterations=r.iterations, cost=r.cost,
                        empty_joints=tuple(int(j) for j in np.flatnonzero(~known)), bone_frames=frames,
                        contacts=contacts, floor=r.floor)


def reprojection_term(xy, w, Rt, focals, *, sigma_px: float = 3.0, robust_scale: float = 1.0):
    """Data term of the multi-view refinement: ``data(X, need_grad) -> (cost, H (T, J, 3, 3),
    g (T, J, 3))``, soft-L1 (quadratic up to ``robust_scale`` sigmas) of each view's pixel
    reprojection error / ``sigma_px``, with IRLS weights. ``xy (C, T, J, 2)`` undistorted normalised
    coordinates, ``w (C, T, J)`` weights, ``Rt (C, 3, 4)``, ``focals (C,)`` px."""
    c2 = float(robust_scale) ** 2
    w = np.where(np.isfinite(xy).all(-1), w, 0.0)
    xy = np.nan_to_num(xy)
    Rb = Rt[:, :, :3, None, None]  # (C, 3, 3, 1, 1) broadcast over (T, J)
    fz = (np.asarray(focals, float) / sigma_px)[:, None, None]  # (C, 1, 1): focal / sigma, px per normalised unit

    def data(X, need_grad=True):
        cx, cy, z = camera_coordinates(Rt, X)
        z = np.maximum(z, 1e-3)
        px, py = cx / z, cy / z
        rx, ry = (px - xy[..., 0]) * fz, (py - xy[..., 1]) * fz  # (C, T, J) in sigmas
        sq = np.sqrt(1.0 + (rx * rx + ry * ry) / c2)
        cost = (w * 2.0 * c2 * (sq - 1.0)).sum()
        if not need_grad:
            return cost, None, None
        om = w / sq  # IRLS weight of soft-L1
        k = fz / z
        # rows of d r / d X: k * ([1, 0, -px] @ R) and k * ([0, 1, -py] @ R)
        jx = [k * (Rb[:, 0, i] - px * Rb[:, 2, i]) for i in range(3)]
        jy = [k * (Rb[:, 1, i] - py * Rb[:, 2, i]) for i in range(3)]
        H = np.empty(X.shape + (3,))
        g = np.empty(X.shape)
        for a in range(3):
            g[..., a] = (om * (jx[a] * rx + jy[a] * ry)).sum(0)
            for b in range(a, 3):
                H[..., a, b] = H[..., b, a] = (om * (jx[a] * jx[b] + jy[a] * jy[b])).sum(0)
        return cost, H, g
    return data


def target_term(target: np.ndarray, weight: np.ndarray, sigma_mm: float = 10.0):
    """Data term without views: soft-L1 of the distance to ``target (T, J, 3)`` / ``sigma_mm``,
    weighted by ``weight (T, J)``; same interface as :func:`reprojection_term`."""
    s = 1.0 / (sigma_mm * 1e-3)

    def data(X, need_grad=True):
        r = (X - target) * s
        sq = np.sqrt(1.0 + (r * r).sum(-1))
        cost = (weight * 2.0 * (sq - 1.0)).sum()
        if not need_grad:
            return cost, None, None
        om = weight / sq
        H = (om * s * s)[..., None, None] * np.eye(3)
        g = (om * s)[..., None] * r
        return cost, H, g
    return data


def along_term(target: np.ndarray, weight: np.ndarray, normal: np.ndarray, sigma_mm: float):
    """Data term: the square of the distance along the plane of ``normal`` (its height left free) to ``target
    (T, J, 3)`` / ``sigma_mm``, weighted by ``weight (T, J)``; same interface as :func:`reprojection_term`."""
    s2 = 1.0 / (sigma_mm * 1e-3) ** 2
    P = np.eye(3) - np.outer(normal, normal)

    def data(X, need_grad=True):
        r = (X - target) @ P  # P is symmetric
        cost = (weight * s2 * (r * r).sum(-1)).sum()
        if not need_grad:
            return cost, None, None
        return cost, (weight * s2)[..., None, None] * P, (weight * s2)[..., None] * r
    return data


def _sum(*terms):
    """One data term from several with the :func:`reprojection_term` interface."""
    def data(X, need_grad=True):
        parts = [t(X, need_grad) for t in terms]
        if not need_grad:
            return sum(p[0] for p in parts), None, None
        return sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts)
    return data


def contact_targets(feet: np.ndarray, contacts: np.ndarray, floor, fps: float, *, blend_s: float = 0.1,
                    window_s: float = 0.5):
    """Where each planted foot is held along the floor: ``target (T, F, 3)`` (within a contact, the running median
    over ``window_s`` of its places along the floor: a planted foot may pivot or roll slowly, it does not jitter;
    its height is left to the data) and ``weight (T, F)`` (1 inside a contact, rising and falling as sin^2 over ``blend_s`` at
    its ends, never more than a third of it; 0 elsewhere)."""
    from scipy.ndimage import median_filter

    normal, _ = floor
    along = feet - (feet @ normal)[..., None] * normal
    target = np.full(feet.shape, np.nan)
    weight = np.zeros(contacts.shape)
    for f in range(feet.shape[1]):
        for a, b in gap_runs(contacts[:, f]):
            n = b - a
            size = max(1, min(n, int(round(window_s * fps)) | 1))
            target[a:b, f] = median_filter(along[a:b, f], size=(size, 1), mode="nearest")
            ramp = max(1, min(n // 3, int(round(blend_s * fps))))
            w = np.ones(n)
            rise = np.sin(0.5 * np.pi * (np.arange(ramp) + 1) / (ramp + 1)) ** 2
            w[:ramp] = rise
            w[n - ramp:] = np.minimum(w[n - ramp:], rise[::-1])
            weight[a:b, f] = w
    return target, weight


def _levenberg_marquardt(prob: "_Problem", X, L, iterations: int):
    """Damped Gauss-Newton iterations of ``prob`` from ``X`` with bone lengths ``L``. Returns X, iterations,
    (first, last) cost."""
    c0 = cur = prob.cost(X, L)
    damping, it = 1e-4, 0
    for it in range(1, iterations + 1):
        Xn = X + prob.step(X, L, damping)
        cn = prob.cost(Xn, L)
        if not cn < cur:  # rejected: more damping (a shorter, more gradient-like step)
            damping *= 10.0
            continue
        damping = max(damping / 10.0, 1e-7)
        rel = (cur - cn) / max(cur, 1e-12)
        X, cur = Xn, cn
        if rel < 1e-6:
            break
    return X, it, (float(c0), float(cur))


def refined_confidence(positions: np.ndarray, confidence: np.ndarray, floor: float = 0.5) -> np.ndarray:
    """``(T, J)`` confidence of refined positions ``(T, J, 3)``: what the data said, at least ``floor``
    where refinement gave a position (filled gaps included), 0 where the point is still missing."""
    return np.where(np.isfinite(positions).all(-1), np.maximum(confidence, floor), 0.0)
