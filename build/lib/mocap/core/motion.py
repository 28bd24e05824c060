"""3D motion of one skeleton."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import MocapError
from .skeletons import Skeleton, get_skeleton
from .kinematics import bone_lengths

# metres per unit
FOOT_PARTS = ("ankle", "heel", "toe")  # what a planted foot rests on, in any layout's canonical joint names
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
    contacts: ``(T, J)`` bool, a foot joint planted on the floor (:mod:`mocap.smooth.contacts`); None when
    contacts were not looked for. Only foot joints (:data:`FOOT_PARTS` in their names) are ever True.
    """

    positions: np.ndarray
    skeleton: Skeleton
    fps: float = 30.0
    confidence: np.ndarray | None = None
    up: str = "z"
    joint_names: list[str] | None = None
    contacts: np.ndarray | None = None

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
        if self.contacts is not None:
            self.contacts = np.asarray(self.contacts, bool)
            if self.contacts.shape != self.positions.shape[:2]:
                raise MocapError(f"contacts must have shape {self.positions.shape[:2]}, got {self.contacts.shape}")
        self.up = self.up.lower()
        if self.up not in ("y", "z"):
            raise MocapError(f"up axis must be 'y' or 'z', got {self.up!r}")

    @property
    def n_frames(self) -> int:
        return self.positions.shape[0]

    @property
    def foot_joints(self) -> list[int]:
        """Indices of the joints a planted foot rests on (ankles, heels, toes), in any layout."""
        return [j for j, n in enumerate(self.names) if any(p in n for p in FOOT_PARTS)]

    def planted_share(self) -> dict[str, float]:
        """Each foot joint's share of frames planted, %, by name (empty without contacts)."""
        if self.contacts is None:
            return {}
        return {self.names[j]: 100.0 * float(self.contacts[:, j].mean()) for j in self.foot_joints}

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
        return bone_lengths(self.positions, self.skeleton.bone_indices)

    @property
    def names(self) -> list[str]:
        """Marker names for file output (the skeleton's native names unless overridden)."""
        return list(self.joint_names or self.skeleton.names)


MAX_RESAMPLE_GB = 4.0  # resample refuses to build more than this (a typo like --fps 1e9 is not an OOM kill)


def resample(motion: Motion3D, fps: float) -> Motion3D:
    """Linear resampling of positions (and confidence) to ``fps`` over the same time span (NaN stays
    NaN where either neighbour is NaN)."""
    if not (np.isfinite(fps) and fps > 0):
        raise MocapError(f"fps must be a finite number > 0, got {fps}")
    if abs(fps - motion.fps) < 1e-9:
        return motion
    t_old = motion.times
    n_new = int(t_old[-1] * fps + 1e-6) + 1
    size_gb = n_new * max(1, motion.positions[0].size) * 8 * 2 / 1e9  # positions + interpolation scratch
    if size_gb > MAX_RESAMPLE_GB:
        raise MocapError(f"resampling {motion.n_frames} frames to {fps:g} fps would make {n_new} frames "
                         f"(~{size_gb:.0f} GB); ask for a lower frame rate")
    t_new = np.arange(n_new) / fps
    contacts = None if motion.contacts is None else resample_array(motion.contacts, t_old, t_new) >= 0.5
    return replace(motion, positions=resample_array(motion.positions, t_old, t_new),
                   confidence=resample_array(motion.confidence, t_old, t_new), fps=fps, contacts=contacts)


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
