"""Single-person selection when views hold several detected people.

For every frame and camera, pick the person whose joints agree with the people picked in the
other views, measured by the symmetric epipolar distance (px) of their confident joints. Views
where even the best person disagrees with the others by more than ``max_error_px`` are marked
missing for that frame (the person of interest is not visible there).
"""
from __future__ import annotations

import numpy as np

from ..core.camera import CameraRig
from ..core.keypoints import Keypoints2D
from ..core.rotations import skew

BIG = 1e4  # px: cost of a pair with nothing in common


def essential_matrices(rig: CameraRig) -> np.ndarray:
    """``(C, C, 3, 3)`` essential matrices E[a, b] with ``x_b^T E[a, b] x_a = 0`` (normalised coords)."""
    C = len(rig)
    E = np.zeros((C, C, 3, 3))
    for a in range(C):
        for b in range(C):
            if a == b:
                continue
            R = rig[b].R @ rig[a].R.T
            t = rig[b].t - R @ rig[a].t
            E[a, b] = skew(t) @ R
    return E


def pairwise_costs(xy: np.ndarray, conf: np.ndarray, rig: CameraRig) -> np.ndarray:
    """Epipolar disagreement between every pair of people in every pair of views.

    xy: ``(C, T, P, J, 2)`` undistorted normalised coordinates; conf: ``(C, T, P, J)``.
    Returns ``(C, C, T, P, P)`` px: the confidence-weighted *median* symmetric epipolar distance over
    the joints both detections share (``BIG`` when none, 0 on the diagonal): a few outlier joints
    (up to half the weight) do not move it, so a correct view is not lost to them.
    """
    C, T, P, J, _ = xy.shape
    h = np.concatenate([np.nan_to_num(xy), np.ones(xy.shape[:-1] + (1,))], axis=-1)  # (C,T,P,J,3)
    E = essential_matrices(rig)
    f = rig.focals
    cost = np.zeros((C, C, T, P, P))
    for a in range(C):
        for b in range(a + 1, C):
            la = np.einsum("ij,tpkj->tpki", E[a, b], h[a])  # epipolar lines in b of points in a
            lb = np.einsum("ji,tqkj->tqki", E[a, b], h[b])  # lines in a of points in b
            num = np.abs(np.einsum("tqki,tpki->tpqk", h[b], la))
            da = num / np.linalg.norm(la[..., :2], axis=-1)[:, :, None, :] * f[b]
            db = num / np.linalg.norm(lb[..., :2], axis=-1)[:, None, :, :] * f[a]
            w = np.minimum(conf[a][:, :, None, :], conf[b][:, None, :, :])
            c = weighted_median(np.where(w > 0, 0.5 * (da + db), np.inf), w)
            c = np.where(w.sum(-1) > 0, c, BIG)
            cost[a, b] = c
            cost[b, a] = c.transpose(0, 2, 1)
    return cost


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``(..., K)`` values and non-negative weights -> ``(...)`` weighted median along the last axis
    (the smallest value whose cumulative weight reaches half the total; NaN where all weights are 0)."""
    order = np.argsort(values, axis=-1)
    v = np.take_along_axis(values, order, -1)
    cw = np.cumsum(np.take_along_axis(weights, order, -1), axis=-1)
    total = cw[..., -1:]
    k = np.minimum((cw < 0.5 * total).sum(-1, keepdims=True), values.shape[-1] - 1)
    return np.where(total[..., 0] > 0, np.take_along_axis(v, k, -1)[..., 0], np.nan)


def select_person(data: np.ndarray, rig: CameraRig, skeleton, fps: float, camera_names: list[str],
                  frames=None, min_confidence: float = 0.2, max_error_px: float | None = None,
                  iterations: int = 3) -> tuple[Keypoints2D, dict]:
    """Reduce ``(C, T, P, J, 3)`` multi-person detections to one person ``(C, T, J, 3)``.

    ``max_error_px`` defaults to 2 % of the larger image side (38 px at 1920). Returns the keypoints and a report: ``chosen (C, T)`` person index (-1 = view dropped),
    ``dropped`` count of (camera, frame) views without a consistent person.
    """
    C, T, P, J, _ = data.shape
    if max_error_px is None:
        max_error_px = 0.02 * max(max(c.size) for c in rig)
    xy = rig.undistort(data[..., :2])
    conf = np.where((data[..., 2] >= min_confidence) & np.isfinite(xy).all(-1), data[..., 2], 0.0)
    present = (conf > 0).any(-1)  # (C, T, P)
    cost = pairwise_costs(xy, conf, rig)  # (C, C, T, P, P)
    cost = np.minimum(cost, BIG)
    absent = ~present
    cost = np.where(absent[:, None, :, :, None], BIG, cost)
    cost = np.where(absent[None, :, :, None, :], BIG, cost)
    eye = np.eye(C, dtype=bool)[:, :, None, None, None]
    capped = np.where(eye, 0.0, np.minimum(cost, 3 * max_error_px))
    # Start: each person's best agreement with anyone in each other view; then agree with the choices.
    score = capped.min(axis=-1).sum(axis=1)  # (C, T, P)
    chosen = score.argmin(axis=-1)  # (C, T)
    t_idx = np.arange(T)

    def towards_chosen(c):  # c[a, b, t, p] -> c[a, b, t, p, chosen[b, t]]
        return np.take_along_axis(c, np.broadcast_to(chosen[None, :, :, None, None], (C, C, T, P, 1)), -1)[..., 0]

    for _ in range(iterations):
        chosen = towards_chosen(capped).sum(axis=1).argmin(axis=-1)
    mine = np.take_along_axis(towards_chosen(cost), chosen[:, None, :, None], axis=-1)[..., 0]  # (C, C', T)
    mine = np.where(np.eye(C, dtype=bool)[:, :, None], np.nan, mine)
    agreement = np.nanmedian(mine, axis=1) if C > 1 else np.zeros((C, T))
    keep = (agreement <= max_error_px) & present[np.arange(C)[:, None], t_idx[None, :], chosen]
    out = np.take_along_axis(data, chosen[:, :, None, None, None], axis=2)[:, :, 0]
    out[~keep] = np.array([np.nan, np.nan, 0.0])
    report = {"chosen": np.where(keep, chosen, -1), "dropped": int((~keep & present.any(-1)).sum()),
              "multi_person_views": int((present.sum(-1) > 1).sum())}
    return Keypoints2D(out, skeleton, fps, camera_names, frames), report


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
    out = np.take_along_axis(data, np.maximum(chosen, 0)[:, :, None, None, None], axis=2)[:, :, 0].copy()
    out[chosen < 0] = np.nan
    out[..., 2] = np.where(chosen[..., None] < 0, 0.0, np.nan_to_num(out[..., 2]))
    return out, chosen


def follow_person(multi) -> Keypoints2D:
    """One person followed through each view of a :class:`~mocap.io.keypoints.MultiPersonKeypoints`
    without a calibration (:func:`track_person`); the only person where there is just one."""
    if multi.data.shape[2] == 1:
        return multi.single()
    data, _ = track_person(multi.data)
    return Keypoints2D(data, multi.skeleton, multi.fps, multi.camera_names, multi.frames)
