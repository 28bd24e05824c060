"""The lifter's 15 joints, as 2D detectors place them, and the maps from every source to them.

The neck is the middle of the shoulders in every source (COCO/MediaPipe have no neck; OpenPose's is
there), the pelvis the middle of the hips, and the head at ear level (detectors' head = mid-ears).
Inference (:mod:`.model`), training data (:mod:`.data`) and the pipelines all take the joints from
here. Shapes: ``(T, 15, 3)`` metres (3D) or x px, y px, confidence (2D).
"""
from __future__ import annotations

import numpy as np

from ..core.kinematics import bone_lengths as kinematic_bone_lengths
from ..core.skeletons import derived_joint, get_skeleton, midpoint, skeleton_from_names
from ..errors import MocapError
from ..retarget.solve import source_targets

LIFT_JOINTS = ["pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "neck",
               "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"]
LIFT_BONES = [("pelvis", "left_hip"), ("pelvis", "right_hip"), ("left_hip", "left_knee"), ("right_hip", "right_knee"),
              ("left_knee", "left_ankle"), ("right_knee", "right_ankle"), ("pelvis", "neck"), ("neck", "head"),
              ("neck", "left_shoulder"), ("neck", "right_shoulder"), ("left_shoulder", "left_elbow"),
              ("right_shoulder", "right_elbow"), ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist")]
BONE_INDEX = np.array([[LIFT_JOINTS.index(a), LIFT_JOINTS.index(b)] for a, b in LIFT_BONES])  # parents first
RIGID = np.array([a not in ("pelvis", "neck") or b.endswith("hip") for a, b in LIFT_BONES])  # fixed in every rig
BONE_SIDE_PAIR = [LIFT_BONES.index(tuple(n.replace("left_", "right_") for n in bone)) for bone in LIFT_BONES]
SKELETON = skeleton_from_names(LIFT_JOINTS, "lift15")
FLIP = [int(j) for j in SKELETON.flip_indices]  # left <-> right
BONE_FLIP = [LIFT_BONES.index((LIFT_JOINTS[FLIP[a]], LIFT_JOINTS[FLIP[b]])) for a, b in BONE_INDEX]  # left <-> right
# canonical bone lengths as fractions of stature, for joint centres as detectors mark them: after
# Winter (Biomechanics and Motor Control of Human Movement, fig. 4.1: thigh 0.245, leg 0.246, upper arm
# 0.186 from the acromion, forearm 0.146), with the knee-ankle and shoulder-elbow spans shortened to
# joint centres (leg 0.235, upper arm 0.17); hip joint centres 0.11 apart, shoulder centres 0.20,
# mid-hips to mid-shoulders 0.29, mid-shoulders to mid-ears 0.10
CANONICAL_BONES = np.array([0.055, 0.055, 0.24, 0.24, 0.235, 0.235, 0.29, 0.10, 0.10, 0.10, 0.17, 0.17,
                            0.146, 0.146])
CANONICAL_STATURE = 1.72  # m, validation body (training draws 1.50-1.95)
FPS = 30.0




def bone_lengths(J: np.ndarray) -> np.ndarray:
    """``(..., 15, 3)`` -> ``(..., 14)`` lengths of :data:`LIFT_BONES` (metres)."""
    return kinematic_bone_lengths(J, BONE_INDEX)


def scale_bones(X: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Per-bone proportions: ``X (B, W, 15, 3)``, ``factors (B, 14)`` or ``(B, W, 14)`` -> each bone
    scaled by its factor, joints rebuilt outwards from the pelvis (which stays where it is)."""
    f = (factors[:, None] if factors.ndim == 2 else factors)[..., None]
    out = X.copy()
    for i, (a, b) in enumerate(BONE_INDEX):  # 14 bones, vectorised over batch and time
        out[:, :, b] = out[:, :, a] + (X[:, :, b] - X[:, :, a]) * f[:, :, i]
    return out


def clip_bones(J: np.ndarray) -> np.ndarray:
    """``(T, 15, 3)`` -> ``(14,)`` the clip's median bone lengths (frames with NaN left out), left and
    right averaged."""
    L = np.nanmedian(bone_lengths(J), axis=0)
    return 0.5 * (L + L[BONE_FLIP])


def constant_bones(X: np.ndarray) -> np.ndarray:
    """``(T, 15, 3)`` lifted joints -> the same motion with every bone at one length for the whole clip (the
    median of its frames, left and right averaged), each frame's bone directions kept and the pelvis where
    it is, as a rig (and the BVH written from it) holds them: a person's bones do not change length, the
    network's per-frame guesses do. Held-out activities, detector-like 2D: PA-MPJPE -0.9 mm (offline
    weights; holding only the limbs and hips, and letting the trunk and shoulder line vary, gains nothing)."""
    return scale_bones(X[None], (clip_bones(X) / np.maximum(bone_lengths(X), 1e-9))[None])[0]


def joints_from_motion(motion) -> np.ndarray:
    """``(T, 15, 3)`` :data:`LIFT_JOINTS` from any motion the retargeter understands (metres, Y-up)."""
    t = source_targets(motion)
    head = t.get("head", t.get("head_end"))
    if head is None:
        raise MocapError("motion has no head joint")
    return from_named({**t, "head": head})


def from_named(named: dict[str, np.ndarray]) -> np.ndarray:
    """``(T, 15, 3)`` :data:`LIFT_JOINTS` from named ``(T, 3)`` joints (hips, shoulders, head, limbs):
    pelvis = mid-hips and neck = mid-shoulders, as detectors see them (rigs' necks sit higher)."""
    parts = dict(named, pelvis=derived_joint(named, "pelvis"), neck=derived_joint(named, "neck"))
    return np.stack([parts[n] for n in LIFT_JOINTS], axis=1)


HEAD_RULE = ("head = mid-ears; where an ear is missing: the other ear, then mid-eyes, then the nose, then the "
             "middle of a layout's own upper neck and head top (BODY_25B, HALPE); each fallback's confidence "
             "is scaled down (0.9, 0.8, 0.7, 0.6); neck = mid-shoulders; pelvis = mid-hips")


def head_input(kp: np.ndarray, sk) -> np.ndarray:
    """``(T, J, 3)`` px keypoints of layout ``sk`` -> ``(T, 3)`` the lifter's head (ear level), frame by
    frame from the best cue the detector gave (:data:`HEAD_RULE`)."""
    def get(name):
        return kp[:, sk.index(name)] if name in sk.joints else None

    def mid(a, b, scale=1.0):
        if a is None or b is None:
            return None
        return np.concatenate([midpoint(a[:, :2], b[:, :2]), scale * np.minimum(a[:, 2:], b[:, 2:])], -1)

    def scaled(a, scale):
        return None if a is None else np.concatenate([a[:, :2], scale * a[:, 2:]], -1)

    le, re_ = get("left_ear"), get("right_ear")
    cues = [mid(le, re_), scaled(le, 0.9), scaled(re_, 0.9), mid(get("left_eye"), get("right_eye"), 0.8),
            scaled(get("nose"), 0.7), mid(get("neck") if "head_top" in sk.joints else None, get("head_top"), 0.6)]
    out = np.zeros((len(kp), 3))
    out[:, :2] = np.nan
    for c in (c for c in cues if c is not None):
        take = (out[:, 2] <= 0) & (np.nan_to_num(c[:, 2]) > 0) & np.isfinite(c[:, :2]).all(-1)
        out[take] = c[take]
    return out


def lift_inputs(kp: np.ndarray, skeleton) -> np.ndarray:
    """``(T, J_src, 3)`` px keypoints of any registered layout -> ``(T, 15, 3)`` :data:`LIFT_JOINTS`
    as the lifter was trained: pelvis = mid-hips, neck = mid-shoulders (a layout's own "neck" is not:
    BODY_25B's is the upper neck), head at ear level from the best cue of each frame (:func:`head_input`);
    the confidence of a midpoint is the lower of its two parts."""
    sk = get_skeleton(skeleton)

    def mid(a, b):
        a, b = kp[:, sk.index(a)], kp[:, sk.index(b)]
        return np.concatenate([midpoint(a[:, :2], b[:, :2]), np.minimum(a[:, 2:], b[:, 2:])], -1)

    derived = {"pelvis": lambda: mid("left_hip", "right_hip"), "neck": lambda: mid("left_shoulder", "right_shoulder"),
               "head": lambda: head_input(kp, sk)}
    return np.stack([derived[n]() if n in derived else kp[:, sk.index(n)] for n in LIFT_JOINTS], 1)
