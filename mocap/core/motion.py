"""3D motion of one skeleton."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from ..errors import MocapError
from .rotations import axis_angle
from .skeletons import Skeleton, get_skeleton

# metres per unit
UNIT_SCALE = {"m": 1.0, "mm": 1e-3, "cm": 1e-2, "in": 0.0254, "inch": 0.0254}

# Rotation that takes a Z-up world to a Y-up one, as Pose2Sim/OpenSim do: (x, y, z) -> (y, z, x).
ZUP_TO_YUP = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


@dataclass
class Motion3D:
    """Joint positions over time.

    positions: ``(T, J, 3)`` metres; NaN where a joint is unknown.
    confidence: ``(T, J)`` in [0, 1]; 0 where unknown.
    skeleton: layout of axis J.
    fps: frames per second.
    up: which world axis points up, ``"z"`` (calibrated lab frames, Pose2Sim) or ``"y"`` (TRC, BVH).
    """

    positions: np.ndarray
    skeleton: Skeleton
    fps: float = 30.0
    confidence: np.ndarray | None = None
    up: str = "z"
    joint_names: list[str] | None = None

    def __post_init__(self):
        self.skeleton = get_skeleton(self.skeleton) if not isinstance(self.skeleton, Skeleton) else self.skeleton
        self.positions = np.asarray(self.positions, dtype=float)
        if self.positions.ndim != 3 or self.positions.shape[-1] != 3:
            raise MocapError(f"positions must have shape (T, J, 3), got {self.positions.shape}")
        if self.positions.shape[1] != len(self.skeleton):
            raise MocapError(f"{self.positions.shape[1]} joints but skeleton {self.skeleton.name} has {len(self.skeleton)}")
        valid = np.isfinite(self.positions).all(axis=-1)
        if self.confidence is None:
            self.confidence = valid.astype(float)
        self.confidence = np.where(valid, np.asarray(self.confidence, dtype=float), 0.0)
        self.up = self.up.lower()
        if self.up not in ("y", "z"):
            raise MocapError(f"up axis must be 'y' or 'z', got {self.up!r}")

    @property
    def n_frames(self) -> int:
        return self.positions.shape[0]

    @property
    def valid(self) -> np.ndarray:
        """``(T, J)`` bool: joint position known."""
        return np.isfinite(self.positions).all(axis=-1)

    @property
    def times(self) -> np.ndarray:
        """``(T,)`` seconds from the first frame."""
        return np.arange(self.n_frames) / self.fps

    def to_up(self, up: str) -> "Motion3D":
        """The same motion expressed with ``up`` ("y" or "z") as the vertical axis."""
        up = up.lower()
        if up == self.up:
            return self
        R = ZUP_TO_YUP if up == "y" else ZUP_TO_YUP.T
        return replace(self, positions=self.positions @ R.T, up=up)

    def bone_lengths(self) -> np.ndarray:
        """``(T, B)`` metres, bones in ``skeleton.bones`` order."""
        b = self.skeleton.bone_indices
        return np.linalg.norm(self.positions[:, b[:, 1]] - self.positions[:, b[:, 0]], axis=-1)

    @property
    def names(self) -> list[str]:
        """Marker names for file output (the skeleton's native names unless overridden)."""
        return list(self.joint_names or self.skeleton.names)


def body_up(positions: np.ndarray, skeleton: Skeleton) -> np.ndarray | None:
    """Median unit direction ``(3,)`` from the mid-ankles to the neck (mid-shoulders) over frames
    ``(T, J, 3)``, or None when those joints are missing."""
    def get(name):
        return positions[:, skeleton.index(name)] if name in skeleton.joints else None

    la, ra = get("left_ankle"), get("right_ankle")
    ls, rs = get("left_shoulder"), get("right_shoulder")
    if la is None or ra is None or ls is None or rs is None:
        return None
    v = 0.5 * (ls + rs) - 0.5 * (la + ra)
    v = v[np.isfinite(v).all(-1)]
    if not len(v):
        return None
    u = np.median(v / np.linalg.norm(v, axis=-1, keepdims=True), axis=0)
    return u / np.linalg.norm(u)


def upright(motion: "Motion3D", max_tilt_deg: float = 40.0) -> tuple["Motion3D", float]:
    """Turn a monocular motion so that the person's median body axis is vertical (undoing the
    camera's pitch and roll, which a single camera cannot tell from a lean); heading kept, rotation
    about the pelvis' mean position. Returns ``(motion, tilt removed in degrees)``; a median tilt
    beyond ``max_tilt_deg`` (someone lying, crawling, cartwheeling most of the clip) is left as is."""
    u = body_up(motion.positions, motion.skeleton)
    up = np.array([0.0, 1.0, 0.0]) if motion.up == "y" else np.array([0.0, 0.0, 1.0])
    if u is None:
        return motion, 0.0
    angle = float(np.degrees(np.arccos(np.clip(u @ up, -1, 1))))
    if angle < 0.5 or angle > max_tilt_deg:
        return motion, 0.0
    axis = np.cross(u, up)
    axis /= np.linalg.norm(axis)
    R = axis_angle(axis, np.radians(angle))
    c = np.nanmean(motion.positions.reshape(-1, 3), axis=0)
    return replace(motion, positions=(motion.positions - c) @ R.T + c), angle


def root_track(positions: np.ndarray, fps: float, smooth_s: float = 0.25) -> np.ndarray:
    """``(T, J, 3)`` -> ``(T, 3)``: joint 0 (the root, e.g. the pelvis) over time, frames where it is
    missing taken from the middle of the other joints, gaps interpolated (ends held), then
    Gaussian-smoothed with sigma ``smooth_s`` seconds — a steady point for a camera to follow."""
    from scipy.ndimage import gaussian_filter1d

    P = np.asarray(positions, float)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames
        mid = (np.nanmin(P, axis=1) + np.nanmax(P, axis=1)) / 2
    root = np.where(np.isfinite(P[:, 0]).all(-1, keepdims=True), P[:, 0], mid)
    t = np.arange(len(P))
    ok = np.isfinite(root).all(-1)
    if not ok.any():
        raise MocapError("nothing to follow: every position is missing")
    track = np.stack([np.interp(t, t[ok], root[ok, k]) for k in range(3)], -1)
    if len(P) > 1 and smooth_s > 0:
        track = gaussian_filter1d(track, smooth_s * fps, axis=0, mode="nearest")
    return track


def body_extent(positions: np.ndarray, up_axis: int, percentile: float = 95.0) -> float:
    """The size (m) of the body itself, not of its path: per frame the largest side of the joints'
    box (measured from the floor, coordinate 0 on ``up_axis``, when the body is above it), its
    ``percentile`` over the frames; 0 when nothing is known."""
    P = np.asarray(positions, float)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanmin(P, axis=1), np.nanmax(P, axis=1)
    lo[:, up_axis] = np.minimum(lo[:, up_axis], 0.0)
    size = (hi - lo).max(-1)
    size = size[np.isfinite(size)]
    return float(np.percentile(size, percentile)) if len(size) else 0.0


def resample(motion: Motion3D, fps: float) -> Motion3D:
    """Linear resampling of positions (and confidence) to ``fps`` over the same time span (NaN stays
    NaN where either neighbour is NaN)."""
    if fps <= 0:
        raise MocapError(f"fps must be > 0, got {fps}")
    if abs(fps - motion.fps) < 1e-9:
        return motion
    t_old = motion.times
    t_new = np.arange(0, t_old[-1] + 1e-9, 1.0 / fps)
    return replace(motion, positions=resample_array(motion.positions, t_old, t_new),
                   confidence=resample_array(motion.confidence, t_old, t_new), fps=fps)


def resample_array(values: np.ndarray, t_from: np.ndarray, t_to: np.ndarray) -> np.ndarray:
    """``(T, ...)`` samples at times ``t_from (T,)`` -> ``(T', ...)`` at ``t_to (T',)`` by linear
    interpolation along axis 0 (times outside ``t_from`` take the nearest end; NaN spreads to both
    neighbours' intervals). A single sample is repeated."""
    from scipy.interpolate import interp1d

    values = np.asarray(values, float)
    if len(values) == 1:
        return np.repeat(values, len(t_to), axis=0)
    t_to = np.clip(t_to, t_from[0], t_from[-1])
    return interp1d(t_from, values, axis=0)(t_to)
