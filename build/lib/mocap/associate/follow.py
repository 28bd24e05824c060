"""Following one person through views *without* a calibration (one camera, e.g. for the lifter).

With calibrated cameras, people are associated across views and tracked in 3D by
:mod:`mocap.associate.tracks` (``select_person``, ``track_people``).
"""
from __future__ import annotations

import numpy as np

from ..core.keypoints import Keypoints2D
from .tracks import pick_slots


def most_prominent(data: np.ndarray) -> np.ndarray:
    """Without a calibration: in every view and frame, the person with the largest sum of joint
    confidences (the most complete, most certain detection). ``(C, T, P, J, 3)`` -> ``(C, T, J, 3)``."""
    score = np.nan_to_num(data[..., 2]).sum(-1)  # (C, T, P)
    best = score.argmax(-1)
    return np.take_along_axis(data, best[:, :, None, None, None], axis=2)[:, :, 0]


def track_person(data: np.ndarray, min_confidence: float = 0.2, max_jump: float = 0.5,
                 patience: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """Without a calibration: follow one person through each view. ``(C, T, P, J, 3)`` -> ``(C, T, J, 3)``
    and the chosen person index ``(C, T)`` (-1 = nobody).

    Each view starts on its most prominent person (largest sum of confidences); every later frame keeps
    the detection nearest the last chosen pose (mean joint distance over joints seen in both, in units of
    that pose's size). A frame where nobody is within ``max_jump`` sizes is left empty (a missed detection
    must not hand the track to a passer-by); after ``patience`` such frames in a row the track re-acquires
    the most prominent person. Loops over frames only (each step depends on the last), vectorised over
    views, people and joints."""
    C, T, P, J, _ = data.shape
    xy = data[..., :2]
    ok = (np.nan_to_num(data[..., 2]) >= min_confidence) & np.isfinite(xy).all(-1)  # (C, T, P, J)
    score = np.where(ok, data[..., 2], 0.0).sum(-1)  # (C, T, P)
    chosen = np.full((C, T), -1)
    last = np.full((C, J, 2), np.nan)
    lost = np.full(C, patience)  # frames since the track last matched (start: free to acquire)
    views = np.arange(C)
    for t in range(T):
        both = ok[:, t] & np.isfinite(last).all(-1)[:, None]  # (C, P, J)
        dist = np.where(both, np.linalg.norm(xy[:, t] - last[:, None], axis=-1), 0.0).sum(-1)
        n = both.sum(-1)
        span = np.nanmax(last, axis=1) - np.nanmin(last, axis=1) if np.isfinite(last).any() else np.ones((C, 2))
        size = np.maximum(np.nan_to_num(np.linalg.norm(span, axis=-1)), 1.0)  # (C,) px
        cost = np.where(n >= 3, dist / np.maximum(n, 1) / size[:, None], np.inf)
        near = cost.argmin(-1)
        match = cost[views, near] <= max_jump
        pick = np.where(match, near, np.where(lost >= patience, score[:, t].argmax(-1), -1))
        pick = np.where(score[views, t, np.maximum(pick, 0)] > 0, pick, -1)
        lost = np.where(pick >= 0, 0, lost + 1)
        chosen[:, t] = pick
        seen = pick >= 0
        upd = ok[views, t, np.maximum(pick, 0)] & seen[:, None]  # (C, J) joints to carry forward
        last = np.where(upd[..., None], xy[views, t, np.maximum(pick, 0)], last)
    return pick_slots(data, chosen), chosen


def follow_person(multi) -> Keypoints2D:
    """One person followed through each view of a :class:`~mocap.io.keypoints.MultiPersonKeypoints`
    without a calibration (:func:`track_person`); the only person where there is just one; the most present
    identity where the slots are tracked people (``multi.ids``, e.g. ``mocap detect``'s NPZ)."""
    if multi.data.shape[2] == 1:
        return multi.single()
    if multi.ids is not None:
        k = int((np.nan_to_num(multi.data[..., 2]) > 0).any(-1).sum((0, 1)).argmax())
        return Keypoints2D(multi.data[:, :, k], multi.skeleton, multi.fps, multi.camera_names, multi.frames)
    data, _ = track_person(multi.data)
    return Keypoints2D(data, multi.skeleton, multi.fps, multi.camera_names, multi.frames)
