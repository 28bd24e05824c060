"""2D keypoints from one or several cameras."""
from __future__ import annotations

from dataclasses import InitVar, dataclass, field

import numpy as np

from ..errors import MocapError
from .skeletons import Skeleton, get_skeleton


@dataclass
class Keypoints2D:
    """Detections of one person in ``C`` synchronised cameras.

    data: ``(C, T, J, 3)`` = x px, y px, confidence in [0, 1]. A missing detection has NaN x, y
        and confidence 0 (never dropped: frame ``t`` is frame ``t`` in every camera).
    skeleton: the keypoint layout of axis J.
    fps: frames per second.
    camera_names: ``C`` names, in the order of a calibration's cameras.
    frames: ``(T,)`` frame numbers of the source (e.g. OpenPose file numbers).
    """

    data: np.ndarray
    skeleton: Skeleton
    fps: float = 30.0
    camera_names: list[str] = field(default_factory=list)
    frames: np.ndarray | None = None
    source: str = ""

    copy: InitVar[bool] = True  # False: ``data`` (a float array) is cleaned in place and kept, not copied

    def __post_init__(self, copy: bool = True):
        self.skeleton = get_skeleton(self.skeleton)
        self.data = np.asarray(self.data, dtype=float)
        if self.data.ndim == 3:
            self.data = self.data[None]
        if self.data.ndim != 4 or self.data.shape[-1] != 3:
            raise MocapError(f"keypoints must have shape (C, T, J, 3), got {self.data.shape}", self.source or None)
        if self.data.shape[2] != len(self.skeleton):
            raise MocapError(f"{self.data.shape[2]} joints per frame but skeleton {self.skeleton.name} "
                             f"has {len(self.skeleton)}", self.source or None)
        if not self.camera_names:
            self.camera_names = [f"cam{i + 1:02d}" for i in range(self.data.shape[0])]
        if self.frames is None:
            self.frames = np.arange(self.data.shape[1])
        self.data = sanitize(self.data, copy=copy)

    @property
    def n_cameras(self) -> int:
        return self.data.shape[0]

    @property
    def n_frames(self) -> int:
        return self.data.shape[1]

    @property
    def xy(self) -> np.ndarray:
        """``(C, T, J, 2)`` pixel coordinates (NaN where missing)."""
        return self.data[..., :2]

    @property
    def confidence(self) -> np.ndarray:
        """``(C, T, J)`` confidence (0 where missing)."""
        return self.data[..., 2]

def sanitize(data: np.ndarray, copy: bool = True) -> np.ndarray:
    """Normalise missing values: non-finite or non-positive confidence -> NaN xy, confidence 0.

    OpenPose writes (0, 0, 0) for an undetected joint; NaN/inf coordinates or confidences and
    negative confidences are treated as missing too. Confidences above 1 are kept (some tools
    write heatmap scores); they only weight the triangulation. ``copy=False`` cleans a float array in place.
    """
    data = np.array(data, dtype=float) if copy else np.asarray(data, dtype=float)
    conf = data[..., 2]
    bad = ~np.isfinite(conf) | (conf <= 0) | ~np.isfinite(data[..., :2]).all(axis=-1)
    data[bad, :2] = np.nan
    data[bad, 2] = 0.0
    return data
