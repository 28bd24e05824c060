"""Target rigs for BVH output: one topology, four naming schemes.

Every rig has the same 22 joints (SMPL-like: pelvis, 3 spine joints, neck, head, collars, arms,
legs, toes) plus end sites, and for a motion with both hands' 21 points 15 finger bones per hand (three per finger,
Mixamo's ``LeftHandThumb1`` ... ``LeftHandPinky3``; SMPL-X's ``left_thumb1`` ...) with the tips as end sites;
only the names differ:

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

from ..core.skeletons import FINGERS
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
def finger_roles(side: str) -> list[tuple[str, str]]:
    """One hand's finger roles, parents first: ``<side>_<finger>1..3`` (thumb: its carpometacarpal, metacarpophalangeal
    and interphalangeal joints; the others: the knuckle and the two finger joints) and ``<side>_<finger>_end`` (the
    tip, an end site), each finger hanging from ``<side>_wrist``."""
    out = []
    for f in FINGERS:
        parent = f"{side}_wrist"
        for k in (1, 2, 3):
            out.append((f"{side}_{f}{k}", parent))
            parent = f"{side}_{f}{k}"
        out.append((f"{side}_{f}_end", parent))
    return out


# the rig with hands: the body's roles (same indices), then 15 finger bones and 5 tips per hand
HAND_ROLES = finger_roles("left") + finger_roles("right")
FINGER_BONES = frozenset(r for r, _ in HAND_ROLES if not r.endswith("_end"))  # 15 per hand
END_SITES = {"head_end", "left_hand_end", "right_hand_end", "left_toe_end", "right_toe_end"} | {
    r for r, _ in HAND_ROLES if r.endswith("_end")}


def roles(hands: bool = False) -> list[tuple[str, str | None]]:
    """The rig's roles and their parents, depth first (the order of a BVH's hierarchy and its channels):
    :data:`ROLES`, with ``hands`` each hand's :func:`finger_roles` after its ``<side>_hand_end``."""
    if not hands:
        return ROLES
    out = []
    for role, parent in ROLES:
        out.append((role, parent))
        if role.endswith("_hand_end"):
            out += finger_roles(role.split("_")[0])
    return out

_GENERIC = {
    "pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck", "head": "Head",
    "left_collar": "LeftShoulder", "left_shoulder": "LeftArm", "left_elbow": "LeftForeArm", "left_wrist": "LeftHand",
    "right_collar": "RightShoulder", "right_shoulder": "RightArm", "right_elbow": "RightForeArm",
    "right_wrist": "RightHand", "left_hip": "LeftUpLeg", "left_knee": "LeftLeg", "left_ankle": "LeftFoot",
    "left_toe": "LeftToeBase", "right_hip": "RightUpLeg", "right_knee": "RightLeg", "right_ankle": "RightFoot",
    "right_toe": "RightToeBase",
}
_GENERIC.update({f"{s}_{f}{k}": f"{s.title()}Hand{f.title()}{k}" for s in ("left", "right") for f in FINGERS
                 for k in (1, 2, 3)})  # Mixamo's finger names (mixamorig:LeftHandThumb1 ...)
_CMU = dict(_GENERIC, spine1="LowerBack", spine2="Spine", spine3="Spine1")
_SMPL = {r: r for r, _ in ROLES + HAND_ROLES if r not in END_SITES}  # SMPL-X: left_thumb1 ... right_pinky3
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


def role_index(hands: bool = False) -> dict[str, int]:
    return {r: i for i, (r, _) in enumerate(roles(hands))}


def parents(hands: bool = False) -> np.ndarray:
    idx = role_index(hands)
    return np.array([-1 if p is None else idx[p] for _, p in roles(hands)])


@dataclass
class HandShape:
    """One hand's rest geometry (metres) in its palm frame: x from the wrist towards the middle finger's knuckle, y
    across the knuckles towards the index finger (the thumb's side), z = x cross y. ``bases (5, 3)``: each finger's
    first joint (thumb: carpometacarpal) from the wrist; ``lengths (5, 3)``: each finger's three bones to its tip."""

    bases: np.ndarray
    lengths: np.ndarray

    def scaled(self, s: float) -> "HandShape":
        return HandShape(self.bases * s, self.lengths * s)


# an adult hand (about 19 cm from the wrist to the middle finger's tip), where a finger was never seen
HAND_TEMPLATE = HandShape(
    bases=np.array([[0.028, 0.022, -0.012], [0.092, 0.022, 0.0], [0.095, 0.0, 0.0], [0.089, -0.020, 0.0],
                    [0.080, -0.038, 0.0]]),
    lengths=np.array([[0.046, 0.032, 0.027], [0.042, 0.025, 0.020], [0.046, 0.029, 0.022], [0.043, 0.027, 0.021],
                      [0.034, 0.020, 0.018]]))
# each finger's rest direction in the palm frame (the T-pose's straight, slightly spread hand; the thumb at 45 deg)
FINGER_DIRECTIONS = np.array([[0.7071, 0.7071, 0.0], [0.9903, 0.1392, 0.0], [1.0, 0.0, 0.0], [0.9925, -0.1219, 0.0],
                              [0.9659, -0.2588, 0.0]])


def palm_rest_frame(side: str) -> np.ndarray:
    """``(3, 3)`` columns: the palm frame's axes in the T-pose (hand along the arm, palm down, thumb forward +Z)."""
    x = np.array([1.0 if side == "left" else -1.0, 0.0, 0.0])
    y = np.array([0.0, 0.0, 1.0])
    return np.stack([x, y, np.cross(x, y)], axis=-1)


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
    hands: dict | None = None    # side -> HandShape: the rig gets finger bones

    @property
    def height(self) -> float:
        """Standing height of the T-pose (floor to head top), metres."""
        return self.thigh + self.shin + 0.06 + self.trunk + self.neck + self.head

    def scaled(self, height: float) -> "Proportions":
        """The same proportions scaled to a standing ``height`` in metres."""
        s = height / self.height
        scaled = {k: v * s for k, v in self.__dict__.items() if k != "hands"}
        return Proportions(**scaled, hands={k: h.scaled(s) for k, h in self.hands.items()} if self.hands else None)


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
    if p.hands:
        for side, shape in p.hands.items():
            off.update(finger_offsets(side, shape))
    return np.array([off[r] for r, _ in roles(bool(p.hands))], dtype=float)


def finger_offsets(side: str, shape: HandShape) -> dict[str, np.ndarray]:
    """Rest offsets of one hand's finger roles (:func:`finger_roles`): each finger's first joint where ``shape`` puts
    it from the wrist, its bones straight along :data:`FINGER_DIRECTIONS`, in the T-pose's palm frame."""
    F = palm_rest_frame(side)
    off = {}
    for i, f in enumerate(FINGERS):
        d = F @ FINGER_DIRECTIONS[i]
        off[f"{side}_{f}1"] = F @ shape.bases[i]
        for k, child in enumerate((f"{side}_{f}2", f"{side}_{f}3", f"{side}_{f}_end")):
            off[child] = shape.lengths[i, k] * d
    return off


def mannequin_radius(role: str) -> float:
    """The capsule radius (metres) of the mannequin's bones from the joint ``role`` to its children, for a 1.7 m
    body (glTF and FBX files carry a mesh so any viewer shows a character); 0 for end sites."""
    if role in END_SITES:
        return 0.0
    if role in FINGER_BONES:
        return 0.008
    part = role.split("_", 1)[-1]
    return {"pelvis": 0.085, "spine1": 0.09, "spine2": 0.1, "spine3": 0.075, "neck": 0.045, "head": 0.095,
            "collar": 0.045, "shoulder": 0.045, "elbow": 0.037, "wrist": 0.028, "hip": 0.065, "knee": 0.05,
            "ankle": 0.04, "toe": 0.03}.get(part, 0.03)
