"""Cleaning one person's 2D keypoints before lifting: what real detectors give, made fit for the lifter.

Real detectors put a wrong joint anywhere in the image at normal confidence and miss joints for stretches.
:func:`clean_keypoints` rejects such joints per joint and frame, relative to the person's size (so the
same rule holds near and far), then fills short gaps and says what it did through the confidence:

1. **size**: each frame's median distance of the joints to their median point (one wrong joint cannot move
   it), smoothed by a running median over about a second;
2. **far from the body**: a joint further than ``body_k`` sizes from that median point is rejected;
3. **temporal (Hampel)**: a joint further than ``threshold`` sizes from the running median of its own
   track (``window_s``) is rejected;
4. **gaps** up to ``max_gap_s`` are filled linearly between the samples around them, with half the lower
   confidence of the two; longer ones stay missing (confidence 0).

Shapes: ``(..., T, J, 3)`` = x, y (any unit: px or normalised), confidence; any leading batch axes (the
trainer cleans ``(B, W, J, 3)`` windows exactly as inference cleans a whole sequence). Vectorised over
everything, in one pass: the running median holds ``window`` copies of the positions at once (about 20 MB
for 10 000 frames of 15 joints at 30 fps).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..smooth.gaps import linear_bridges
from ..core.robust import nan_median


def running_median(x: np.ndarray, window: int, axis: int) -> np.ndarray:
    """Centred running median of ``x`` along ``axis`` over ``window`` samples (odd), ignoring NaN; the
    ends see a shorter window."""
    h = window // 2
    x = np.moveaxis(x, axis, -1)
    pad = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(h, h)], constant_values=np.nan)
    return np.moveaxis(nan_median(sliding_window_view(pad, window, axis=-1)), -1, axis)


def person_size(xy: np.ndarray, present: np.ndarray, fps: float, smooth_s: float = 1.0) -> np.ndarray:
    """``(..., T, J, 2)`` positions, ``(..., T, J)`` presence -> ``(..., T)`` the person's size: each frame's
    median joint distance to the median point, then a running median over ``smooth_s`` (frames with fewer
    than 3 joints borrow it from their neighbours)."""
    return _centre_and_size(np.where(present[..., None], xy, np.nan), fps, smooth_s)[1]


def _centre_and_size(p: np.ndarray, fps: float, smooth_s: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``(..., T, J, 2)`` positions (NaN = missing) -> each frame's median point ``(..., T, 2)`` and the
    person's size ``(..., T)`` (see :func:`person_size`)."""
    centre = nan_median(p, axis=-2)  # (..., T, 2)
    d = np.linalg.norm(p - centre[..., None, :], axis=-1)
    size = np.where((~np.isnan(d)).sum(-1) >= 3, nan_median(d), np.nan)
    size = running_median(size, max(3, int(round(smooth_s * fps)) | 1), axis=-1)
    fill = nan_median(size)  # a sequence's typical size where a whole second has fewer than 3 joints
    return centre, np.where(np.isfinite(size), size, fill[..., None])


def fill_keypoint_gaps(xy: np.ndarray, conf: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear fill of gaps up to ``max_gap`` frames along T (:func:`mocap.smooth.gaps.linear_bridges`): ``xy (..., T,
    J, 2)``, ``conf (..., T, J)`` (0 = missing). Returns xy, conf (filled points: half the lower neighbour
    confidence) and the filled mask."""
    fill, pi, ni, w = linear_bridges(conf > 0, max_gap)
    a = np.take_along_axis(xy, pi[..., None], axis=-3)
    b = np.take_along_axis(xy, ni[..., None], axis=-3)
    xy = np.where(fill[..., None], (1 - w[..., None]) * a + w[..., None] * b, xy)
    c = 0.5 * np.minimum(np.take_along_axis(conf, pi, -2), np.take_along_axis(conf, ni, -2))
    return xy, np.where(fill, c, conf), fill


def clean_keypoints(kp: np.ndarray, fps: float, window_s: float = 0.3, threshold: float = 0.6,
                    *, body_k: float = 4.0, max_gap_s: float = 0.5) -> tuple[np.ndarray, dict]:
    """Reject outlier joints and fill short gaps in ``(..., T, J, 3)`` keypoints (see the module docstring).

    Returns the cleaned keypoints (rejected and unfilled joints: x = y = NaN, confidence 0) and a report:
    ``rejected`` joints, ``filled`` points, ``missing`` points left empty.
    """
    kp = np.asarray(kp)
    kp = kp if kp.dtype in (np.float32, np.float64) else kp.astype(float)  # float32 stays (the trainer's batches)
    xy, conf = kp[..., :2], np.where(np.isfinite(kp[..., :2]).all(-1), np.nan_to_num(kp[..., 2]), 0.0)
    present = conf > 0
    p = np.where(present[..., None], xy, np.nan)
    centre, size = _centre_and_size(p, fps)
    size = size[..., None]  # (..., T, 1)
    far = np.linalg.norm(p - centre[..., None, :], axis=-1) > body_k * size
    p = np.where(far[..., None], np.nan, p)
    w = max(3, int(round(window_s * fps)) | 1)
    med = running_median(p, w, axis=-3)  # per joint and coordinate, along T
    jump = np.linalg.norm(p - med, axis=-1) > threshold * size
    bad = present & (far | jump)
    conf = np.where(bad, 0.0, conf)
    xy, conf, filled = fill_keypoint_gaps(np.where(conf[..., None] > 0, xy, np.nan), conf, int(round(max_gap_s * fps)))
    out = np.concatenate([np.where(conf[..., None] > 0, xy, np.nan), conf[..., None]], -1).astype(kp.dtype)
    return out, {"rejected": int(bad.sum()), "filled": int(filled.sum()), "missing": int((conf <= 0).sum())}
