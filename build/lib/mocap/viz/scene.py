"""Triangle meshes of skeletons, floor grids and camera frusta as plain arrays (no renderer needed).

Used by the open3d viewer, the offscreen renderer and the GLB exporter. A skeleton mesh has a fixed
topology for a given skeleton (every bone a cylinder, every joint a sphere), so playback only
replaces vertex positions; missing joints collapse their pieces to a point (invisible).
Colours: left side blue, right side red, midline light grey — shaded per motion when several
motions are overlaid (:data:`TINTS`). Units: metres, whatever world the positions are in.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.camera import normalized
from ..core.rotations import swing
from ..core.skeletons import Skeleton

LEFT, RIGHT, MID = np.array([0.15, 0.45, 1.0]), np.array([1.0, 0.25, 0.15]), np.array([0.85, 0.85, 0.85])
TINTS = [np.array(t) for t in ([1.0, 1.0, 1.0], [0.55, 1.0, 0.55], [1.0, 0.85, 0.3], [0.8, 0.5, 1.0],
                               [0.4, 1.0, 1.0], [1.0, 0.55, 0.3], [1.0, 0.5, 0.8], [0.5, 0.7, 1.0])]
TINT_NAMES = ["white", "green", "yellow", "purple", "cyan", "orange", "pink", "blue"]  # one per tint, for legends


def _unit_cylinder(n: int = 12):
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.stack([np.cos(a), np.sin(a)], -1)
    v = np.concatenate([np.c_[ring, np.zeros(n)], np.c_[ring, np.ones(n)]])
    i = np.arange(n)
    j = (i + 1) % n
    tri = np.concatenate([np.stack([i, j, i + n], -1), np.stack([j, j + n, i + n], -1)])
    return v, tri


def _unit_sphere(n_lat: int = 6, n_lon: int = 10):
    lat = np.linspace(0, np.pi, n_lat + 1)
    lon = np.linspace(0, 2 * np.pi, n_lon, endpoint=False)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    v = np.stack([np.sin(la) * np.cos(lo), np.sin(la) * np.sin(lo), np.cos(la)], -1).reshape(-1, 3)
    tri = []
    for r in range(n_lat):
        for c in range(n_lon):
            a, b = r * n_lon + c, r * n_lon + (c + 1) % n_lon
            tri += [[a, a + n_lon, b], [b, a + n_lon, b + n_lon]]
    return v, np.array(tri)


_CYL, _CYL_T = _unit_cylinder()
_SPH, _SPH_T = _unit_sphere()


def _rotations_z_to(d: np.ndarray) -> np.ndarray:
    """``(B, 3)`` unit directions -> ``(B, 3, 3)`` rotations taking +z onto them."""
    return swing(np.broadcast_to([0.0, 0.0, 1.0], d.shape), d)


@dataclass
class SkeletonMesh:
    """Fixed-topology mesh of one skeleton: call :meth:`vertices` per frame."""

    skeleton: Skeleton
    bone_radius: float = 0.018
    joint_radius: float = 0.03
    tint: int = 0

    @property
    def triangles(self) -> np.ndarray:
        B, J = len(self.skeleton.bone_indices), len(self.skeleton)
        cyl = (_CYL_T[None] + (np.arange(B) * len(_CYL))[:, None, None]).reshape(-1, 3)
        sph = (_SPH_T[None] + (B * len(_CYL) + np.arange(J) * len(_SPH))[:, None, None]).reshape(-1, 3)
        return np.concatenate([cyl, sph]).astype(np.int32)

    @property
    def colors(self) -> np.ndarray:
        """``(V, 3)`` RGB in 0..1."""
        sk = self.skeleton
        side = np.array([sk.side(j) for j in range(len(sk))])
        jc = np.where(side[:, None] < 0, LEFT, np.where(side[:, None] > 0, RIGHT, MID))
        b = sk.bone_indices
        bs = side[b[:, 0]] + side[b[:, 1]]
        bc = np.where(bs[:, None] < 0, LEFT, np.where(bs[:, None] > 0, RIGHT, MID))
        tint = TINTS[self.tint % len(TINTS)]
        return np.clip(np.concatenate([np.repeat(bc, len(_CYL), 0), np.repeat(jc, len(_SPH), 0)]) * tint, 0, 1)

    def vertices(self, P: np.ndarray) -> np.ndarray:
        """``P (J, 3)`` joint positions (NaN = missing) -> ``(V, 3)`` vertex positions."""
        P = np.asarray(P, float)
        b = self.skeleton.bone_indices
        a, c = P[b[:, 0]], P[b[:, 1]]
        ok = np.isfinite(a).all(-1) & np.isfinite(c).all(-1)
        d = np.where(ok[:, None], c - a, [0, 0, 1e-9])
        L = np.linalg.norm(d, axis=-1)
        R = _rotations_z_to(d / np.maximum(L, 1e-12)[:, None])
        scale = np.stack([np.full_like(L, self.bone_radius), np.full_like(L, self.bone_radius), L], -1)
        cyl = np.einsum("bij,bvj->bvi", R, _CYL[None] * scale[:, None]) + np.where(ok[:, None], a, 0)[:, None]
        cyl[~ok] = 0.0
        jok = np.isfinite(P).all(-1)
        sph = _SPH[None] * self.joint_radius + np.where(jok[:, None], P, 0)[:, None]
        sph[~jok] = 0.0
        return np.concatenate([cyl.reshape(-1, 3), sph.reshape(-1, 3)])


def floor_grid(center: np.ndarray, up: str = "z", half: float = 3.0, step: float = 0.5):
    """Line segments ``(N, 2, 3)`` of a square floor grid at height 0 around ``center``."""
    ticks = np.arange(-half, half + 1e-9, step)
    cx, cy = (center[0], center[1]) if up == "z" else (center[0], center[2])
    seg = []
    for s in ticks:
        seg += [[[cx + s, cy - half], [cx + s, cy + half]], [[cx - half, cy + s], [cx + half, cy + s]]]
    seg = np.array(seg)
    zeros = np.zeros(seg.shape[:2] + (1,))
    return np.concatenate([seg, zeros], -1) if up == "z" else np.concatenate([seg[..., :1], zeros, seg[..., 1:]], -1)


def frustum(cam, depth: float = 0.4):
    """Line segments ``(8, 2, 3)`` of a camera's viewing pyramid (apex at its centre, ``depth`` m deep)."""
    w, h = cam.size
    uv = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    n = normalized(uv, cam.K)
    corners = (np.c_[n, np.ones(4)] * depth - cam.t) @ cam.R  # camera -> world: R^T (x - t)
    c = cam.center
    return np.array([[c, p] for p in corners] + [[corners[i], corners[(i + 1) % 4]] for i in range(4)])
