"""Synthetic hands on real body motion, for the tests and benchmarks of finger capture.

:func:`hand_pose` articulates a hand of 21 points (:data:`~mocap.core.skeletons.HAND_21` order) in its own frame:
each finger bends at its three joints by an openness in [0, 1] (0: flat, 1: a fist), the thumb less and across
the palm. :func:`attach_hands` puts a left and a right hand on a body's wrists, along its forearms, the wrists
turning (pronation) and flexing over time, and the fingers opening and closing at 0.3-0.9 Hz each.
Metres; the hand frame is x along the hand (wrist to middle finger), y towards the thumb of a right hand, z out
of the back of the hand.
"""
from __future__ import annotations

import numpy as np

from ..core.rotations import axis_angle, unit

# a right hand at rest (metres, hand frame): each finger's base and its three bone lengths, then the thumb's
BASES = np.array([[0.092, 0.026, 0.0], [0.095, 0.004, 0.0], [0.089, -0.016, 0.0], [0.080, -0.034, 0.0]])
LENGTHS = np.array([[0.042, 0.025, 0.020], [0.046, 0.029, 0.022], [0.043, 0.027, 0.021], [0.034, 0.020, 0.018]])
SPREAD = np.radians([8.0, 0.0, -7.0, -15.0])  # each finger's direction in the palm plane
THUMB_BASE = np.array([0.028, 0.022, -0.012])
THUMB_LENGTHS = np.array([0.046, 0.032, 0.027])
THUMB_DIRECTION = unit(np.array([0.70, 0.62, -0.36]))
# full flexion (openness 1) of each joint, degrees: MCP, PIP, DIP (thumb: CMC, MCP, IP)
FLEXION = np.radians([80.0, 100.0, 70.0])
THUMB_FLEXION = np.radians([35.0, 50.0, 65.0])


def _chain(base: np.ndarray, direction: np.ndarray, normal: np.ndarray, *, lengths: np.ndarray,
           angles: np.ndarray) -> np.ndarray:
    """``(T, 4, 3)``: a planar finger from ``base (3,)`` along ``direction (3,)`` bending towards ``-normal`` by the
    cumulative ``angles (T, 3)`` rad at each of its joints; ``lengths (3,)`` its bones."""
    phi = np.cumsum(angles, axis=1)[..., None]  # (T, 3, 1)
    steps = lengths[:, None] * (np.cos(phi) * direction - np.sin(phi) * normal)  # (T, 3, 3)
    return base + np.concatenate([np.zeros((len(angles), 1, 3)), np.cumsum(steps, axis=1)], axis=1)


def hand_pose(openness: np.ndarray, side: str = "right") -> np.ndarray:
    """``(T, 21, 3)`` metres in the hand frame for ``openness (T, 5)`` in [0, 1] (thumb, index, middle, ring, pinky);
    the left hand is the mirror image (y negated)."""
    openness = np.asarray(openness, float)
    z = np.array([0.0, 0.0, 1.0])
    out = np.zeros((len(openness), 21, 3))
    away = np.array([0.0, 0.8, 0.6])  # the thumb curls down and across the palm, away from this
    thumb_normal = unit(away - (away @ THUMB_DIRECTION) * THUMB_DIRECTION)
    out[:, 1:5] = _chain(THUMB_BASE, THUMB_DIRECTION, thumb_normal, lengths=THUMB_LENGTHS,
                         angles=openness[:, :1] * THUMB_FLEXION)
    for f in range(4):
        d = np.array([np.cos(SPREAD[f]), np.sin(SPREAD[f]), 0.0])
        out[:, 5 + 4 * f:9 + 4 * f] = _chain(BASES[f], d, z, lengths=LENGTHS[f],
                                             angles=openness[:, 1 + f:2 + f] * FLEXION)
    return out * ([1, -1, 1] if side == "left" else 1)


def hand_frames(wrist: np.ndarray, elbow: np.ndarray, t: np.ndarray, *, side: str, rng) -> np.ndarray:
    """``(T, 3, 3)`` world rotations (columns: the hand frame's x, y, z) of a hand on ``wrist``/``elbow (T, 3)``
    (Z-up world): x continues the forearm, carried from frame to frame by the smallest turn (so the hand never
    spins however the arm points), flexed up to 25 deg and turned about the forearm up to 70 deg (pronation) at
    0.2-0.4 Hz."""
    from ..retarget.solve import frame_from, transport

    x = unit(wrist - elbow)
    a, b, c = np.moveaxis(frame_from(x[:1], np.array([[0.0, 0.0, 1.0]] if abs(x[0, 2]) < 0.9 else [[1.0, 0.0, 0.0]])),
                          -1, 0)
    first = np.stack([a, -c, b], axis=-1)  # the back of the hand (z) up at the first frame
    link = np.r_[False, np.ones(len(x) - 1, bool)]
    R0 = transport(x, link, np.broadcast_to(first, (len(x), 3, 3)).copy())
    f1, f2, p1, p2 = rng.uniform(0.2, 0.4), rng.uniform(0.2, 0.4), rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi)
    turn = axis_angle(x, np.radians(70.0) * np.sin(2 * np.pi * f1 * t + p1))
    y = R0[..., 1]
    flex = axis_angle(y, np.radians(25.0) * np.sin(2 * np.pi * f2 * t + p2))
    return turn @ flex @ R0


def attach_hands(X: np.ndarray, joints: tuple[str, ...], fps: float, seed: int = 0) -> np.ndarray:
    """``(T, J + 42, 3)``: the body ``X (T, J, 3)`` (metres, Z-up; ``joints`` its canonical names, with both elbows
    and wrists) with a left and a right hand (:func:`hand_pose` on :func:`hand_frames`); each finger opens and
    closes at its own frequency in 0.3-0.9 Hz. The hand's wrist point is the body's wrist."""
    rng = np.random.default_rng(seed)
    T = len(X)
    t = np.arange(T) / fps
    hands = []
    for side in ("left", "right"):
        freq, phase = rng.uniform(0.3, 0.9, 5), rng.uniform(0, 2 * np.pi, 5)
        openness = 0.5 - 0.5 * np.cos(2 * np.pi * freq * t[:, None] + phase)
        wrist, elbow = X[:, joints.index(f"{side}_wrist")], X[:, joints.index(f"{side}_elbow")]
        R = hand_frames(wrist, elbow, t, side=side, rng=rng)
        hands.append(wrist[:, None] + np.einsum("tij,tkj->tki", R, hand_pose(openness, side)))
    return np.concatenate([X] + hands, axis=1)


def views(rig, X: np.ndarray, *, noise: float = 1.0, outliers: float = 0.03, missing: float = 0.08,
          seed: int = 0) -> np.ndarray:
    """``(C, T, J, 3)`` detections (x px, y px, confidence) of points ``X (T, J, 3)`` in ``rig``: Gaussian noise of
    ``noise`` px, a share ``outliers`` of them moved 20-200 px at normal confidence, a share ``missing`` dropped
    (confidence 0), and what falls outside a picture dropped."""
    rng = np.random.default_rng(seed)
    C, (T, J, _) = len(rig), X.shape
    uv = rig.project(X.reshape(-1, 3)).reshape(C, T, J, 2) + rng.normal(0, noise, (C, T, J, 2))
    conf = rng.uniform(0.5, 1.0, (C, T, J))
    out = rng.random(conf.shape) < outliers
    uv[out] += rng.uniform(20, 200, (int(out.sum()), 2)) * rng.choice([-1, 1], (int(out.sum()), 2))
    size = np.array([c.size for c in rig], float)[:, None, None]
    keep = (rng.random(conf.shape) >= missing) & ((uv >= 0) & (uv < size)).all(-1)
    return np.concatenate([np.where(keep[..., None], uv, np.nan), np.where(keep, conf, 0.0)[..., None]], -1)


def write_session(root, clip, *, frames: int = 600, fps: float = 60.0, seed: int = 3):
    """A 4-camera session of synthetic hands on the COCO-17 body of ``clip`` (:func:`attach_hands`, :func:`views`):
    ``root/calib.toml`` and OpenPose folders with hand arrays under ``root/pose``. Returns the folders and the
    truth ``(T, 59, 3)`` (metres, Z-up, the ``coco_17_hands`` layout)."""
    from pathlib import Path

    from ..core.skeletons import COCO_17
    from ..io.calibration import write_calibration
    from ..io.keypoints import write_openpose_people
    from .scenes import as_coco, real_motion, ring_rig

    root = Path(root)
    X = attach_hands(as_coco(real_motion(clip, frames, fps)), COCO_17.joints, fps, seed=seed)
    rig = ring_rig(4)
    write_calibration(rig, root / "calib.toml")
    data = views(rig, X, seed=seed + 1)
    return write_openpose_people(data[:, :, None], rig.names, np.arange(len(X)), root / "pose", hands=True), X
