"""Target rigs for BVH output: one topology, four naming schemes.

Every rig has the same 22 joints (SMPL-like: pelvis, 3 spine joints, neck, head, collars, arms,
legs, toes) plus end sites; only the names differ:

- ``generic``: human-readable (``Hips``, ``Spine``, ``LeftUpLeg`` ...),
- ``mixamo``: ``mixamorig:`` names (Unity/Unreal humanoid mappers recognise them),
- ``cmu``: cgspeed CMU names (``Hips``, ``LowerBack``, ``LeftUpLeg`` ...),
- ``smpl``: SMPL joint names (``pelvis``, ``left_hip``, ``spine1`` ...; no SMPL model data).

The rest pose is a T-pose, Y-up, facing +Z (the character's left is +X), root at the pelvis (the
mid-point of the hips). Bone lengths come from the subject (see :func:`rest_offsets`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MocapError

# role, parent role, rest direction of the bone from the parent to this joint (unit, T-pose)
ROLES: list[tuple[str, str | None]] = [
    ("pelvis", None), ("spine1", "pelvis"), ("spine2", "spine1"), ("spine3", "spine2"), ("neck", "spine3"),
    ("head", "neck"), ("head_end", "head"),
    ("left_collar", "spine3"), ("left_shoulder", "left_collar"), ("left_elbow", "left_shoulder"),
    ("left_wrist", "left_elbow"), ("left_hand_end", "left_wrist"),
    ("right_collar", "spine3"), ("right_shoulder", "right_collar"), ("right_elbow", "right_shoulder"),
    ("right_wrist", "right_elbow"), ("right_hand_end", "right_wrist"),
    ("left_hip", "pelvis"), ("left_knee", "left_hip"), ("left_ankle", "left_knee"), ("left_toe", "left_ankle"),
    ("left_toe_end", "left_toe"),
    ("right_hip", "pelvis"), ("right_knee", "right_hip"), ("right_ankle", "right_knee"), ("right_toe", "right_ankle"),
    ("right_toe_end", "right_toe"),
]
END_SITES = {"head_end", "left_hand_end", "right_hand_end", "left_toe_end", "right_toe_end"}

_GENERIC = {
    "pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck", "head": "Head",
    "left_collar": "LeftShoulder", "left_shoulder": "LeftArm", "left_elbow": "LeftForeArm", "left_wrist": "LeftHand",
    "right_collar": "RightShoulder", "right_shoulder": "RightArm", "right_elbow": "RightForeArm",
    "right_wrist": "RightHand", "left_hip": "LeftUpLeg", "left_knee": "LeftLeg", "left_ankle": "LeftFoot",
    "left_toe": "LeftToeBase", "right_hip": "RightUpLeg", "right_knee": "RightLeg", "right_ankle": "RightFoot",
    "right_toe": "RightToeBase",
}
_CMU = dict(_GENERIC, spine1="LowerBack", spine2="Spine", spine3="Spine1")
_SMPL = {r: r for r, _ in ROLES if r not in END_SITES}
_SMPL.update({"left_collar": "left_collar", "left_toe": "left_foot", "right_toe": "right_foot"})


@dataclass(frozen=True)
class Rig:
    """A named target skeleton: ``names[role]`` for every non-end-site role in :data:`ROLES`."""

    name: str
    names: dict

RIGS = {
    "generic": Rig("generic", _GENERIC),
    "mixamo": Rig("mixamo", {k: f"mixamorig:{v}" for k, v in _GENERIC.items()}),
    "cmu": Rig("cmu", _CMU),
    "smpl": Rig("smpl", _SMPL),
}


def get_rig(name: str | Rig) -> Rig:
    if isinstance(name, Rig):
        return name
    try:
        return RIGS[str(name).lower()]
    except KeyError:
        raise MocapError(f"unknown rig {name!r}; known: {', '.join(RIGS)}") from None


def role_index() -> dict[str, int]:
    return {r: i for i, (r, _) in enumerate(ROLES)}


def parents() -> np.ndarray:
    idx = role_index()
    return np.array([-1 if p is None else idx[p] for _, p in ROLES])


@dataclass
class Proportions:
    """Subject measurements (metres) that size the rig."""

    hip_width: float = 0.20
    trunk: float = 0.50          # pelvis -> neck base
    shoulder_height: float = 0.47  # pelvis -> shoulder line, along the trunk
    shoulder_width: float = 0.36
    neck: float = 0.12           # neck base -> head joint
    head: float = 0.15           # head joint -> head top
    upper_arm: float = 0.28
    forearm: float = 0.26
    hand: float = 0.08
    thigh: float = 0.43
    shin: float = 0.42
    foot: float = 0.14           # ankle -> toe base
    toe: float = 0.05

    @property
    def height(self) -> float:
        """Standing height of the T-pose (floor to head top), metres."""
        return self.thigh + self.shin + 0.06 + self.trunk + self.neck + self.head

    def scaled(self, height: float) -> "Proportions":
        """The same proportions scaled to a standing ``height`` in metres."""
        s = height / self.height
        return Proportions(**{k: v * s for k, v in self.__dict__.items()})


def rest_offsets(p: Proportions) -> np.ndarray:
    """``(J, 3)`` T-pose offsets from each parent (metres, Y-up, facing +Z, left = +X)."""
    seg = p.trunk / 4
    collar_x = 0.2 * p.shoulder_width / 2
    off = {
        "pelvis": (0, 0, 0), "spine1": (0, seg, 0), "spine2": (0, seg, 0), "spine3": (0, seg, 0),
        "neck": (0, seg, 0), "head": (0, p.neck, 0), "head_end": (0, p.head, 0),
        "left_hip": (p.hip_width / 2, 0, 0), "left_knee": (0, -p.thigh, 0), "left_ankle": (0, -p.shin, 0),
        "left_toe": (0, 0, p.foot), "left_toe_end": (0, 0, p.toe),
        "left_collar": (collar_x, p.shoulder_height - 3 * seg, 0),
        "left_shoulder": (p.shoulder_width / 2 - collar_x, 0, 0), "left_elbow": (p.upper_arm, 0, 0),
        "left_wrist": (p.forearm, 0, 0), "left_hand_end": (p.hand, 0, 0),
    }
    for r in list(off):
        if r.startswith("left_"):
            x, y, z = off[r]
            off["right_" + r[5:]] = (-x, y, z)
    return np.array([off[r] for r, _ in ROLES], dtype=float)
