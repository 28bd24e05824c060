"""Skeleton registry and converters between keypoint layouts.

Every layout names its joints in one canonical vocabulary (``left_hip``, ``neck``, ...), keeps the
tool's own names for file output (``LHip`` for OpenPose/Pose2Sim TRC files), and lists its bones.
Left/right pairs are derived from the canonical names.

Converters map arrays of shape ``(..., J_src, D)`` to ``(..., J_dst, D)``: a joint missing from
the source is derived when a rule allows it (``neck`` = mid-shoulders, ``pelvis`` = mid-hips, ...)
with the *minimum* confidence of the joints it is made from; otherwise it is NaN with confidence 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import MocapError


@dataclass(frozen=True)
class Skeleton:
    """A keypoint layout: ``joints`` (canonical names, in array order), native ``names``, ``bones``."""

    name: str
    joints: tuple[str, ...]
    names: tuple[str, ...]
    bones: tuple[tuple[str, str], ...]
    aliases: tuple[str, ...] = field(default=())

    def __post_init__(self):
        assert len(self.joints) == len(self.names) == len(set(self.joints)), self.name
        for a, b in self.bones:
            assert a in self.joints and b in self.joints, (self.name, a, b)

    def __len__(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        """Array index of a canonical or native joint name."""
        if joint in self.joints:
            return self.joints.index(joint)
        if joint in self.names:
            return self.names.index(joint)
        raise KeyError(f"{self.name} has no joint {joint!r}")

    @cached_property
    def bone_indices(self) -> np.ndarray:
        """``(B, 2)`` int: parent/child joint indices of each bone."""
        return np.array([[self.index(a), self.index(b)] for a, b in self.bones], dtype=int).reshape(-1, 2)

    @cached_property
    def rigid_bone_indices(self) -> np.ndarray:
        """``(B', 2)`` int: the bones whose length is anatomically constant (limbs, feet, head, pelvis
        width) — not the edges drawn across the flexible trunk (shoulder-hip, neck-shoulder,
        shoulder-shoulder, spine), whose lengths change by several % as the body bends and shrugs.
        These are the bones that refinement holds constant and that bone-length CV is reported on."""
        keep = [(a, b) for a, b in self.bones if not _flexible(a, b)]
        return np.array([[self.index(a), self.index(b)] for a, b in keep], dtype=int).reshape(-1, 2)

    @cached_property
    def left_right_pairs(self) -> tuple[tuple[int, int], ...]:
        """Index pairs (left, right) of mirrored joints."""
        pairs = []
        for i, j in enumerate(self.joints):
            if j.startswith("left_") and "right_" + j[5:] in self.joints:
                pairs.append((i, self.joints.index("right_" + j[5:])))
        return tuple(pairs)

    @cached_property
    def flip_indices(self) -> np.ndarray:
        """``(J,)`` permutation that swaps left and right joints."""
        perm = np.arange(len(self))
        for a, b in self.left_right_pairs:
            perm[a], perm[b] = b, a
        return perm

    def side(self, joint: int) -> int:
        """-1 for a left joint, +1 for a right joint, 0 on the midline (used for colours); joints
        without a canonical name are judged by the rig's own name (:func:`name_side`)."""
        n = self.joints[joint]
        return -1 if n.startswith("left_") else 1 if n.startswith("right_") else name_side(self.names[joint])


_TRUNK = {"neck", "thorax", "spine", "pelvis", "left_shoulder", "right_shoulder", "left_hip", "right_hip"}
_PELVIS = {"pelvis", "left_hip", "right_hip"}  # a rigid bone ring


def _flexible(a: str, b: str) -> bool:
    """True for an edge between two trunk points that are not both on the pelvis, or from the trunk
    to the nose (head nodding moves it relative to the neck)."""
    if a in _TRUNK and b in _TRUNK:
        return not (a in _PELVIS and b in _PELVIS)
    return {a, b} & {"nose"} != set() and {a, b} & {"neck", "thorax"} != set()


def name_side(name: str) -> int:
    """-1 / +1 / 0 for left / right / midline from a rig's joint name (``mixamorig:LeftArm``,
    ``LeftUpLeg``, ``lShldr``, ``L_Hip``, ``CC_Base_L_Thigh``...)."""
    n = name.split(":")[-1]
    low = n.lower()
    if "left" in low:
        return -1
    if "right" in low:
        return 1
    parts = [p for p in n.replace("-", "_").split("_") if p]
    prefix = n[:1].upper() if n[1:2].isupper() else ""  # lShldr, LHip, rThigh
    if "L" in parts or prefix == "L":
        return -1
    if "R" in parts or prefix == "R":
        return 1
    return 0


def _limbs(prefix_pairs):
    """Bones for both sides from (parent, child) pairs written without the side prefix."""
    return [(f"{s}_{a}" if a not in ("neck", "pelvis", "thorax") else a, f"{s}_{b}")
            for s in ("left", "right") for a, b in prefix_pairs]


_OPENPOSE_NAMES = {
    "nose": "Nose", "neck": "Neck", "pelvis": "MidHip", "head_top": "Head",
    "left_eye": "LEye", "right_eye": "REye", "left_ear": "LEar", "right_ear": "REar",
    "left_shoulder": "LShoulder", "right_shoulder": "RShoulder", "left_elbow": "LElbow",
    "right_elbow": "RElbow", "left_wrist": "LWrist", "right_wrist": "RWrist", "left_hip": "LHip",
    "right_hip": "RHip", "left_knee": "LKnee", "right_knee": "RKnee", "left_ankle": "LAnkle",
    "right_ankle": "RAnkle", "left_big_toe": "LBigToe", "right_big_toe": "RBigToe",
    "left_small_toe": "LSmallToe", "right_small_toe": "RSmallToe", "left_heel": "LHeel",
    "right_heel": "RHeel", "spine": "Spine", "thorax": "Thorax",
}

_ARMS = [("shoulder", "elbow"), ("elbow", "wrist")]
_LEGS = [("hip", "knee"), ("knee", "ankle")]
_FEET = [("ankle", "big_toe"), ("big_toe", "small_toe"), ("ankle", "heel")]
_FACE = [("eye", "ear")]

_COCO17 = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
           "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
           "left_knee", "right_knee", "left_ankle", "right_ankle"]
_COCO_BONES = (_limbs(_ARMS + _LEGS + _FACE)
               + [("nose", "left_eye"), ("nose", "right_eye"), ("left_shoulder", "right_shoulder"),
                  ("left_hip", "right_hip"), ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip")])

_BODY25 = ["nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
           "left_wrist", "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
           "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe",
           "left_heel", "right_big_toe", "right_small_toe", "right_heel"]
_BODY25_BONES = (_limbs(_ARMS + _LEGS + _FEET + _FACE)
                 + [("neck", "nose"), ("nose", "left_eye"), ("nose", "right_eye"), ("neck", "pelvis"),
                    ("neck", "left_shoulder"), ("neck", "right_shoulder"), ("pelvis", "left_hip"),
                    ("pelvis", "right_hip")])

# OpenPose experimental BODY_25B (used by Pose2Sim's demo): index 17 is the upper neck, 18 the head top.
_BODY25B = _COCO17 + ["neck", "head_top", "left_big_toe", "left_small_toe", "left_heel", "right_big_toe",
                      "right_small_toe", "right_heel"]
_BODY25B_BONES = (_limbs(_ARMS + _LEGS + _FEET + _FACE)
                  + [("neck", "head_top"), ("neck", "nose"), ("nose", "left_eye"), ("nose", "right_eye"),
                     ("neck", "left_shoulder"), ("neck", "right_shoulder"), ("left_hip", "right_hip"),
                     ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip")])

_HALPE26 = _COCO17 + ["head_top", "neck", "pelvis", "left_big_toe", "right_big_toe", "left_small_toe",
                      "right_small_toe", "left_heel", "right_heel"]
_HALPE_BONES = (_limbs(_ARMS + _LEGS + _FEET + _FACE)
                + [("neck", "head_top"), ("neck", "nose"), ("nose", "left_eye"), ("nose", "right_eye"),
                   ("neck", "left_shoulder"), ("neck", "right_shoulder"), ("neck", "pelvis"),
                   ("pelvis", "left_hip"), ("pelvis", "right_hip")])

_MP33 = ["nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
         "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
         "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
         "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
         "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
         "left_foot_index", "right_foot_index"]
_MP_BONES = (_limbs(_ARMS + _LEGS + [("wrist", "pinky"), ("wrist", "index"), ("wrist", "thumb"),
                                     ("ankle", "heel"), ("heel", "foot_index"), ("ankle", "foot_index"),
                                     ("eye", "ear")])
             + [("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"), ("left_shoulder", "left_hip"),
                ("right_shoulder", "right_hip"), ("nose", "left_eye"), ("nose", "right_eye"),
                ("mouth_left", "mouth_right")])

# Human3.6M 17-joint layout (VideoPose3D order); joint 9 ("Neck/Nose") is named `nose` here.
_H36M = ["pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "spine",
         "thorax", "nose", "head_top", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder",
         "right_elbow", "right_wrist"]
_H36M_NAMES = ["Hip", "RHip", "RKnee", "RFoot", "LHip", "LKnee", "LFoot", "Spine", "Thorax", "Neck/Nose",
               "Head", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist"]
_H36M_BONES = (_limbs(_ARMS + _LEGS) + [("pelvis", "left_hip"), ("pelvis", "right_hip"), ("pelvis", "spine"),
                                        ("spine", "thorax"), ("thorax", "nose"), ("nose", "head_top"),
                                        ("thorax", "left_shoulder"), ("thorax", "right_shoulder")])


def _native(joints, table=_OPENPOSE_NAMES):
    return tuple(table.get(j, j) for j in joints)


# A hand's 21 points in the order OpenPose, MediaPipe, COCO-WholeBody and HALPE share: the wrist as the hand
# model sees it, then each finger from its base to its tip (thumb: carpometacarpal, metacarpophalangeal,
# interphalangeal joints and tip; the others: metacarpophalangeal, proximal and distal interphalangeal joints and tip).
FINGERS = ("thumb", "index", "middle", "ring", "pinky")
HAND_21 = ("hand_wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip") + tuple(
    f"{f}_{j}" for f in FINGERS[1:] for j in ("mcp", "pip", "dip", "tip"))
_FINGER_BONES = [(a, b) for f in range(5) for a, b in zip((0,) + tuple(range(4 * f + 1, 4 * f + 4)),
                                                            range(4 * f + 1, 4 * f + 5))]
_PALM_BONES = [(5, 9), (9, 13), (13, 17)]  # across the knuckles: the palm's width


def hand_joints(side: str) -> tuple[str, ...]:
    """The 21 canonical names of one hand, ``side`` "left" or "right": ``left_hand_wrist``, ``left_thumb_cmc`` ...
    ``left_pinky_tip`` (order of :data:`HAND_21`)."""
    return tuple(f"{side}_{n}" for n in HAND_21)


def hand_bones(side: str) -> list[tuple[str, str]]:
    """The hand's bones: wrist to each finger's base, along each finger, and across the knuckles."""
    j = hand_joints(side)
    return [(j[a], j[b]) for a, b in _FINGER_BONES + _PALM_BONES]


def _face(n: int = 68) -> tuple[str, ...]:
    """The 68 face landmarks of COCO-WholeBody and HALPE (iBUG order), ``face_0`` ... ``face_67``; no bones."""
    return tuple(f"face_{i}" for i in range(n))


def with_hands(body: "Skeleton", name: str, *, face: bool = False, aliases=()) -> "Skeleton":
    """``body``'s joints (and with ``face`` the 68 face landmarks), then the left hand's 21 points, then the right
    hand's: the layout of OpenPose with ``--hand`` (body array, ``hand_left``, ``hand_right``), HALPE-136 and
    COCO-WholeBody-133. The hand's wrist is its own point (the hand model's), beside the body's wrist."""
    hands = hand_joints("left") + hand_joints("right")
    joints = body.joints + (_face() if face else ()) + hands
    names = body.names + (_face() if face else ()) + hands
    bones = body.bones + tuple(hand_bones("left") + hand_bones("right"))
    return Skeleton(name, joints, names, bones, tuple(aliases))


SKELETONS: dict[str, Skeleton] = {}


def register(skeleton: Skeleton) -> Skeleton:
    """Add a skeleton to the registry (by its name and aliases, case-insensitive)."""
    for key in (skeleton.name, *skeleton.aliases):
        SKELETONS[key.lower()] = skeleton
    return skeleton


COCO_17 = register(Skeleton("coco_17", tuple(_COCO17), tuple(_COCO17), tuple(_COCO_BONES), ("coco", "coco17")))
BODY_25 = register(Skeleton("body_25", tuple(_BODY25), _native(_BODY25), tuple(_BODY25_BONES), ("body25",)))
BODY_25B = register(Skeleton("body_25b", tuple(_BODY25B), _native(_BODY25B), tuple(_BODY25B_BONES), ("body25b",)))
HALPE_26 = register(Skeleton("halpe_26", tuple(_HALPE26), _native(_HALPE26), tuple(_HALPE_BONES), ("halpe", "halpe26")))
MEDIAPIPE_33 = register(Skeleton("mediapipe_33", tuple(_MP33), tuple(_MP33), tuple(_MP_BONES),
                                 ("mediapipe", "blazepose", "mediapipe33")))
H36M_17 = register(Skeleton("h36m_17", tuple(_H36M), tuple(_H36M_NAMES), tuple(_H36M_BONES), ("h36m", "h36m17")))

# Layouts with hands (:func:`with_hands`): 21 points per hand, left then right, after the body (and face).
_WB_BODY = _COCO17 + ["left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel"]
BODY_25_HANDS = register(with_hands(BODY_25, "body_25_hands", aliases=("body25_hands", "openpose_hands")))
BODY_25B_HANDS = register(with_hands(BODY_25B, "body_25b_hands", aliases=("body25b_hands",)))
COCO_17_HANDS = register(with_hands(COCO_17, "coco_17_hands", aliases=("coco_hands",)))
HALPE_26_HANDS = register(with_hands(HALPE_26, "halpe_26_hands", aliases=("halpe_hands",)))
MEDIAPIPE_33_HANDS = register(with_hands(MEDIAPIPE_33, "mediapipe_33_hands", aliases=("mediapipe_hands",)))
HALPE_136 = register(with_hands(HALPE_26, "halpe_136", face=True, aliases=("halpe136",)))
COCO_WHOLEBODY_133 = register(with_hands(
    Skeleton("coco_wholebody_body", tuple(_WB_BODY), tuple(_WB_BODY),
             tuple(_COCO_BONES + _limbs([("ankle", "big_toe"), ("big_toe", "small_toe"), ("ankle", "heel")]))),
    "coco_wholebody_133", face=True, aliases=("coco_wholebody", "coco_133", "wholebody")))
HAND_LAYOUTS = (BODY_25_HANDS, BODY_25B_HANDS, COCO_17_HANDS, HALPE_26_HANDS, MEDIAPIPE_33_HANDS, HALPE_136,
                COCO_WHOLEBODY_133)


def get_skeleton(name: str | Skeleton) -> Skeleton:
    """Look a skeleton up by name or alias (``"coco"``, ``"BODY_25B"``, ``"mediapipe"``, ...)."""
    if isinstance(name, Skeleton):
        return name
    key = str(name).lower().replace("-", "_")
    if key not in SKELETONS:
        raise MocapError(f"unknown skeleton {name!r}; known: {', '.join(sorted({s.name for s in SKELETONS.values()}))}")
    return SKELETONS[key]


# How a joint can be made from others when a layout lacks it: alternatives in order of preference,
# each the mean of the listed joints (which may themselves be derived).
DERIVATIONS: dict[str, list[tuple[str, ...]]] = {
    "neck": [("left_shoulder", "right_shoulder")],
    "pelvis": [("left_hip", "right_hip")],
    "thorax": [("neck",)],
    "spine": [("pelvis", "thorax")],
    "left_big_toe": [("left_foot_index",)],
    "right_big_toe": [("right_foot_index",)],
    "left_foot_index": [("left_big_toe",)],
    "right_foot_index": [("right_big_toe",)],
    "left_eye": [("left_eye_inner", "left_eye_outer")],
    "right_eye": [("right_eye_inner", "right_eye_outer")],
    "left_hand_wrist": [("left_wrist",)],
    "right_hand_wrist": [("right_wrist",)],
}


def midpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(..., D)`` the point halfway between ``a`` and ``b`` (NaN where either is)."""
    return 0.5 * (a + b)


def derived_joint(named: dict[str, np.ndarray], joint: str) -> np.ndarray:
    """``(T, 3)`` a derived joint from named positions by its first rule in :data:`DERIVATIONS`
    (e.g. "pelvis" = mid-hips, "neck" = mid-shoulders), whether or not ``named`` has its own."""
    parts = DERIVATIONS[joint][0]
    return midpoint(named[parts[0]], named[parts[1]]) if len(parts) == 2 else named[parts[0]]


def conversion_plan(src: str | Skeleton, dst: str | Skeleton) -> list[list[int] | None]:
    """For each destination joint: source indices whose mean gives it, or None (unavailable)."""
    src, dst = get_skeleton(src), get_skeleton(dst)

    def resolve(name: str, seen: frozenset) -> list[int] | None:
        if name in src.joints:
            return [src.index(name)]
        if name in seen:
            return None
        for alt in DERIVATIONS.get(name, []):
            parts = [resolve(n, seen | {name}) for n in alt]
            if all(p is not None for p in parts):
                # Flatten a mean of means with equal weight per listed joint.
                return [i for p in parts for i in p] if all(len(p) == 1 for p in parts) else _weighted(parts)
        return None

    def _weighted(parts):
        # Express mean(mean(a,b), c) as a multiset of indices with equal weights.
        n = int(np.lcm.reduce([len(p) for p in parts]))
        return [i for p in parts for i in p * (n // len(p))]

    return [resolve(j, frozenset()) for j in dst.joints]


def convert(array: np.ndarray, src: str | Skeleton, dst: str | Skeleton, confidence_last: bool = True) -> np.ndarray:
    """Convert ``(..., J_src, D)`` to ``(..., J_dst, D)``.

    With ``confidence_last`` the last channel is a confidence: derived joints take the minimum
    confidence of their sources; unavailable joints get NaN coordinates and confidence 0.
    """
    array = np.asarray(array, dtype=float)
    plan = conversion_plan(src, dst)
    out = np.full(array.shape[:-2] + (len(plan), array.shape[-1]), np.nan)
    for j, idx in enumerate(plan):
        if idx is None:
            if confidence_last:
                out[..., j, -1] = 0.0
            continue
        sub = array[..., idx, :]
        if confidence_last:
            out[..., j, :-1] = sub[..., :-1].mean(axis=-2)
            out[..., j, -1] = sub[..., -1].min(axis=-1)
        else:
            out[..., j, :] = sub.mean(axis=-2)
    return out


_NATIVE_TO_CANONICAL = {v: k for k, v in _OPENPOSE_NAMES.items()}


def skeleton_from_names(names: list[str], name: str = "custom") -> Skeleton:
    """A skeleton for markers read from a file (TRC, C3D, CSV).

    Names matching a registered layout's native names exactly (in order) return that layout;
    otherwise native OpenPose/Pose2Sim names (``LHip``) are mapped to canonical ones, and bones are
    taken from the registered layouts wherever both ends are present.
    """
    names = [str(n) for n in names]
    seen = set()
    repeated = [n for n in names if n in seen or seen.add(n)]
    if repeated:
        raise MocapError(f"joint name {repeated[0]!r} appears more than once: names must be unique")
    if not names:
        raise MocapError("no joint names")
    for sk in set(SKELETONS.values()):
        if list(sk.names) == names or list(sk.joints) == names:
            return sk
    canonical = [_NATIVE_TO_CANONICAL.get(n, n) for n in names]
    if len(set(canonical)) != len(canonical):
        canonical = names
    present = set(canonical)
    bones = []
    for sk in (BODY_25B, BODY_25, HALPE_26, MEDIAPIPE_33, H36M_17):
        for a, b in sk.bones:
            if a in present and b in present and (a, b) not in bones and (b, a) not in bones:
                bones.append((a, b))
    return Skeleton(name, tuple(canonical), tuple(names), tuple(bones))
