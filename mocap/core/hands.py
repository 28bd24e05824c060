"""Hand geometry on the 21 points of :data:`~mocap.core.skeletons.HAND_21`: the bend at each finger joint and the
range a real hand allows.

Signed flexion: the four fingers bend towards the palm, about the axis across the knuckles (from the little finger's
base to the index finger's on a right hand, the other way on a left one); a positive angle bends a finger in, a
negative one bends it backwards. The finger's middle and end joints (PIP, DIP) are hinges: :func:`limit_fingers`
turns what lies beyond them back to their range (:data:`HINGE_LIMITS_DEG`), bones keeping their lengths.
"""
from __future__ import annotations

import warnings

import numpy as np

from .rotations import axis_angle, unit
from .skeletons import hand_joints

# each finger's chain of points (thumb first): the hand's wrist, then the finger from its base to its tip
FINGER_CHAINS = np.array([[0, 1, 2, 3, 4]] + [[0, 5 + 4 * f, 6 + 4 * f, 7 + 4 * f, 8 + 4 * f] for f in range(4)])
MAX_FLEXION_DEG = 120.0  # beyond any finger joint of a real hand (a fist bends the middle joints about 110 deg)


def flexion_angles(P: np.ndarray) -> np.ndarray:
    """``(..., 5, 3)`` degrees: the bend at each finger's three joints (thumb first) of hands ``P (..., 21, 3)``: the
    angle between consecutive bones (the wrist-to-base bone, then the finger's own bones); 0 for a straight finger."""
    bones = unit(np.diff(P[..., FINGER_CHAINS, :], axis=-2))  # (..., 5, 4, 3)
    cos = np.clip((bones[..., :-1, :] * bones[..., 1:, :]).sum(-1), -1.0, 1.0)
    return np.degrees(np.arccos(cos))


def plausible_hand(P: np.ndarray, max_flexion_deg: float = MAX_FLEXION_DEG) -> np.ndarray:
    """``(...)`` bool: hands ``P (..., 21, 3)`` whose every finger joint bends less than ``max_flexion_deg`` (a
    hand model that bends a finger further has mistaken the hand)."""
    with np.errstate(invalid="ignore"):
        return (flexion_angles(P) < max_flexion_deg).all(axis=(-1, -2))


# the range of the four fingers' middle (PIP) and end (DIP) joints, degrees: a fist bends them about 110 and 80 deg;
# backwards a few degrees at most (a little more at the end joint, which some hands overextend when pressed)
HINGE_LIMITS_DEG = {1: (-10.0, 115.0), 2: (-20.0, 95.0)}


def knuckle_axis(P: np.ndarray, side: str) -> np.ndarray:
    """``(..., 3)`` unit axis the fingers of hands ``P (..., 21, 3)`` of ``side`` ("left" or "right") flex about
    (right-handed: a positive turn about it bends a finger towards the palm)."""
    a = P[..., 5, :] - P[..., 17, :]  # little finger's base -> index finger's
    return unit(a if side == "right" else -a)


def signed_flexion(P: np.ndarray, side: str) -> np.ndarray:
    """``(..., 4, 3)`` degrees: the bend at the base, middle and end joint of the index, middle, ring and little finger
    of hands ``P (..., 21, 3)`` of ``side``, positive towards the palm (the sign of the turn about
    :func:`knuckle_axis`), magnitude as :func:`flexion_angles`; NaN where a point is missing."""
    a = knuckle_axis(P, side)[..., None, None, :]
    bones = np.diff(P[..., FINGER_CHAINS[1:], :], axis=-2)  # (..., 4, 4, 3)
    u, v = bones[..., :-1, :], bones[..., 1:, :]
    sign = np.where((np.cross(u, v) * a).sum(-1) < 0, -1.0, 1.0)
    return sign * flexion_angles(P)[..., 1:, :]


def limit_fingers(P: np.ndarray, side: str, limits: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Hands ``P (..., 21, 3)`` of ``side`` with each finger's hinge joints (``limits``: joint -> (lowest, highest)
    signed flexion in degrees, default :data:`HINGE_LIMITS_DEG`; joint 1 the middle, 2 the end joint) brought within
    range: the rest of the finger turned about the joint, in the plane of its bend, so every bone keeps its length.
    Returns the hands and ``(..., 4, 3)`` the degrees each joint was turned (0 where within range or unknown)."""
    P = np.array(P, float)
    limits = HINGE_LIMITS_DEG if limits is None else limits
    turned = np.zeros(P.shape[:-2] + (4, 3))
    a = knuckle_axis(P, side)
    chain = FINGER_CHAINS[1:]  # (4, 5): wrist, base, middle, end, tip
    for k, (lo, hi) in sorted(limits.items()):  # base to tip: turning a joint carries the ones after it along
        pivot = P[..., chain[:, k + 1], :]  # (..., 4, 3)
        u, v = pivot - P[..., chain[:, k], :], P[..., chain[:, k + 2], :] - pivot
        w = np.cross(u, v)
        sign = np.where((w * a[..., None, :]).sum(-1) < 0, -1.0, 1.0)
        theta = sign * np.degrees(np.arctan2(np.linalg.norm(w, axis=-1), (u * v).sum(-1)))
        delta = np.nan_to_num(np.clip(theta, lo, hi) - theta)  # 0 within range and where unknown
        R = axis_angle(np.nan_to_num(sign[..., None] * unit(w)), np.radians(delta))  # (..., 4, 3, 3)
        for j in range(k + 2, 5):  # the finger's points after the joint
            idx = chain[:, j]
            moved = pivot + np.einsum("...ij,...j->...i", R, P[..., idx, :] - pivot)
            P[..., idx, :] = np.where((delta != 0)[..., None], moved, P[..., idx, :])
        turned[..., k] = delta
    return P, turned


def limit_hands(X: np.ndarray, names) -> tuple[np.ndarray, str | None]:
    """Positions ``X (T, J, 3)`` of joints ``names`` with both hands' finger hinges within range
    (:func:`limit_fingers`, for each side whose 21 points are among ``names``) and a note of what was turned (None
    when nothing was). Other joints as they are."""
    X = np.array(X, float)
    names = list(names)
    parts = []
    for side in ("left", "right"):
        if not set(hand_joints(side)) <= set(names):
            continue
        idx = [names.index(n) for n in hand_joints(side)]
        X[:, idx], turned = limit_fingers(X[:, idx], side)
        moved = np.abs(turned) > 0
        if moved.any():
            parts.append(f"{side} {int(moved.sum())} of {int(np.isfinite(X[:, idx[0], 0]).sum()) * 8} "
                         f"(at most {float(np.abs(turned).max()):.0f} deg)")
    if not parts:
        return X, None
    return X, ("finger joints bent past their range (a middle joint backwards by more than 10 deg, an end joint by "
               "more than 20, or in further than 115 / 95 deg) turned back to it, bones kept: " + ", ".join(parts))


def undo_depth_flip(P: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
    """One camera's hand shapes ``P (..., 21, 3)`` (camera axes, z away from the camera) of ``side`` with the depth
    mirrored about the wrist where their fingers bend backwards on the median (:func:`signed_flexion` of the four
    fingers' joints < 0): from one view a hand and its mirror image in depth look alike, and a hand model that picks
    the mirror image gives the other hand's shape, its fingers bent backwards. Returns the shapes and ``(...)`` bool
    where they were mirrored."""
    P = np.array(P, float)
    f = signed_flexion(P, side).reshape(P.shape[:-2] + (-1,))
    seen = np.isfinite(f).any(-1)
    with warnings.catch_warnings():  # hands not shaped (all NaN) stay as they are
        warnings.simplefilter("ignore", RuntimeWarning)
        flip = seen & (np.nanmedian(f, axis=-1) < 0)
    z = P[..., 2]
    P[..., 2] = np.where(flip[..., None], 2 * z[..., :1] - z, z)
    return P, flip
