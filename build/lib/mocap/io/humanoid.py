"""Readers for the simulated-humanoid motion clips of DeepMimic (JSON) and IsaacGym AMP (``.npy``).

Both describe the same 15-body humanoid (DeepMimic's ``characters/humanoid3d.txt``): a root (pelvis),
chest, neck, and per side hip/knee/ankle and shoulder/elbow/wrist. Joint positions come from forward
kinematics of the stored local rotations. Output: named joint positions ``(T, 3)`` in metres, **Y-up**
(AMP files are Z-up and are rotated), plus the clip's frame rate.

- DeepMimic frame = ``[duration, root xyz, root quat (w x y z), chest, neck, right hip (quat), right
  knee (angle about z), right ankle, right shoulder (quat), right elbow (angle), left hip, left knee,
  left ankle, left shoulder, left elbow]`` — 44 numbers, Y-up.
- AMP: ``np.load(f, allow_pickle=True).item()`` with ``rotation.arr (T, 15, 4)`` local quaternions
  (x y z w), ``root_translation.arr (T, 3)``, ``skeleton_tree`` (names, parents, local translations),
  ``fps``; Z-up.

The ``head`` is placed 0.1 m above the neck joint along the head's own up axis (mid-skull, where
2D detectors' ear midpoint lies).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..core.kinematics import forward_kinematics

from ..errors import MocapError
from ..core.motion import ZUP_TO_YUP

HEAD_ABOVE_NECK = 0.1  # metres


def humanoid_fk(parents, offsets, local_rots: list[Rotation], root_pos: np.ndarray):
    """Global joint positions ``(T, J, 3)`` and rotations (one ``Rotation`` over T frames per joint) of
    the humanoid (:func:`mocap.core.kinematics.forward_kinematics`).

    parents ``(J,)`` (-1 for the root, parents before children); offsets ``(J, 3)`` in the parent's
    frame; local_rots: J rotations each over T frames (``Rotation`` of shape (T,)); root_pos ``(T, 3)``.
    """
    R = np.stack([r.as_matrix() for r in local_rots], axis=1)
    t = np.broadcast_to(np.asarray(offsets, float), R.shape[:2] + (3,)).copy()
    for j in np.flatnonzero(np.asarray(parents) < 0):
        t[:, j] = root_pos
    G, pos = forward_kinematics(parents, R, t)
    return pos, [Rotation.from_matrix(G[:, j]) for j in range(G.shape[1])]


def _head(neck_pos, neck_rot: Rotation, up: np.ndarray):
    return neck_pos + neck_rot.apply(up * HEAD_ABOVE_NECK)


_DM_ORDER = ["root", "chest", "neck", "right_hip", "right_knee", "right_ankle", "right_shoulder", "right_elbow",
             "left_hip", "left_knee", "left_ankle", "left_shoulder", "left_elbow"]


def read_deepmimic(path: str | Path, character: str | Path | None = None) -> tuple[dict[str, np.ndarray], float]:
    """A DeepMimic motion file (the character defaults to ``../characters/humanoid3d.txt``)."""
    path = Path(path)
    character = Path(character) if character else path.parent.parent / "characters" / "humanoid3d.txt"
    try:
        frames = np.asarray(json.loads(path.read_text())["Frames"], dtype=float)
        joints = json.loads(character.read_text())["Skeleton"]["Joints"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise MocapError(f"not a DeepMimic motion/character: {e}", path) from None
    if frames.ndim != 2 or frames.shape[1] != 44:
        raise MocapError(f"expected 44 numbers per frame, got {frames.shape[-1]}", path)
    names = [j["Name"] for j in joints]
    parents = [j["Parent"] for j in joints]
    offsets = np.array([[j["AttachX"], j["AttachY"], j["AttachZ"]] for j in joints], float)
    T = len(frames)
    rots = {"right_wrist": Rotation.identity(T), "left_wrist": Rotation.identity(T)}
    col = 4
    for name in _DM_ORDER:
        if name.endswith(("knee", "elbow")):  # revolute about the local z axis
            rots[name] = Rotation.from_rotvec(frames[:, col, None] * [0, 0, 1.0])
            col += 1
        else:
            q = frames[:, col:col + 4]
            rots[name] = Rotation.from_quat(q[:, [1, 2, 3, 0]])
            col += 4
    pos, glob = humanoid_fk(parents, offsets, [rots[n] for n in names], frames[:, 1:4])
    out = {n: pos[:, i] for i, n in enumerate(names)}
    out["head"] = _head(out["neck"], glob[names.index("neck")], np.array([0, 1.0, 0]))
    fps = 1.0 / float(np.median(frames[:-1, 0])) if T > 1 else 30.0
    return out, fps


_AMP_NAMES = {"pelvis": "root", "torso": "chest", "head": "neck", "right_upper_arm": "right_shoulder",
              "right_lower_arm": "right_elbow", "right_hand": "right_wrist", "left_upper_arm": "left_shoulder",
              "left_lower_arm": "left_elbow", "left_hand": "left_wrist", "right_thigh": "right_hip",
              "right_shin": "right_knee", "right_foot": "right_ankle", "left_thigh": "left_hip",
              "left_shin": "left_knee", "left_foot": "left_ankle"}


def read_amp(path: str | Path) -> tuple[dict[str, np.ndarray], float]:
    """An IsaacGym AMP ``SkeletonMotion`` ``.npy`` (names as in DeepMimic: its ``head`` body is our ``neck``)."""
    path = Path(path)
    try:
        d = np.load(path, allow_pickle=True).item()
        tree = d["skeleton_tree"]
        names = list(tree["node_names"])
        parents = np.asarray(tree["parent_indices"]["arr"])
        offsets = np.asarray(tree["local_translation"]["arr"], float)
        q = np.asarray(d["rotation"]["arr"], float)
        root = np.asarray(d["root_translation"]["arr"], float)
        fps = float(d["fps"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise MocapError(f"not an IsaacGym AMP motion: {e}", path) from None
    if not d.get("is_local", True):
        raise MocapError("only local-rotation AMP motions are supported", path)
    rots = [Rotation.from_quat(q[:, j]) for j in range(len(names))]
    pos, glob = humanoid_fk(parents, offsets, rots, root)
    out = {_AMP_NAMES.get(n, n): pos[:, i] @ ZUP_TO_YUP.T for i, n in enumerate(names)}
    head = _head(pos[:, names.index("head")], glob[names.index("head")], np.array([0, 0, 1.0]))
    out["head"] = head @ ZUP_TO_YUP.T
    return out, fps
