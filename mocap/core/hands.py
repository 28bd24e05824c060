"""Hand geometry on the 21 points of :data:`~mocap.core.skeletons.HAND_21`: the bend at each finger joint and the
range a real hand allows."""
from __future__ import annotations

import numpy as np

from .rotations import unit

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
