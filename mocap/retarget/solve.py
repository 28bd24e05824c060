"""Retargeting: 3D joint positions -> local joint rotations of a rig (see :mod:`mocap.retarget.rigs`).

For every rig joint, the global rotation is the one that turns the rest bone towards its child's
target position (exact: bone directions match the input) and a secondary "pole" axis towards a
cue that fixes the twist: the hip line for the pelvis, hip/shoulder lines for the spine, the
ear/shoulder line for neck and head. Limbs take the smallest swing from their parent's frame and
then the twist that puts the rest hinge axis on the limb's hinge axis (normal of its bending
plane), faded out continuously as the limb straightens so nothing spins or flips; the foot takes
the swing only (its roll is not observable from ankle and toe). Joints the source lacks are interpolated (spine) or keep their
parent's orientation (hands, toes); frames where a joint's cue is missing keep the last good local
rotation. Everything is vectorised over frames.
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from scipy.spatial.transform import Rotation

from ..io.bvh import BVH
from ..io.gltf import Armature
from ..errors import MocapError
from ..smooth.filters import butterworth
from ..core.kinematics import forward_kinematics
from ..core.motion import UNIT_SCALE, Motion3D
from ..core.skeletons import HAND_21, derived_joint
from ..core.rotations import axis_angle, swing, unit  # noqa: F401 (axis_angle, swing: part of this API)
from ..workers import each
from . import pieces
from .rigs import (END_SITES, FINGER_BONES, FINGERS, HAND_TEMPLATE, ROLES, HandShape, Proportions, Rig, get_rig,
                   mannequin_radius, palm_rest_frame, parents, rest_offsets, role_index, roles)

# Source joint names per role, in order of preference: canonical keypoint names, then BVH families
# (cgspeed CMU, Mixamo/generic, DAZ, iClone CC_Base). Matching is case-insensitive.
SOURCE_NAMES = {
    "left_hip": ["left_hip", "LHip", "LeftUpLeg", "LeftHip", "lThigh", "CC_Base_L_Thigh", "mixamorig:LeftUpLeg"],
    "left_knee": ["left_knee", "LKnee", "LeftLeg", "LeftKnee", "lShin", "CC_Base_L_Calf", "mixamorig:LeftLeg"],
    "left_ankle": ["left_ankle", "LAnkle", "LeftFoot", "LeftAnkle", "lFoot", "CC_Base_L_Foot", "mixamorig:LeftFoot"],
    "left_toe": ["left_big_toe", "left_foot_index", "LBigToe", "LeftToeBase", "LeftToe", "lFoot_End",
                 "CC_Base_L_ToeBase", "mixamorig:LeftToeBase"],
    "left_shoulder": ["left_shoulder", "LShoulder", "LeftArm", "lShldr", "CC_Base_L_Upperarm", "mixamorig:LeftArm",
                      "LeftShoulder"],
    "left_elbow": ["left_elbow", "LElbow", "LeftForeArm", "LeftElbow", "lForeArm", "CC_Base_L_Forearm",
                   "mixamorig:LeftForeArm"],
    "left_wrist": ["left_wrist", "LWrist", "LeftHand", "LeftWrist", "lHand", "CC_Base_L_Hand", "mixamorig:LeftHand"],
    "neck": ["neck", "Neck", "lowerneck", "CC_Base_NeckTwist01", "mixamorig:Neck"],
    "head": ["head", "Head", "CC_Base_Head", "mixamorig:Head"],
    "head_end": ["head_top", "Head_End", "head_End", "HeadTop_End", "mixamorig:HeadTop_End"],
    "left_ear": ["left_ear", "LEar"],
}
def _mirror_name(name: str) -> str:
    """The right-side twin of a left-side joint name in any of the naming families above."""
    for a, b in (("left_", "right_"), ("Left", "Right"), ("_L_", "_R_")):
        if a in name:
            return name.replace(a, b)
    return ("R" if name[0] == "L" else "r") + name[1:] if re.match(r"[Ll][A-Z]", name) else name


for _r in [r for r in SOURCE_NAMES if r.startswith("left_")]:
    SOURCE_NAMES["right_" + _r[5:]] = [_mirror_name(n) for n in SOURCE_NAMES[_r]]

REQUIRED = ["left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
            "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"]


def frame_from(primary: np.ndarray, pole: np.ndarray) -> np.ndarray:
    """``(..., 3)`` primary and pole vectors -> ``(..., 3, 3)`` orthonormal frames, columns [a, b, a x b]."""
    a = unit(primary)
    b = unit(pole - (pole * a).sum(-1, keepdims=True) * a)
    return np.stack([a, b, np.cross(a, b)], axis=-1)


def smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def source_targets(motion: Motion3D, min_confidence: float = 0.05) -> dict[str, np.ndarray]:
    """Role -> ``(T, 3)`` positions (metres, Y-up) found in ``motion``; NaN where unknown or unconfident."""
    m = motion.to_up("y")
    lower = {n.lower(): i for i, n in enumerate(m.skeleton.joints)}  # canonical names (= BVH names)
    pos = np.where((m.confidence >= min_confidence)[..., None], m.positions, np.nan)
    out = {}
    for role, cands in SOURCE_NAMES.items():
        for c in cands:
            if c.lower() in lower:
                out[role] = pos[:, lower[c.lower()]]
                break
    if "head" not in out and "left_ear" in out and "right_ear" in out:
        out["head"] = 0.5 * (out["left_ear"] + out["right_ear"])  # keypoint layouts: head centre
    out.update(hand_targets(lower, pos))
    missing = [r for r in REQUIRED if r not in out]
    if missing:
        raise MocapError(f"cannot retarget: the {m.skeleton.name} skeleton has no {', '.join(missing)}")
    for r in REQUIRED:
        if not np.isfinite(out[r]).all(-1).any():
            raise MocapError(f"cannot retarget: joint {r} is never known (all NaN)")
    return out


# the 21 hand points (mocap.core.skeletons.HAND_21: the wrist, then four per finger) each finger role sits on:
# thumb1..3 on the carpometacarpal, metacarpophalangeal and interphalangeal joints, the others' 1..3 on the knuckle and
# the two finger joints; _end: the tip
FINGER_POINTS = {f: HAND_21[1 + 4 * i:5 + 4 * i] for i, f in enumerate(FINGERS)}


def hand_targets(lower: dict[str, int], pos: np.ndarray) -> dict[str, np.ndarray]:
    """Finger role -> ``(T, 3)`` from a motion whose joints (``lower``: lower-case name -> index into ``pos (T, J,
    3)``) include both hands' 21 points (:data:`~mocap.core.skeletons.HAND_21`), and ``<side>_hand_wrist``; empty
    otherwise (the rig then has no finger bones)."""
    out, seen = {}, False
    for side in ("left", "right"):
        names = [f"{side}_hand_wrist"] + [f"{side}_{n}" for pts in FINGER_POINTS.values() for n in pts]
        if not all(n in lower for n in names):
            return {}
        seen |= bool(np.isfinite(pos[:, [lower[n] for n in names[1:]]]).any())
        out[f"{side}_hand_wrist"] = pos[:, lower[f"{side}_hand_wrist"]]
        for f, pts in FINGER_POINTS.items():
            for role, n in zip((f"{side}_{f}1", f"{side}_{f}2", f"{side}_{f}3", f"{side}_{f}_end"), pts):
                out[role] = pos[:, lower[f"{side}_{n}"]]
    return out if seen else {}


def palm_frames(t: dict[str, np.ndarray], side: str) -> np.ndarray:
    """``(T, 3, 3)`` the palm frame of one hand in the targets (columns: towards the middle knuckle, across the
    knuckles towards the index, their cross product); NaN where a point is missing."""
    w = t[f"{side}_hand_wrist"]
    return frame_from(t[f"{side}_middle1"] - w, t[f"{side}_index1"] - t[f"{side}_pinky1"])


def measure_hand(t: dict[str, np.ndarray], side: str, scale: float) -> HandShape:
    """One hand's :class:`~mocap.retarget.rigs.HandShape` from the targets: medians over frames of each finger's
    first joint in the palm frame and of its bone lengths; the template (times ``scale``) where never seen."""
    F = palm_frames(t, side)
    w = t[f"{side}_hand_wrist"]
    with warnings.catch_warnings():  # a finger never seen: the template's
        warnings.simplefilter("ignore", RuntimeWarning)
        bases = np.stack([np.nanmedian(np.einsum("tji,tj->ti", F, t[f"{side}_{f}1"] - w), axis=0) for f in FINGERS])
    lengths = np.array([[_median_len(t[f"{side}_{f}{k}"], t[f"{side}_{f}{k + 1}" if k < 3 else f"{side}_{f}_end"])
                         for k in (1, 2, 3)] for f in FINGERS])
    tpl = HAND_TEMPLATE.scaled(scale)
    bases = np.where(np.isfinite(bases).all(-1, keepdims=True), bases, tpl.bases)
    return HandShape(bases, np.where(np.isfinite(lengths) & (lengths > 1e-4), lengths, tpl.lengths))


def _median_len(a, b) -> float:
    d = np.linalg.norm(a - b, axis=-1)
    return float(np.nanmedian(d)) if np.isfinite(d).any() else float("nan")


def measure(t: dict[str, np.ndarray]) -> Proportions:
    """Robust (median over frames) subject proportions from role targets; template values where unknown."""
    p = Proportions()
    pelvis = derived_joint(t, "pelvis")
    neck = _neck(t)
    sh_mid = derived_joint(t, "neck")
    trunk_dir = unit(neck - pelvis)
    vals = {
        "hip_width": _median_len(t["left_hip"], t["right_hip"]), "trunk": _median_len(neck, pelvis),
        "shoulder_width": _median_len(t["left_shoulder"], t["right_shoulder"]),
        "shoulder_height": float(np.nanmedian(((sh_mid - pelvis) * trunk_dir).sum(-1))),
        "upper_arm": np.nanmean([_median_len(t[f"{s}_shoulder"], t[f"{s}_elbow"]) for s in ("left", "right")]),
        "forearm": np.nanmean([_median_len(t[f"{s}_elbow"], t[f"{s}_wrist"]) for s in ("left", "right")]),
        "thigh": np.nanmean([_median_len(t[f"{s}_hip"], t[f"{s}_knee"]) for s in ("left", "right")]),
        "shin": np.nanmean([_median_len(t[f"{s}_knee"], t[f"{s}_ankle"]) for s in ("left", "right")]),
    }
    if "head" in t:
        vals["neck"] = _median_len(t["head"], neck)
        if "head_end" in t:
            vals["head"] = _median_len(t["head_end"], t["head"])
    if "left_toe" in t and "right_toe" in t:
        vals["foot"] = np.nanmean([_median_len(t[f"{s}_toe"], t[f"{s}_ankle"]) for s in ("left", "right")])
    scale = vals["thigh"] / p.thigh if np.isfinite(vals["thigh"]) else 1.0
    for k, v in vals.items():
        if np.isfinite(v) and v > 1e-4:
            setattr(p, k, float(v))
        elif k not in ("trunk",):
            setattr(p, k, getattr(p, k) * scale)
    p.hand, p.toe = p.hand * scale, p.toe * scale
    if "left_index1" in t:
        p.hands = {side: measure_hand(t, side, scale) for side in ("left", "right")}
    return p


def _neck(t):
    return t["neck"] if "neck" in t else derived_joint(t, "neck")


@dataclass
class Retargeted:
    """A rig animation: local rotations ``(T, J, 3, 3)``, root translation ``(T, 3)`` metres, rest offsets ``(J, 3)``."""

    rig: Rig
    local: np.ndarray
    root: np.ndarray
    offsets: np.ndarray
    fps: float
    proportions: Proportions
    kept: np.ndarray  # (T, J) bool: rotation held from an earlier frame (cue missing)
    notes: list[str] = field(default_factory=list)  # what of the source the rig does not carry

    @property
    def hands(self) -> bool:
        """Whether the rig has finger bones (:func:`~mocap.retarget.rigs.roles` with hands)."""
        return self.local.shape[1] > len(ROLES)

    @property
    def roles(self) -> list[str]:
        return [r for r, _ in roles(self.hands)]

    def global_transforms(self, joints=None) -> tuple[np.ndarray, np.ndarray]:
        """Forward kinematics: ``(T, J, 3, 3)`` world rotations and ``(T, J, 3)`` positions, metres, Y-up; of the
        ``joints`` (indices) only, in their order, when given (only their chains are computed)."""
        par = np.asarray(parents(self.hands))
        chain = np.arange(len(par)) if joints is None else ancestors(par, joints)
        sub = np.searchsorted(chain, np.where(par[chain] >= 0, par[chain], chain))  # the chain's own parent indices
        sub[par[chain] < 0] = -1
        t = np.broadcast_to(self.offsets[chain], self.local.shape[:1] + (len(chain), 3)).copy()
        for k in np.flatnonzero(sub < 0):
            t[:, k] = self.root + self.offsets[chain[k]]
        R, P = forward_kinematics(sub, self.local[:, chain], t)
        if joints is None:
            return R, P
        pick = np.searchsorted(chain, joints)
        return R[:, pick], P[:, pick]

    def to_motion(self) -> Motion3D:
        from ..core.skeletons import Skeleton

        roles = self.roles
        names = [self.rig.names.get(r, r) if r not in END_SITES else r for r in roles]
        bones = tuple((roles[p], roles[j]) for j, p in enumerate(parents(self.hands)) if p >= 0)
        _, P = self.global_transforms()
        return Motion3D(P, Skeleton(f"rig_{self.rig.name}", tuple(roles), tuple(names), bones), self.fps, up="y",
                        joint_names=names)

    def joint_names(self) -> list[str]:
        """The rig's name of every joint, end sites as ``<parent's name>_End`` (as a BVH reader names them)."""
        par, names = parents(self.hands), []
        for j, role in enumerate(self.roles):
            names.append(f"{names[par[j]]}_End" if role in END_SITES else self.rig.names[role])
        return names

    def to_armature(self) -> Armature:
        """The rig at rest for glTF/FBX (:class:`mocap.io.gltf.Armature`): metres, the mannequin's radii scaled
        with the subject's height."""
        scale = self.proportions.height / Proportions().height
        return Armature(self.joint_names(), parents(self.hands), self.offsets.copy(),
                        np.array([r in END_SITES for r in self.roles]),
                        np.array([mannequin_radius(r) for r in self.roles]) * scale)

    def to_bvh(self, units: str = "cm") -> BVH:
        """BVH in ``units``: root channels ``Xposition Yposition Zposition Zrotation Xrotation Yrotation``,
        joints ``Zrotation Xrotation Yrotation``; Euler angles unwrapped over time (no 360 jumps)."""
        s = 1.0 / UNIT_SCALE[units]
        par = parents(self.hands)
        angles = euler_zxy(self.local)
        names, chans, cols = self.joint_names(), [], []
        for j, (role, _) in enumerate(roles(self.hands)):
            if role in END_SITES:
                chans.append([])
                continue
            rot = ["Zrotation", "Xrotation", "Yrotation"]
            eul = np.unwrap(angles[:, j], period=360.0, axis=0)
            if par[j] < 0:
                chans.append(["Xposition", "Yposition", "Zposition"] + rot)
                cols.append((self.root + self.offsets[j]) * s)
            else:
                chans.append(rot)
            cols.append(eul)
        return BVH(names, par, self.offsets * s, chans, 1.0 / self.fps, np.concatenate(cols, axis=1))


def euler_zxy(R: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` rotation matrices -> ``(..., 3)`` BVH Euler angles ``(z, x, y)`` in degrees with ``R = Rz(z)
    Rx(x) Ry(y)`` (intrinsic Z, X, Y: the BVH channel order ``Zrotation Xrotation Yrotation``); x in [-90, 90]. At
    x = +-90 deg (z and y turn about the same axis) y is 0 and z carries the turn."""
    R = np.asarray(R, float)
    cx = np.hypot(R[..., 2, 0], R[..., 2, 2])
    lock = cx < 1e-9
    z = np.where(lock, np.arctan2(R[..., 1, 0], R[..., 0, 0]), np.arctan2(-R[..., 0, 1], R[..., 1, 1]))
    y = np.where(lock, 0.0, np.arctan2(-R[..., 2, 0], R[..., 2, 2]))
    return np.degrees(np.stack([z, np.arctan2(R[..., 2, 1], cx), y], -1))


def ancestors(parents, joints) -> np.ndarray:
    """Sorted indices of ``joints`` and of every joint above them in the tree ``parents (J,)`` (-1: root)."""
    keep = set()
    for j in np.atleast_1d(joints).tolist():
        while j >= 0 and j not in keep:
            keep.add(j)
            j = int(parents[j])
    return np.array(sorted(keep), int)


def retarget(motion: Motion3D, rig: str | Rig = "generic", proportions: Proportions | None = None,
             height: float | None = None, *, ground: bool = True, face_forward: bool = False,
             bend_blend: float = 0.2, roll_time: float = 0.5, executor=None) -> Retargeted:
    """Fit ``rig`` to ``motion`` (any skeleton with hips, knees, ankles, shoulders, elbows, wrists).

    proportions: bone lengths (default: measured from the subject, median over frames); ``height``
    instead scales the rig template to a standing height in metres. ``ground`` puts the lowest foot
    on the floor (y = 0, 5th percentile over frames); ``face_forward`` rotates about Y so the
    character faces +Z at the first frame and starts above the origin. ``bend_blend`` is how strongly
    the body's forward direction steers a nearly straight limb's twist. ``roll_time`` (s): how fast
    a foot's unobservable roll is pulled back towards the leg's (see :func:`transport_roll`).

    Steps: cues from the joints (:func:`_trunk_cues`, :func:`_limb_cues`), world rotations of every
    rig joint (:func:`_global_rotations`), local rotations (:func:`_local_rotations`), floor. A motion with both
    hands' 21 points (:func:`hand_targets`) gets finger bones: the wrist turns with the palm (towards the middle
    knuckle, across the knuckles), each finger bone by the smallest swing onto its points, sized by
    :func:`measure_hand`.

    ``executor``: a long motion's frames are solved in pieces of time on it (:mod:`mocap.retarget.pieces`: what
    spans the whole motion — proportions, notes, facing, floor — is decided here, once).
    """
    rig = get_rig(rig)
    if motion.n_frames == 0:
        raise MocapError("cannot retarget an empty motion (0 frames)")
    t = source_targets(motion)
    p = proportions or (Proportions().scaled(height) if height else measure(t))
    if p.hands and "left_index1" not in t:
        p.hands = None  # proportions of a subject with hands, a motion without: no finger bones
    if executor is not None:
        out, low = rotations_in_pieces(t, rig, p, fps=motion.fps, roll_time=roll_time, executor=executor)
    else:
        out, low = rotations(t, rig, p, fps=motion.fps, roll_time=roll_time), None
    out.notes = _unseen_hands(t) if p.hands else _left_out(motion)
    if face_forward:  # a turn about the vertical: the feet's heights stay
        _face_forward(out)
    if ground:
        out.root[:, 1] -= np.percentile(lowest_foot(out) if low is None else low, 5)
    return out


def rotations(t: dict[str, np.ndarray], rig: Rig, p: Proportions, *, fps: float, roll_time: float = 0.5) -> Retargeted:
    """The rig's rotations for the targets ``t`` (role -> ``(T, 3)`` metres, :func:`source_targets`) of a subject of
    proportions ``p``: every frame on its own, but for the feet's roll carried over time (:func:`transport_roll`) and
    missing rotations held from the frame before (:func:`_local_rotations`); not grounded, no notes."""
    offsets = rest_offsets(p)
    trunk = _trunk_cues(t, p)
    limbs = _limb_cues(t, offsets, trunk["forward"])
    if p.hands:
        trunk["frames"].update({f"{s}_wrist": (t[f"{s}_middle1"] - t[f"{s}_hand_wrist"],
                                               t[f"{s}_index1"] - t[f"{s}_pinky1"], palm_rest_frame(s)[:, 1])
                                for s in ("left", "right")})
    G = _global_rotations(t, offsets, trunk, limbs, fps=fps, roll_time=roll_time)
    local, kept = _local_rotations(G)
    pelvis = trunk["pelvis"]
    return Retargeted(rig, local, _hold_last(pelvis, ~np.isfinite(pelvis).all(-1)), offsets=offsets, fps=fps,
                      proportions=p, kept=kept)


def solve_piece(piece: tuple, *, rig: Rig, proportions: Proportions, fps: float,
                roll_time: float) -> tuple[Retargeted, np.ndarray]:
    """One piece of time: ``(targets, drop)`` -> :func:`rotations` and the height of its lowest foot point in every
    frame (:func:`lowest_foot`), without its first ``drop`` frames (see :mod:`mocap.retarget.pieces`)."""
    t, drop = piece
    r = rotations(t, rig, proportions, fps=fps, roll_time=roll_time)
    r = Retargeted(rig, r.local[drop:], r.root[drop:], offsets=r.offsets, fps=fps, proportions=proportions,
                   kept=r.kept[drop:])
    return r, lowest_foot(r)


def join_pieces(parts: list[tuple[Retargeted, np.ndarray]]) -> tuple[Retargeted, np.ndarray]:
    """The pieces' rotations, root, held flags and lowest foot heights one after another (offsets, rig and proportions
    of the first)."""
    a = parts[0][0]
    return (Retargeted(a.rig, np.concatenate([r.local for r, _ in parts]), np.concatenate([r.root for r, _ in parts]),
                       offsets=a.offsets, fps=a.fps, proportions=a.proportions,
                       kept=np.concatenate([r.kept for r, _ in parts])),
            np.concatenate([h for _, h in parts]))


def rotations_in_pieces(t: dict[str, np.ndarray], rig: Rig, p: Proportions, *, fps: float, roll_time: float = 0.5,
                        executor=None, piece: int | None = None) -> tuple[Retargeted, np.ndarray]:
    """:func:`rotations` of the targets ``t`` in pieces of ``piece`` frames (default
    :data:`mocap.retarget.pieces.PIECE`; one call when the motion is no longer) on ``executor``, each solved from
    :func:`~mocap.retarget.pieces.warm_frames` earlier: the answer of one call (see :mod:`mocap.retarget.pieces`);
    and ``(T,)`` the height of the lowest foot point in every frame (before any grounding)."""
    T = len(next(iter(t.values())))
    piece = piece or pieces.PIECE
    work = partial(solve_piece, rig=rig, proportions=p, fps=fps, roll_time=roll_time)
    if T <= piece:
        return work((t, 0))
    spans = pieces.spans(T, piece, pieces.warm_frames(fps, roll_time))
    items = (({k: v[s] for k, v in t.items()}, drop) for s, drop in spans)
    return join_pieces(list(each(work, items, executor, ahead=4)))


def warm_up() -> None:
    """Nothing: a new process of pieces that runs it has imported this module (its first piece need not wait)."""


def _left_out(motion: Motion3D) -> list[str]:
    """A note when ``motion`` has finger points that the rig does not carry (both hands' 21 points make finger
    bones: :func:`hand_targets`)."""
    hand = {f"{s}_{n}" for s in ("left", "right") for n in HAND_21[1:]}
    fingers = [n for n in motion.skeleton.joints if n in hand]
    if not fingers:
        return []
    return [f"the rig has finger bones only for both hands' 21 points: the {len(fingers)} finger points here are not "
            "in the BVH (TRC, C3D, CSV and NPZ keep them)"]


def _unseen_hands(t: dict[str, np.ndarray]) -> list[str]:
    """A note for each hand whose fingers were never seen (its finger bones keep the rest pose, straight)."""
    return [f"the {side} hand's fingers were never seen: its finger bones keep the rest pose (straight)"
            for side in ("left", "right") if not any(np.isfinite(t[r]).any() for r in FINGER_BONES
                                                         if r.startswith(f"{side}_"))]


def _hinge(a, b, c):
    """Hinge axis of the chain a-b-c (normal of its bending plane) and a weight in [0, 1] that
    fades the cue out as the chain straightens (where the plane is undefined)."""
    u, v = unit(b - a), unit(c - b)
    n = np.cross(u, v)
    return unit(n), smoothstep(np.linalg.norm(n, axis=-1), 0.05, 0.25)


def _trunk_cues(t: dict[str, np.ndarray], p: Proportions) -> dict:
    """Trunk and head: the pelvis, the body's up and forward, the spine points, and for each trunk
    joint a full frame from two well-separated cues ``(primary, pole, rest pole)``."""
    X, Y, Z = np.eye(3)
    pelvis = derived_joint(t, "pelvis")
    neck = _neck(t)
    up = neck - pelvis
    hipline = t["left_hip"] - t["right_hip"]
    shline = t["left_shoulder"] - t["right_shoulder"]
    earline = t["left_ear"] - t["right_ear"] if "left_ear" in t and "right_ear" in t else None
    head = t.get("head", neck + unit(up) * p.neck)
    head_end = t.get("head_end", head + unit(head - neck) * p.head)
    face = earline if earline is not None and np.isfinite(earline).all(-1).mean() > 0.5 else shline
    spine = {f"spine{k}": pelvis + up * (k / 4) for k in (1, 2, 3)}
    frames = {
        "pelvis": (hipline, up, Y),
        "spine1": (spine["spine2"] - spine["spine1"], hipline, X),
        "spine2": (spine["spine3"] - spine["spine2"], unit(hipline) + unit(shline), X),
        "spine3": (neck - spine["spine3"], shline, X),
        "neck": (head - neck, face, X),
        "head": (head_end - head, face, X),
    }
    return {"pelvis": pelvis, "up": up, "forward": unit(np.cross(hipline, up)), "spine3": spine["spine3"],
            "frames": frames}


def _limb_cues(t: dict[str, np.ndarray], offsets: np.ndarray, forward: np.ndarray) -> dict:
    """Limbs: per joint ``(direction, hinge axis, rest hinge axis, weight)``: the smallest swing from
    the parent's frame (no twist of their own), then the twist that turns the rest hinge axis onto
    the limb's, weighted by how much the limb is bent; the feet only a direction."""
    X, Y, Z = np.eye(3)
    idx = role_index(len(offsets) > len(ROLES))
    limbs = {}
    for s in ("left", "right"):
        sh, el, wr = t[f"{s}_shoulder"], t[f"{s}_elbow"], t[f"{s}_wrist"]
        hp, kn, an = t[f"{s}_hip"], t[f"{s}_knee"], t[f"{s}_ankle"]
        elbow_axis, elbow_w = _hinge(sh, el, wr)  # elbows flex forwards, knees backwards (in the T-pose)
        knee_axis, knee_w = _hinge(hp, kn, an)
        arm_rest = np.cross(unit(offsets[idx[f"{s}_elbow"]]), Z)
        leg_rest = np.cross(-Y, -Z)
        toe = t.get(f"{s}_toe")
        foot = toe - an if toe is not None else forward
        if toe is not None:  # a straight leg's twist follows the foot: knee axis = foot x leg
            foot_axis = unit(np.cross(unit(foot), unit(an - hp)))
            knee_axis = unit(knee_w[:, None] * knee_axis + (1 - knee_w[:, None]) * foot_axis)
            knee_w = np.where(np.isfinite(knee_axis).all(-1), 1.0, knee_w)
        limbs.update({
            f"{s}_shoulder": (el - sh, elbow_axis, arm_rest, elbow_w), f"{s}_elbow": (wr - el, elbow_axis, arm_rest, elbow_w),
            f"{s}_hip": (kn - hp, knee_axis, leg_rest, knee_w), f"{s}_knee": (an - kn, knee_axis, leg_rest, knee_w),
            # the foot's roll about its own axis is not observable from ankle and toe: see `feet`
            f"{s}_ankle": (foot, None, None, None),
        })
    return limbs


# the child each rig joint points at in the rest pose
AIM = {"pelvis": "left_hip", "spine1": "spine2", "spine2": "spine3", "spine3": "neck", "neck": "head",
       "head": "head_end"}
for _s in ("left", "right"):
    AIM.update({f"{_s}_collar": f"{_s}_shoulder", f"{_s}_shoulder": f"{_s}_elbow", f"{_s}_elbow": f"{_s}_wrist",
                f"{_s}_hip": f"{_s}_knee", f"{_s}_knee": f"{_s}_ankle", f"{_s}_ankle": f"{_s}_toe",
                f"{_s}_wrist": f"{_s}_middle1"})
    AIM.update({f"{_s}_{f}{k}": f"{_s}_{f}{k + 1}" if k < 3 else f"{_s}_{f}_end" for f in FINGERS for k in (1, 2, 3)})


def _global_rotations(t, offsets, trunk: dict, limbs: dict, *, fps: float, roll_time: float) -> np.ndarray:
    """``(T, J, 3, 3)`` world rotation of every rig joint, parents first: trunk joints from their
    frames, limbs by swing + hinge twist, feet by :func:`_foot_rotation`, wrists and toes as their
    parent; then the feet's roll carried over time (:func:`transport_roll`)."""
    Y = np.eye(3)[1]
    hands = len(offsets) > len(ROLES)
    idx, par = role_index(hands), parents(hands)
    frames = dict(trunk["frames"])
    T = len(trunk["pelvis"])
    G = np.full((T, len(offsets), 3, 3), np.nan)
    for j, (role, parent) in enumerate(roles(hands)):
        if role in END_SITES:
            continue
        if role.endswith("_collar"):
            s = role.split("_")[0]
            collar_pos = trunk["spine3"] + G[:, idx["spine3"]] @ offsets[j]
            frames[role] = (t[f"{s}_shoulder"] - collar_pos, trunk["up"], Y)
        rest_dir = unit(offsets[idx[AIM[role]]]) if AIM.get(role) in idx else None  # wrists aim only with hands
        if role in frames:
            prim, pole, rest_pole = frames[role]
            G[:, j] = frame_from(prim, pole) @ frame_from(rest_dir, rest_pole).T
        elif role.endswith("_ankle"):
            G[:, j] = _foot_rotation(G[:, par[j]], unit(limbs[role][0]), unit(offsets[j]), rest_dir)
        elif role in limbs:
            G[:, j] = _limb_rotation(G[:, par[j]], limbs[role], rest_dir)
        elif role in FINGER_BONES:  # the smallest swing from its parent: fingers bend and spread, never twist
            G[:, j] = swing(G[:, par[j]] @ rest_dir, unit(t[AIM[role]] - t[role])) @ G[:, par[j]]
        else:  # wrists and toes: no cue of their own, keep the parent's orientation
            G[:, j] = G[:, par[j]]
    for s in ("left", "right"):
        a = idx[f"{s}_ankle"]
        G[:, a] = transport_roll(G[:, a], unit(offsets[idx[f"{s}_toe"]]), fps, roll_time)
        G[:, idx[f"{s}_toe"]] = G[:, a]
    return G


def _foot_rotation(Gp: np.ndarray, d: np.ndarray, shin: np.ndarray, rest_dir: np.ndarray) -> np.ndarray:
    """Turn about the shin to the foot's heading ``d``, then tilt: continuous however the foot spins
    about the leg (a plain swing from the shin's frame is singular for a foot pointing backwards);
    singular only for a foot along the shin, which bodies cannot do."""
    k = Gp @ shin
    z0 = Gp @ rest_dir
    d_perp = unit(d - (d * k).sum(-1, keepdims=True) * k)
    phi = np.arctan2((np.cross(z0, d_perp) * k).sum(-1), (z0 * d_perp).sum(-1))
    R1 = axis_angle(k, np.nan_to_num(phi))
    return swing(np.einsum("tij,tj->ti", R1, z0), d) @ R1 @ Gp


def _limb_rotation(Gp: np.ndarray, cue, rest_dir: np.ndarray) -> np.ndarray:
    """Swing from the parent's frame onto the limb's direction, then twist the rest hinge axis onto
    the limb's hinge axis by the cue's weight."""
    prim, pole, rest_pole, weight = cue
    d = unit(prim)
    G0 = swing(Gp @ rest_dir, d) @ Gp
    b0 = G0 @ rest_pole
    b0 = unit(b0 - (b0 * d).sum(-1, keepdims=True) * d)
    b1 = unit(pole - (pole * d).sum(-1, keepdims=True) * d)
    theta = np.arctan2((np.cross(b0, b1) * d).sum(-1), (b0 * b1).sum(-1))
    return axis_angle(d, np.nan_to_num(theta) * np.nan_to_num(weight)) @ G0


def _local_rotations(G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World rotations -> ``(T, J, 3, 3)`` rotations relative to each parent (end sites identity), a
    joint with no valid rotation holding its last good one; and ``(T, J)`` where that happened."""
    hands = G.shape[1] > len(ROLES)
    idx, par = role_index(hands), parents(hands)
    local = np.einsum("tjki,tjkl->tjil", np.where(par[None, :, None, None] >= 0, G[:, np.maximum(par, 0)],
                                                   np.eye(3)), G)
    local[:, par < 0] = G[:, par < 0]
    local[:, [idx[r] for r in END_SITES if r in idx]] = np.eye(3)
    kept = ~np.isfinite(local).all(axis=(-1, -2))
    return _hold_last(local, kept), kept


FEET = ("left_ankle", "right_ankle", "left_toe", "right_toe", "left_toe_end", "right_toe_end")


def plant_feet(anim: Retargeted, cutoff_hz: float = 2.0) -> Retargeted:
    """Move the root vertically so the lowest foot point touches the floor in every frame (smoothed
    with a zero-phase ``cutoff_hz`` low-pass so steps do not jolt). For motions without a trustworthy
    vertical root trajectory, such as hip-centred monocular 3D. Modifies and returns ``anim``."""
    anim.root[:, 1] -= _low_pass(lowest_foot(anim), anim.fps, cutoff_hz)
    return anim


def lowest_foot(anim: Retargeted) -> np.ndarray:
    """``(T,)`` height (Y-up) of the rig's lowest foot point (ankles, toes, toe ends) in every frame."""
    idx = role_index(anim.hands)
    _, P = anim.global_transforms([idx[r] for r in FEET])
    return P[..., 1].min(axis=1)


def _low_pass(x: np.ndarray, fps: float, cutoff_hz: float) -> np.ndarray:
    """``x (T,)`` through a zero-phase 2nd-order Butterworth low-pass at ``cutoff_hz`` (as it is when too short or
    the cutoff is not under Nyquist)."""
    if len(x) > 15 and cutoff_hz < fps / 2:
        return butterworth(x[:, None], fps, cutoff_hz, order=2)[:, 0]
    return x


def stand_on_floor(anim: Retargeted, planted: np.ndarray, tolerance_m: float = 0.005, cutoff_hz: float = 2.0) -> Retargeted:
    """Move the root up and down so the lowest foot point is on the floor (height 0) in the frames ``planted (T,)``
    says a foot is planted, the correction carried in straight lines across the others (a step or a jump keeps its
    height over the floor) and smoothed with a zero-phase ``cutoff_hz`` low-pass; then lift it where a foot would
    still go more than ``tolerance_m`` through the floor (smoothly, over 0.1 s either side). Without a planted frame
    the 5th percentile of the lowest foot point stands on the floor. Modifies and returns ``anim``."""
    from scipy.ndimage import gaussian_filter1d, maximum_filter1d

    lowest = lowest_foot(anim)
    ok = np.isfinite(lowest)
    if not ok.any():
        return anim
    on = planted & ok
    t = np.arange(len(lowest))
    if on.any():
        base = _low_pass(np.interp(t, t[on], lowest[on]), anim.fps, cutoff_hz)
    else:
        base = np.full(len(lowest), float(np.percentile(lowest[ok], 5)))
    anim.root[:, 1] -= base
    below = np.nan_to_num(np.maximum(0.0, base - lowest - tolerance_m))
    if below.any():
        w = max(1, int(round(0.1 * anim.fps)))
        raise_ = gaussian_filter1d(maximum_filter1d(below, 2 * w + 1), w / 2, mode="nearest")
        anim.root[:, 1] += np.maximum(raise_, below)
    return anim


def transport_roll(G: np.ndarray, rest_dir: np.ndarray, fps: float, roll_time: float = 0.5) -> np.ndarray:
    """Carry a bone's roll from frame to frame instead of recomputing it.

    G: ``(T, 3, 3)`` global rotations whose bone direction ``G @ rest_dir`` is right but whose roll
    about that direction is only a preference (a foot's roll is not observable from ankle and toe).
    Each frame takes the previous rotation turned by the smallest swing onto the new direction (so
    it never turns more than the bone does), then moves its roll towards ``G`` with time constant
    ``roll_time`` seconds; after a frame without a rotation it starts again from ``G``.

    Computed as the bone's parallel transport (:func:`transport`: the product of the swings between
    consecutive directions) and the roll angle about it, low-passed in time (:func:`follow_angle`): the
    answer of stepping frame by frame, without the round-off that stepping compounds over a long recording.
    """
    G = np.asarray(G, float)
    out = G.copy()
    if len(G) < 2:
        return out
    ok = np.isfinite(G).all(axis=(1, 2))
    d = unit(np.einsum("tij,j->ti", G, rest_dir))
    link = np.r_[False, ok[1:] & ok[:-1]]  # (T,) frame t carries on from frame t-1
    P = transport(d, link, G)
    diff = G @ np.swapaxes(P, -1, -2)  # rotations about d: the roll G asks for
    vee = np.stack([diff[:, 2, 1] - diff[:, 1, 2], diff[:, 0, 2] - diff[:, 2, 0], diff[:, 1, 0] - diff[:, 0, 1]], -1)
    theta = np.arctan2(0.5 * (vee * d).sum(-1), 0.5 * (np.trace(diff, axis1=1, axis2=2) - 1.0))
    phi = follow_angle(np.nan_to_num(theta), link, 1.0 - np.exp(-1.0 / (fps * roll_time)))
    out[ok] = axis_angle(d[ok], phi[ok]) @ P[ok]
    return out


def transport(d: np.ndarray, link: np.ndarray, G: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)``: each run of linked frames starts at its first frame's ``G`` and is carried on by the smallest
    swing from one direction ``d (T, 3)`` (unit) to the next (``link (T,)``: frame t follows frame t-1). The
    products of the swings are a prefix scan in log2(T) batched steps; rotations, so a run's transport is the
    product up to a frame times the transpose of the product up to the run's start."""
    T = len(d)
    S = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
    S[link] = swing(d[np.flatnonzero(link) - 1], d[link])
    Q, k = S, 1
    while k < T:  # Q[t] = S[t] @ S[t-1] @ ... @ S[0]
        Q = np.concatenate([Q[:k], Q[k:] @ Q[:-k]])
        k *= 2
    start = np.maximum.accumulate(np.where(~link, np.arange(T), 0))  # (T,) first frame of each frame's run
    return Q @ np.swapaxes(Q[start], -1, -2) @ G[start]


def follow_angle(target: np.ndarray, link: np.ndarray, alpha: float) -> np.ndarray:
    """``(T,)`` angle (rad) that moves a share ``alpha`` of the way (the shorter way round) towards ``target (T,)``
    each frame, from 0 at the first frame of each run of linked frames (``link (T,)``). A scalar recursion."""
    out = np.zeros(len(target))
    phi = 0.0
    for t, (a, on) in enumerate(zip(target.tolist(), link.tolist())):
        phi = phi + alpha * math.remainder(a - phi, 2 * math.pi) if on else 0.0
        out[t] = phi
    return out


def _hold_last(x: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Replace entries flagged ``bad (T, ...)`` by the last good one along time (the first good one, or
    identity/zero, before it)."""
    x = x.copy()
    if not bad.any():
        return x
    T = x.shape[0]
    idx = np.where(~bad, np.arange(T).reshape((T,) + (1,) * (bad.ndim - 1)), -1)
    idx = np.maximum.accumulate(idx, axis=0)
    first = np.argmax(~bad, axis=0)
    idx = np.where(idx < 0, first, idx)
    picked = np.take_along_axis(x, idx.reshape(idx.shape + (1,) * (x.ndim - bad.ndim)), axis=0)
    never = ~(~bad).any(axis=0)
    if x.ndim - bad.ndim == 2:
        picked[:, never] = np.eye(3)
    else:
        picked[:, never] = 0.0
    return picked


def _face_forward(r: Retargeted) -> None:
    """Rotate about Y so the pelvis faces +Z at frame 0 and translate the start above the origin."""
    fwd = r.local[0, 0] @ np.array([0.0, 0.0, 1.0])
    yaw = np.arctan2(fwd[0], fwd[2])
    Ry = Rotation.from_euler("y", -yaw).as_matrix()
    r.local[:, 0] = Ry @ r.local[:, 0]
    r.root = (r.root - r.root[0] * [1, 0, 1]) @ Ry.T
