"""Training data for the monocular lifter: real motion capture seen by random virtual cameras.

Sources, all under ``../shared/data/mocap``, mapped to :data:`LIFT_JOINTS`:

- CMU BVH conversions (cgspeed 131, iClone CC_Base, DAZ salsa): joints by name (see
  :data:`mocap.retarget.SOURCE_NAMES`); pelvis = mid-hips, neck = the neck joint (else
  mid-shoulders), head = the head joint;
- DeepMimic JSON (``deepmimic/motions/*.txt``) and IsaacGym AMP ``.npy`` (``isaacgym_amp/``): forward
  kinematics of the 15-body humanoid (:mod:`mocap.io.humanoid`); pelvis = mid-hips, neck = its neck
  joint, head = 0.1 m above it along the head.

Split by subject: subject 7 (iClone) and the salsa follower (61) are validation, never trained on.
Every batch is made on the fly: random window, mirroring, body scaling (whole body and per bone,
left/right alike), yaw, a random camera
(distance, height, look-at jitter, focal length, roll), detector-like 2D noise, gross errors and
dropped joints. Shapes: motion ``(T, J, 3)`` metres Y-up; 2D ``(B, W, J, 3)`` = x/f, y/f (normalised
image coordinates), confidence.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .convert import load_motion, resample
from .errors import MocapError
from .motion import Motion3D
from .retarget import source_targets
from .skeletons import skeleton_from_names

LIFT_JOINTS = ["pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "neck",
               "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"]
LIFT_BONES = [("pelvis", "left_hip"), ("pelvis", "right_hip"), ("left_hip", "left_knee"), ("right_hip", "right_knee"),
              ("left_knee", "left_ankle"), ("right_knee", "right_ankle"), ("pelvis", "neck"), ("neck", "head"),
              ("neck", "left_shoulder"), ("neck", "right_shoulder"), ("left_shoulder", "left_elbow"),
              ("right_shoulder", "right_elbow"), ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist")]
BONE_INDEX = np.array([[LIFT_JOINTS.index(a), LIFT_JOINTS.index(b)] for a, b in LIFT_BONES])  # parents first
BONE_SIDE_PAIR = [LIFT_BONES.index(tuple(n.replace("left_", "right_") for n in bone)) for bone in LIFT_BONES]
FLIP = [LIFT_JOINTS.index(n.replace("left_", "TMP").replace("right_", "left_").replace("TMP", "right_")) for n in LIFT_JOINTS]
FPS = 30.0
VALIDATION = ("cmu_iclone/007/", "cmu_salsa/61_")


def joints_from_motion(motion) -> np.ndarray:
    """``(T, 15, 3)`` :data:`LIFT_JOINTS` from any motion the retargeter understands (metres, Y-up)."""
    t = source_targets(motion)
    head = t.get("head", t.get("head_end"))
    if head is None:
        raise MocapError("motion has no head joint")
    neck = t["neck"] if "neck" in t else 0.5 * (t["left_shoulder"] + t["right_shoulder"])
    pelvis = 0.5 * (t["left_hip"] + t["right_hip"])
    parts = {"pelvis": pelvis, "neck": neck, "head": head}
    return np.stack([parts[n] if n in parts else t[n] for n in LIFT_JOINTS], axis=1)


@dataclass
class Clip:
    name: str
    source: str
    joints: np.ndarray  # (T, 15, 3) metres, Y-up, at FPS


def load_clips(root: str | Path) -> list[Clip]:
    """Every BVH clip under ``root`` resampled to :data:`FPS` (read once per process; do not modify)."""
    return list(_load_clips(str(Path(root).resolve())))


def joints_from_humanoid(named: dict[str, np.ndarray], fps: float) -> np.ndarray:
    """``(T, 15, 3)`` :data:`LIFT_JOINTS` at :data:`FPS` from a DeepMimic/AMP clip's named joints."""
    parts = dict(named, pelvis=0.5 * (named["left_hip"] + named["right_hip"]))
    J = np.stack([parts[n] for n in LIFT_JOINTS], axis=1)
    return resample(Motion3D(J, skeleton_from_names(LIFT_JOINTS, "lift15"), fps, up="y"), FPS).positions


@lru_cache(maxsize=4)
def _load_clips(root: str) -> tuple[Clip, ...]:
    from .io.humanoid import read_amp, read_deepmimic

    clips = []
    for path in sorted(Path(root).rglob("*.bvh")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("cmu_131/131_"):  # the same takes as scaled_131_* in CMU units
            continue
        m = resample(load_motion(path), FPS)
        J = joints_from_motion(m)
        ok = np.isfinite(J).all(axis=(1, 2))
        clips.append(Clip(rel, rel.split("/")[0], J[ok]))
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


def look_at(center: np.ndarray, target: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """``(B, 3)`` camera centres and targets (Y-up world), ``(B,)`` roll rad -> ``(B, 3, 3)`` world->camera
    rotations (OpenCV axes: x right, y down, z forward)."""
    z = target - center
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    up = np.array([0.0, 1.0, 0.0])
    x = np.cross(z, up)  # right = forward x up (y up world)
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    y = np.cross(z, x)
    R = np.stack([x, y, z], axis=1)
    c, s = np.cos(roll), np.sin(roll)
    Rz = np.zeros_like(R)
    Rz[:, 0, 0], Rz[:, 0, 1], Rz[:, 1, 0], Rz[:, 1, 1], Rz[:, 2, 2] = c, -s, s, c, 1
    return Rz @ R


def scale_bones(X: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Per-bone proportions: ``X (B, W, 15, 3)``, ``factors (B, 14)`` -> bones scaled (left and right
    by the right bone's factor, so bodies stay symmetric), joints rebuilt outwards from the pelvis."""
    f = factors[:, BONE_SIDE_PAIR][:, None, :, None]  # left bones take their right twin's factor
    out = X.copy()
    for i, (a, b) in enumerate(BONE_INDEX):  # 14 bones, vectorised over batch and time
        out[:, :, b] = out[:, :, a] + (X[:, :, b] - X[:, :, a]) * f[:, :, i]
    return out


class Sampler:
    """Random training/validation batches (see the module docstring). Deterministic for a seed."""

    def __init__(self, clips: list[Clip], window: int = 27, seed: int = 0, focal: float | None = None,
                 causal: bool = False):
        self.target = window - 1 if causal else window // 2  # the frame a window answers for
        self.focal = focal  # fixed focal length (px) for evaluation; random 600-2000 px otherwise
        self.clips = [c for c in clips if len(c.joints) >= window]
        self.window = window
        self.rng = np.random.default_rng(seed)
        lengths = np.array([len(c.joints) - window + 1 for c in self.clips], float)
        self.p = lengths / lengths.sum()

    def motion_windows(self, B: int) -> np.ndarray:
        """``(B, W, J, 3)`` windows of real motion (world, Y-up)."""
        idx = self.rng.choice(len(self.clips), B, p=self.p)
        out = np.empty((B, self.window, len(LIFT_JOINTS), 3))
        for b, i in enumerate(idx):  # one slice per sample (a batch is built once per step)
            J = self.clips[i].joints
            s = self.rng.integers(0, len(J) - self.window + 1)
            out[b] = J[s:s + self.window]
        return out

    def augment(self, X: np.ndarray, train: bool = True) -> np.ndarray:
        B = len(X)
        rng = self.rng
        pelvis = X[:, :, :1].mean(1, keepdims=True)
        X = X - pelvis * [1, 0, 1]  # centre horizontally, keep height
        if train:
            flip = rng.random(B) < 0.5
            X[flip] = X[flip][:, :, FLIP] * [-1, 1, 1]
            X = X * rng.uniform(0.85, 1.15, (B, 1, 1, 1))  # body size (height and bone lengths together)
            X = scale_bones(X, rng.uniform(0.9, 1.1, (B, len(LIFT_BONES))))
        yaw = rng.uniform(0, 2 * np.pi, B)
        c, s = np.cos(yaw), np.sin(yaw)
        Ry = np.zeros((B, 3, 3))
        Ry[:, 0, 0], Ry[:, 0, 2], Ry[:, 1, 1], Ry[:, 2, 0], Ry[:, 2, 2] = c, s, 1, -s, c
        return np.einsum("bij,bwkj->bwki", Ry, X)

    def cameras(self, B: int):
        rng = self.rng
        dist = rng.uniform(2.5, 8.0, B)
        height = rng.uniform(0.3, 2.2, B)
        az = rng.uniform(0, 2 * np.pi, B)
        center = np.stack([dist * np.sin(az), height, dist * np.cos(az)], -1)
        target = np.stack([rng.normal(0, 0.2, B), rng.uniform(0.7, 1.2, B), rng.normal(0, 0.2, B)], -1)
        R = look_at(center, target, np.radians(rng.normal(0, 4, B)))
        t = -np.einsum("bij,bj->bi", R, center)
        f = rng.uniform(600, 2000, B) if self.focal is None else np.full(B, float(self.focal))
        return R, t, f

    def batch(self, B: int, train: bool = True, noise_px: float | None = None):
        """Inputs ``(B, W, J, 3)`` (x/f, y/f, confidence) and targets: camera-frame joints ``(B, J, 3)``
        of the centre frame (the last one for a causal sampler; metres) and its pelvis depth ``(B,)``."""
        X = self.augment(self.motion_windows(B), train)
        R, t, f = self.cameras(B)
        Xc = np.einsum("bij,bwkj->bwki", R, X) + t[:, None, None]
        uv = Xc[..., :2] / Xc[..., 2:3]  # normalised image coordinates
        rng = self.rng
        sigma = rng.uniform(0, 5, (B, 1, 1, 1)) if noise_px is None else np.full((B, 1, 1, 1), noise_px)
        conf = np.clip(rng.normal(0.85, 0.1, uv.shape[:-1]), 0.3, 1.0) if train else np.ones(uv.shape[:-1])
        uv = uv + rng.normal(0, 1, uv.shape) * sigma / f[:, None, None, None]
        if train:
            gross = rng.random(conf.shape) < 0.02
            uv[gross] += rng.normal(0, 60, (int(gross.sum()), 2)) / np.broadcast_to(f[:, None, None], conf.shape)[gross][:, None]
            conf[gross] *= 0.5
            drop = rng.random(conf.shape) < 0.05
            uv[drop] = 0.0
            conf[drop] = 0.0
        inp = np.concatenate([uv, conf[..., None]], -1)
        k = self.target
        return inp.astype(np.float32), Xc[:, k].astype(np.float32), Xc[:, k, 0, 2].astype(np.float32)
