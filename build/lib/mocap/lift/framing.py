"""People at the picture's edge: root depth and position from the part of the body that is in the picture.

The lifter reads a person's distance from their size in the image. When part of the body is outside the
picture (someone walking out of the side, feet below the bottom edge), the detector guesses the missing
joints and the size it implies is wrong: the root runs away in depth (measured: 24 m/s for a person
leaving through the side of a composite clip). Here, for such frames, the distance is re-read from the
joints that are inside the picture: the root is placed so that those joints of the lifted pose project
where they were detected (a linear least-squares solve per frame), calibrated on the frames where the
whole body is seen.

Shapes: ``(T, J, 3)`` keypoints (x px, y px, confidence) and camera-frame joints (metres, OpenCV axes:
x right, y down, z forward), ``K (3, 3)`` intrinsics, ``size = (width, height)`` px.
"""
from __future__ import annotations

import numpy as np

from ..core.camera import normalized
from .clean import person_size
from .joints import BONE_INDEX, bone_lengths


def inside_picture(kp: np.ndarray, size: tuple[int, int], fps: float, margin: float = 0.3,
                   *, min_confidence: float = 0.5) -> np.ndarray:
    """``(T, J)`` True where a joint is detected with at least ``min_confidence`` (joints the detector has to
    guess come lower) and inside the picture by at least ``margin`` times the person's size (their median
    joint distance to their median point over about a second, :func:`mocap.lift.clean.person_size`: near the
    edge the detector's region is cut and its joints slip before they leave)."""
    xy, ok = kp[..., :2], kp[..., 2] >= min_confidence
    pad = margin * person_size(xy, kp[..., 2] > 0, fps)[..., None]  # (T, 1) px
    w, h = size
    return ok & (xy[..., 0] >= pad) & (xy[..., 0] <= w - pad) & (xy[..., 1] >= pad) & (xy[..., 1] <= h - pad)


def root_translation(rel: np.ndarray, uv: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The root position ``(T, 3)`` m that projects the root-relative pose ``rel (T, J, 3)`` m best onto the
    normalised image points ``uv (T, J, 2)`` (x/f, y/f) over the joints where ``weight (T, J)`` > 0:
    ``u (z_rel + Z) = x_rel + X`` (and v, y likewise) is linear in the root ``(X, Y, Z)``, solved per frame by
    weighted least squares (exact for exact data). NaN where fewer than 3 joints count."""
    w = np.where(weight > 0, weight, 0.0)
    u, v = np.nan_to_num(uv[..., 0]), np.nan_to_num(uv[..., 1])
    one, zero = np.ones_like(u), np.zeros_like(u)
    A = np.concatenate([np.stack([one, zero, -u], -1), np.stack([zero, one, -v], -1)], -2)  # (T, 2J, 3)
    b = np.concatenate([u * rel[..., 2] - rel[..., 0], v * rel[..., 2] - rel[..., 1]], -1)  # (T, 2J)
    ww = np.concatenate([w, w], -1)[..., None]
    AtA = np.einsum("tki,tkj->tij", A * ww, A)
    Atb = np.einsum("tki,tk->ti", A * ww, np.nan_to_num(b))
    ok = ((weight > 0).sum(-1) >= 3) & (np.abs(np.linalg.det(AtA)) > 1e-12)
    root = np.full(rel.shape[:1] + (3,), np.nan)
    root[ok] = np.linalg.solve(AtA[ok], Atb[ok][..., None])[..., 0]
    return root


def with_bone_lengths(rel: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``(T, 15, 3)`` lifter joints (root-relative) -> the same bone directions with ``lengths (14,)`` m, rebuilt
    outwards from the pelvis (for a cut body the lifter's pose shrinks; its directions hold up better)."""
    L = bone_lengths(rel)
    out = rel.copy()
    with np.errstate(all="ignore"):
        for i, (a, b) in enumerate(BONE_INDEX):  # 14 bones, parents first, vectorised over frames
            out[:, b] = out[:, a] + (rel[:, b] - rel[:, a]) * (lengths[i] / L[:, i])[:, None]
    return out


def anchor_in_picture(X: np.ndarray, kp: np.ndarray, K: np.ndarray, size: tuple[int, int], *, fps: float,
                      min_inside: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Lifted camera-frame joints ``X (T, J, 3)`` m and the keypoints ``kp (T, J, 3)`` they came from ->
    ``X`` with the root moved, in the frames where part of the body is outside the picture (or at its edge),
    to the depth and position the in-picture joints imply, and ``(T,)`` True for those frames.

    The root is solved from the in-picture joints (:func:`root_translation`, the pose's bones at their lengths
    in the whole-body frames) and moved along its ray by the lifter's depth over the solved one, interpolated
    in time between the nearest frames where the whole body is in the picture (those frames are unchanged). Frames
    with under ``min_inside`` of the joints in the picture tell nothing reliable: they become NaN (not seen).
    With no frame of the whole body, ``X`` is returned as it is (someone filmed from the waist up: nothing to
    calibrate on, and the lifter's depth is all there is)."""
    inside = inside_picture(kp, size, fps)
    seen = (kp[..., 2] > 0).any(-1) & np.isfinite(X).all((-1, -2))
    whole = inside.all(-1) & seen
    cut = seen & ~whole
    if not cut.any() or not whole.any():
        return X, cut
    uv = normalized(kp, K)
    rel = with_bone_lengths(X - X[:, :1], np.median(bone_lengths(X[whole]), 0))
    weight = np.where(inside, np.clip(kp[..., 2], 1e-3, None), 0.0)
    seen_root = root_translation(rel, uv, weight)
    t = np.arange(len(X))
    calib = whole & np.isfinite(seen_root).all(-1) & (seen_root[:, 2] > 0)
    if not calib.any():
        return X, cut
    # the lifter's depth over the in-picture one where the whole body is seen (the person's size), carried over
    scale = np.exp(np.interp(t, t[calib], np.log(X[calib, 0, 2] / seen_root[calib, 2])))
    root = seen_root * scale[:, None]
    out = X.copy()
    fix = cut & np.isfinite(root).all(-1)
    out[fix] = rel[fix] + root[fix, None]
    out[cut & ~fix | cut & (inside.sum(-1) < min_inside * X.shape[1])] = np.nan
    return out, cut
