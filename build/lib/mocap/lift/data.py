"""Training data for the monocular lifter: real motion capture seen by random virtual cameras.

Sources, all under ``../shared/data/mocap``, mapped to :data:`LIFT_JOINTS`:

- CMU BVH conversions (cgspeed 131, iClone CC_Base, DAZ salsa): joints by name (see
  :data:`mocap.retarget.SOURCE_NAMES`); pelvis = mid-hips, head = the head joint;
- DeepMimic JSON (``deepmimic/motions/*.txt``) and IsaacGym AMP ``.npy`` (``isaacgym_amp/``): forward
  kinematics of the 15-body humanoid (:mod:`mocap.io.humanoid`); pelvis = mid-hips, head = 0.1 m
  above its neck joint along the head.

Joints are defined as 2D detectors place them, not as the rigs do: the neck is the middle of the
shoulders in every source (COCO/MediaPipe have no neck; OpenPose's is there), and the head is at
ear level (detectors' head = mid-ears): the head joint's direction from the neck, at the canonical
length below. The rigs' bone lengths are far apart (the iClone dummy, 47 of the clips, has shins
longer than its thighs; the DAZ salsa clips shoulders 0.2 m apart), so every sample is rebuilt,
bone by bone, on a **canonical body** (:data:`CANONICAL_BONES`, fractions of stature after Winter's
segment table) of random stature and proportions: the network learns human proportions, not
the dummy's.

Split by subject: subject 7 (iClone) and the salsa follower (61) are validation, never trained on.
Every batch is made on the fly: random window, mirroring, canonical body (stature 1.50-1.95 m,
each bone 0.88-1.12, left/right alike), new poses for a share of the samples (the upper body leant,
arms and legs turned about shoulder and hip: the captures hold few of the poses people balance,
stretch or fall in), yaw, a random camera (distance, height 0.2-3 m, look-at jitter, focal length,
roll sd 10 deg), detector-like 2D noise, gross errors and dropped joints. Shapes: motion ``(T, J, 3)`` metres Y-up; 2D ``(B, W, J, 3)`` = x/f, y/f (normalised
image coordinates), confidence.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..core.motion import resample
from ..io.motion import load_motion
from ..errors import MocapError
from ..core.motion import Motion3D
from ..core.rotations import look_at_y as look_at
from .clean import clean_keypoints
from .joints import (bone_lengths, BONE_FLIP, BONE_INDEX, BONE_SIDE_PAIR, CANONICAL_BONES, CANONICAL_STATURE, FLIP, FPS,  # noqa: F401
                     LIFT_BONES, LIFT_JOINTS, RIGID, SKELETON, clip_bones, from_named, joints_from_motion, scale_bones)

# Never trained on: whole subjects (7 walking, the salsa follower) and whole clips of other activities.
VALIDATION = ("cmu_iclone/007/", "cmu_salsa/61_", "extra/acrnn_cmu/martial/10", "extra/acrnn_cmu/indian/15",
              "extra/hht_cmu/jump/13_42", "extra/lawrennd_cmu/10_03", "extra/rgbdacq_cmu/49_04")
ACTIVITIES = {"martial": "karate", "indian": "dance", "salsa": "salsa", "jump": "jump", "golf": "golf",
              "lawrennd_cmu/1": "soccer", "rgbdacq_cmu/49": "run/leap", "cmu_iclone/007": "walk", "cmu_131": "walk",
              "animated_drawings": "gestures"}
LEG_M = (0.6, 1.15)  # thigh + shin of a real adult; clips outside are in other units (rescaled at load)
LEFT_LEG = [LIFT_BONES.index(("left_hip", "left_knee")), LIFT_BONES.index(("left_knee", "left_ankle"))]


def activity(name: str) -> str:
    """The activity of a clip, from its path (``"other"`` when unknown)."""
    return next((a for k, a in ACTIVITIES.items() if k in name), "other")


@dataclass
class Clip:
    name: str
    source: str
    joints: np.ndarray  # (T, 15, 3) metres, Y-up, at FPS


def load_clips(root: str | Path) -> list[Clip]:
    """Every BVH clip under ``root`` resampled to :data:`FPS` (read once per process; do not modify),
    or the clips stored in a ``.npz`` written by :func:`save_clips`."""
    root = Path(root)
    if root.suffix == ".npz":
        return list(_load_npz(str(root.resolve())))
    return list(_load_clips(str(root.resolve())))


def save_clips(clips: list[Clip], path: str | Path) -> Path:
    """Store prepared clips (``(T, 15, 3)`` metres, Y-up, :data:`FPS`) as float32 arrays keyed by clip
    name in one compressed NPZ (atomic); :func:`load_clips` reads it back."""
    from ..io.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **{c.name: c.joints.astype(np.float32) for c in clips})
    return path


@lru_cache(maxsize=4)
def _load_npz(path: str) -> tuple[Clip, ...]:
    if not Path(path).exists():
        raise MocapError("clip file not found", path)
    try:
        with np.load(path) as z:
            clips = tuple(Clip(k, k.split("/")[0], z[k].astype(float)) for k in sorted(z.files))
    except (OSError, ValueError) as e:
        raise MocapError(f"not a clip file written by save_clips: {e}", path) from None
    if not clips or any(c.joints.ndim != 3 or c.joints.shape[1:] != (len(LIFT_JOINTS), 3) for c in clips):
        raise MocapError(f"expected (T, {len(LIFT_JOINTS)}, 3) arrays", path)
    return clips


def joints_from_humanoid(named: dict[str, np.ndarray], fps: float) -> np.ndarray:
    """``(T, 15, 3)`` :data:`LIFT_JOINTS` at :data:`FPS` from a DeepMimic/AMP clip's named joints."""
    return resample(Motion3D(from_named(named), SKELETON, fps, up="y"), FPS).positions


@lru_cache(maxsize=4)
def _load_clips(root: str) -> tuple[Clip, ...]:
    from ..io.humanoid import read_amp, read_deepmimic

    clips = []
    for path in sorted(Path(root).rglob("*.bvh")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("cmu_131/131_"):  # the same takes as scaled_131_* in CMU units
            continue
        m = resample(load_motion(path), FPS)
        J = joints_from_motion(m)
        J = J[np.isfinite(J).all(axis=(1, 2))]
        leg = float(np.median(bone_lengths(J)[:, LEFT_LEG].sum(-1))) if len(J) else 0.0
        if leg > 0 and not LEG_M[0] <= leg <= LEG_M[1]:  # other units (e.g. 1.22 m legs): to a 0.85 m leg
            J = J * (0.85 / leg)
        clips.append(Clip(rel, rel.split("/")[0], J))
    humanoid = [(p, read_deepmimic) for p in sorted(Path(root).glob("deepmimic/motions/*.txt"))]
    humanoid += [(p, read_amp) for p in sorted(Path(root).glob("isaacgym_amp/*.npy"))]
    for path, reader in humanoid:
        rel = path.relative_to(root).as_posix()
        clips.append(Clip(rel, rel.split("/")[0], joints_from_humanoid(*reader(path))))
    if not clips:
        raise MocapError("no BVH clip found", root)
    return tuple(clips)


def split(clips: list[Clip]) -> tuple[list[Clip], list[Clip]]:
    val = [c for c in clips if c.name.startswith(VALIDATION)]
    return [c for c in clips if c not in val], val


LIMBS = [(LIFT_JOINTS.index(r), [LIFT_JOINTS.index(m) for m in moved]) for r, moved in (
    ("left_shoulder", ("left_elbow", "left_wrist")), ("right_shoulder", ("right_elbow", "right_wrist")),
    ("left_hip", ("left_knee", "left_ankle")), ("right_hip", ("right_knee", "right_ankle")))]
UPPER_BODY = [LIFT_JOINTS.index(n) for n in LIFT_JOINTS if n not in ("pelvis",) and "hip" not in n
              and "knee" not in n and "ankle" not in n]


def rotate_about(X: np.ndarray, root: int, moved: list[int], R: np.ndarray) -> np.ndarray:
    """``X (B, W, J, 3)``: joints ``moved`` turned by ``R (B, 3, 3)`` about joint ``root`` (in place)."""
    p = X[:, :, root:root + 1]
    X[:, :, moved] = p + np.einsum("bij,bwkj->bwki", R, X[:, :, moved] - p)
    return X


def random_rotations(rng, B: int, max_deg: float, horizontal: bool = False) -> np.ndarray:
    """``(B, 3, 3)`` rotations by 0-``max_deg`` about random axes (horizontal ones: a lean)."""
    from scipy.spatial.transform import Rotation

    axis = rng.normal(size=(B, 3))
    if horizontal:
        axis[:, 1] = 0.0
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    return Rotation.from_rotvec(axis * np.radians(rng.uniform(0, max_deg, (B, 1)))).as_matrix()


class Sampler:
    """Random training/validation batches (see the module docstring). Deterministic for a seed."""

    def __init__(self, clips: list[Clip], window: int = 27, seed: int = 0, focal: float | None = None,
                 *, causal: bool = False, pose_aug: float = 0.0, own_rig: float = 0.0, outputs: int = 1,
                 speed: tuple[float, float] | None = None):
        self.pose_aug = pose_aug  # share of training samples with new poses (trunk lean, limbs turned)
        self.own_rig = own_rig  # share of training samples kept on their clip's own proportions
        self.outputs = outputs  # frames each sample answers for (the network's receptive field slides over them)
        self.speed = speed  # playback speed range (log-uniform) for training, e.g. (0.7, 1.4); None: as captured
        first = window - 1 if causal else window // 2  # the frame a receptive field answers for
        self.target = slice(first, first + outputs)
        self.focal = focal  # fixed focal length (px) for evaluation; random 600-2000 px otherwise
        window = window + outputs - 1
        self.clips = [c for c in clips if len(c.joints) >= window]
        self.window = window
        self.rng = np.random.default_rng(seed)
        lengths = np.array([len(c.joints) - window + 1 for c in self.clips], float)
        self.p = lengths / lengths.sum()
        self.bones = np.stack([clip_bones(c.joints) for c in self.clips]) if self.clips else np.zeros((0, 14))

    def motion_windows(self, B: int) -> tuple[np.ndarray, np.ndarray]:
        """``(B, W, J, 3)`` windows of real motion (world, Y-up) and the ``(B, 14)`` bone lengths of
        their clips."""
        idx = self.rng.choice(len(self.clips), B, p=self.p)
        out = np.empty((B, self.window, len(LIFT_JOINTS), 3))
        speed = None if self.speed is None else np.exp(self.rng.uniform(*np.log(self.speed), B))
        for b, i in enumerate(idx):  # one slice per sample (a batch is built once per step)
            J = self.clips[i].joints
            if speed is None:
                s = self.rng.integers(0, len(J) - self.window + 1)
                out[b] = J[s:s + self.window]
                continue
            span = min(speed[b], (len(J) - 1) / (self.window - 1)) * np.arange(self.window)  # a slower or faster take
            t = self.rng.uniform(0, len(J) - 1 - span[-1]) + span
            k = np.minimum(t.astype(int), len(J) - 2)
            out[b] = J[k] + (t - k)[:, None, None] * (J[k + 1] - J[k])
        return out, self.bones[idx]

    def canonical_bones(self, B: int, train: bool = True, own: np.ndarray | None = None) -> np.ndarray:
        """``(B, 14)`` target bone lengths (m): :data:`CANONICAL_BONES` at a random stature (1.50-1.95 m)
        with each bone 0.75-1.3 (left as right) for training, or for an ``own_rig`` share the clip's own
        bones ``own (B, 14)`` (its proportions, 0.9-1.1 overall); the 1.72 m canonical body otherwise."""
        if not train:
            return np.broadcast_to(CANONICAL_BONES * CANONICAL_STATURE, (B, len(LIFT_BONES)))
        L = CANONICAL_BONES * self.rng.uniform(1.50, 1.95, (B, 1)) * self.rng.uniform(0.75, 1.3, (B, len(LIFT_BONES)))
        L = L[:, BONE_SIDE_PAIR]
        if own is not None:
            keep = self.rng.random(B) < self.own_rig
            L[keep] = own[keep] * self.rng.uniform(0.9, 1.1, (int(keep.sum()), 1))
        return L

    def augment(self, windows: tuple[np.ndarray, np.ndarray], train: bool = True) -> np.ndarray:
        """Motion windows -> ``(B, W, J, 3)`` on a canonical body, centred, mirrored and turned (train)."""
        X, bones = windows
        B = len(X)
        rng = self.rng
        pelvis = X[:, :, :1].mean(1, keepdims=True)
        X = X - pelvis * [1, 0, 1]  # centre horizontally, keep height
        # rigid bones (limbs, hips) get their target length in every frame (interpolated frames of fast
        # moves come out short); the trunk, shoulder line and head keep each frame's flexion
        target = self.canonical_bones(B, train, bones)[:, None]
        X = scale_bones(X, target / np.where(RIGID, np.maximum(bone_lengths(X), 1e-6), bones[:, None]))
        if train:
            flip = rng.random(B) < 0.5
            X[flip] = X[flip][:, :, FLIP] * [-1, 1, 1]
            X = self.new_poses(X)
        yaw = rng.uniform(0, 2 * np.pi, B)
        c, s = np.cos(yaw), np.sin(yaw)
        Ry = np.zeros((B, 3, 3))
        Ry[:, 0, 0], Ry[:, 0, 2], Ry[:, 1, 1], Ry[:, 2, 0], Ry[:, 2, 2] = c, s, 1, -s, c
        return np.einsum("bij,bwkj->bwki", Ry, X)

    def new_poses(self, X: np.ndarray) -> np.ndarray:
        """Poses the captures lack, for a :attr:`pose_aug` share of ``X (B, W, J, 3)``: the upper body
        leant 0-20 deg about the pelvis, then each arm turned 0-35 deg about its shoulder and each leg
        0-25 deg about its hip (the same over the window: the motion stays smooth and rigid)."""
        sel = np.flatnonzero(self.rng.random(len(X)) < self.pose_aug)
        if not len(sel):
            return X
        Y = rotate_about(X[sel], 0, UPPER_BODY, random_rotations(self.rng, len(sel), 20.0, horizontal=True))
        for k, (root, moved) in enumerate(LIMBS):
            Y = rotate_about(Y, root, moved, random_rotations(self.rng, len(sel), 35.0 if k < 2 else 25.0))
        X[sel] = Y
        return X

    def cameras(self, B: int):
        rng = self.rng
        dist = rng.uniform(2.5, 8.0, B)
        height = rng.uniform(0.2, 3.0, B)  # from the floor to a high tripod or a wall mount
        az = rng.uniform(0, 2 * np.pi, B)
        center = np.stack([dist * np.sin(az), height, dist * np.cos(az)], -1)
        target = np.stack([rng.normal(0, 0.3, B), rng.uniform(0.5, 1.3, B), rng.normal(0, 0.3, B)], -1)
        R = look_at(center, target, np.radians(rng.normal(0, 10, B)))  # camera roll, deg
        t = -np.einsum("bij,bj->bi", R, center)
        f = rng.uniform(600, 2000, B) if self.focal is None else np.full(B, float(self.focal))
        return R, t, f

    def detector_errors(self, uv: np.ndarray, conf: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What real detectors do to ``uv (B, W, J, 2)`` (x/f, y/f) with confidence ``(B, W, J)`` at focal
        ``f (B,)`` px: 0-5 % of joints put anywhere in a 1920 x 1080 image at *normal* confidence, 2 % gross
        errors (sd 60 px), 5 % dropped joints, the head missing for a whole window in 25 % of samples and one
        limb (elbow + wrist or knee + ankle) in 10 %."""
        rng = self.rng
        B, W, J = conf.shape
        fb = np.broadcast_to(f[:, None, None], conf.shape)
        out = rng.random(conf.shape) < rng.uniform(0, 0.05, (B, 1, 1))
        uv[out] = rng.uniform([-960, -540], [960, 540], (int(out.sum()), 2)) / fb[out][:, None]
        gross = rng.random(conf.shape) < 0.02
        uv[gross] += rng.normal(0, 60, (int(gross.sum()), 2)) / fb[gross][:, None]
        drop = rng.random(conf.shape) < 0.05
        drop[:, :, LIFT_JOINTS.index("head")] |= (rng.random(B) < 0.25)[:, None]
        limb = rng.integers(0, len(LIMBS), B)
        gone = rng.random(B) < 0.10
        for k, (_, moved) in enumerate(LIMBS):
            drop[np.ix_(gone & (limb == k), np.arange(W), moved)] = True
        uv[drop] = 0.0
        conf[drop] = 0.0
        return uv, conf

    def batch(self, B: int, train: bool = True, noise_px: float | None = None):
        """Inputs ``(B, W, J, 3)`` (x/f, y/f, confidence) and targets: camera-frame joints ``(B, J, 3)``
        of the centre frame (the last one for a causal sampler; metres) and its pelvis depth ``(B,)``; with
        :attr:`outputs` K > 1, the K frames the network answers for: ``(B, K, J, 3)`` and ``(B, K)``."""
        X = self.augment(self.motion_windows(B), train)
        R, t, f = self.cameras(B)
        Xc = np.einsum("bij,bwkj->bwki", R, X) + t[:, None, None]
        uv = Xc[..., :2] / Xc[..., 2:3]  # normalised image coordinates
        rng = self.rng
        sigma = rng.uniform(0, 5, (B, 1, 1, 1)) if noise_px is None else np.full((B, 1, 1, 1), noise_px)
        conf = np.clip(rng.normal(0.85, 0.1, uv.shape[:-1]), 0.3, 1.0) if train else np.ones(uv.shape[:-1])
        uv = uv + rng.normal(0, 1, uv.shape) * sigma / f[:, None, None, None]
        if train:
            uv, conf = self.detector_errors(uv, conf, f)
        inp = np.concatenate([uv, conf[..., None]], -1)
        if train:  # the same cleaning as at inference (mocap.lift.clean)
            inp, _ = clean_keypoints(inp.astype(np.float32), FPS)
            inp = np.where(inp[..., 2:] > 0, inp, 0.0)
        k = self.target if self.outputs > 1 else self.target.start
        return inp.astype(np.float32), Xc[:, k].astype(np.float32), Xc[:, k, 0, 2].astype(np.float32)
