"""Composite multi-person clips made from real single-person videos, with the truth of where everyone is.

Each person is a vertical strip of a real video (the Pose2Sim trial's cameras, 1088 x 1920 portrait, one
person balancing), scaled to the clip's height and placed at a horizontal position that may change over
time: side by side, sliding past one another (the strip pasted later covers the earlier ones: the person
behind is hidden while the strips overlap) or leaving the picture and coming back. Source frames play
forward then backward (ping-pong), so a clip can be longer than its sources and every motion stays smooth.

:func:`make_clip` writes the MP4 and returns, per person and frame, the transform that maps a source pixel
into the clip and whether the person is *fully visible* (their strip wholly inside the clip and covered by no
strip in front). With the keypoints a detector found in each source video, :func:`truth` gives every person's
true keypoints in the clip ``(T, K, J, 3)``; :func:`score_tracks` compares a tracker's people with them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..core.robust import nan_median
from ..io.atomic import atomic_path
from ..io.video import frames


# Source columns (px) around the subject of each bundled Pose2Sim camera (cam01 without its bystander): 640 px
# (about 360 clip px in a 1080p clip) hold the whole body; the narrow 569 px (320 clip px) ones fit six people
# across 1920 px, cutting off outstretched arms.
SUBJECT_STRIPS = {1: (129, 640), 2: (194, 560), 3: (238, 640), 4: (201, 640)}
NARROW_STRIPS = {1: (165, 569), 3: (274, 569), 4: (237, 569)}


@dataclass
class Strip:
    """One person: ``video`` and the source column span ``x0``-``x0 + width`` (px of the source) to cut."""

    video: str | Path
    x0: int
    width: int
    channels: tuple[int, int, int] = (0, 1, 2)  # the source's colour channels in this order (another (2, 1, 0): other clothes)


@dataclass
class Clip:
    """Where each of ``K`` people is in a clip of ``T`` frames: ``left (T, K)`` clip px of their strip's left
    edge (NaN: not in the clip), ``scale`` (source px -> clip px), ``source_frame (T,)``, ``visible (T, K)``
    fully visible, and the clip's ``fps`` and ``size`` (W, H)."""

    path: Path
    strips: list[Strip]
    left: np.ndarray
    scale: float
    source_frame: np.ndarray
    visible: np.ndarray
    fps: float
    size: tuple[int, int]


def _source_frames(video, n_max: int = 10_000) -> list[np.ndarray]:
    out = []
    for _, img in frames(video):
        out.append(img)
        if len(out) >= n_max:
            break
    return out


def make_clip(path: str | Path, strips: list[Strip], left: np.ndarray, size=(1920, 1080), *, fps: float | None = None,
              background: int = 90) -> Clip:
    """Write the clip: ``left (T, K)`` each strip's left edge in clip px per frame (NaN: absent); strips
    later in the list are in front. Sources are read once, scaled to the clip's height. Returns the
    :class:`Clip` truth."""
    W, H = size
    src = [_source_frames(s.video) for s in strips]
    n = min(len(f) for f in src)
    fps = fps or float(cv2.VideoCapture(str(strips[0].video)).get(cv2.CAP_PROP_FPS) or 30.0)
    scale = H / src[0][0].shape[0]
    T, K = left.shape
    cycle = np.r_[np.arange(n), np.arange(n - 2, 0, -1)]
    source_frame = cycle[np.arange(T) % len(cycle)]
    cut = [[cv2.resize(f[:, s.x0:s.x0 + s.width, list(s.channels)], (int(round(s.width * scale)), H),
                       interpolation=cv2.INTER_AREA) for f in fs] for s, fs in zip(strips, src)]
    widths = np.array([c[0].shape[1] for c in cut])
    visible = np.zeros((T, K), bool)
    writer = None
    path = Path(path)
    with atomic_path(path) as tmp:
        for t in range(T):
            canvas = np.full((H, W, 3), background, np.uint8)
            for k in range(K):
                if not np.isfinite(left[t, k]):
                    continue
                x = int(round(left[t, k]))
                a, b = max(x, 0), min(x + widths[k], W)
                if b > a:
                    canvas[:, a:b] = cut[k][source_frame[t]][:, a - x:b - x]
            for k in range(K):
                if not np.isfinite(left[t, k]):
                    continue
                x0, x1 = left[t, k], left[t, k] + widths[k]
                inside = x0 >= 0 and x1 <= W
                front = [j for j in range(k + 1, K) if np.isfinite(left[t, j])]
                covered = any(left[t, j] < x1 and left[t, j] + widths[j] > x0 for j in front)
                visible[t, k] = inside and not covered
            if writer is None:
                writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (W, H))
            writer.write(canvas)
        writer.release()
    return Clip(path, strips, left, scale=scale, source_frame=source_frame, visible=visible, fps=fps, size=(W, H))


def truth(clip: Clip, source_keypoints: list[np.ndarray]) -> np.ndarray:
    """Every person's keypoints in the clip ``(T, K, J, 3)`` (x px, y px, confidence; NaN/0 where absent)
    from each source's keypoints ``(T_src, J, 3)`` in source px."""
    T, K = clip.left.shape
    J = source_keypoints[0].shape[1]
    out = np.full((T, K, J, 3), np.nan)
    out[..., 2] = 0.0
    for k, (s, kp) in enumerate(zip(clip.strips, source_keypoints)):
        src = kp[clip.source_frame]
        xy = (src[..., :2] - [s.x0, 0]) * clip.scale + np.stack([clip.left[:, k], np.zeros(T)], -1)[:, None]
        here = np.isfinite(clip.left[:, k])[:, None] & (src[..., 2] > 0)
        out[:, k, :, :2] = np.where(here[..., None], xy, np.nan)
        out[:, k, :, 2] = np.where(here, src[..., 2], 0.0)
    return out


def score_tracks(tracked: np.ndarray, ids: list[int], true: np.ndarray, visible: np.ndarray,
                 *, tol: float = 0.1) -> dict:
    """A tracker's people ``tracked (T, P, J, 3)`` with ``ids (P,)`` against ``true (T, K, J, 3)``: in each
    frame a true person is *found* by the tracked person whose median joint distance is under ``tol`` x the
    true person's height. Returns, per true person, the share of their fully ``visible (T, K)`` frames in
    which they were found, the IDs that found them there in order (a change is an identity switch), and
    whether any tracked person followed two true people."""
    T, K = visible.shape
    d = np.linalg.norm(tracked[:, :, None, :, :2] - true[:, None, :, :, :2], axis=-1)  # (T, P, K, J)
    both = (tracked[:, :, None, :, 2] > 0.3) & (true[:, None, :, :, 2] > 0.3)
    med = nan_median(np.where(both, d, np.nan), axis=-1) if d.size else np.zeros((T, 0, K))  # (T, P, K)
    # fmax/fmin skip NaN: a person out of the picture in a frame has no height there (NaN, without a warning)
    height = np.fmax.reduce(true[..., 1], -1) - np.fmin.reduce(true[..., 1], -1)  # (T, K)
    hit = np.nan_to_num(med, nan=np.inf) < tol * height[:, None]
    out = {"found": [], "ids": [], "switches": 0}
    owner = {}
    for k in range(K):
        seq = []
        for t in np.flatnonzero(hit[:, :, k].any(1) & visible[:, k]):  # identity where they can be seen
            pid = ids[int(np.nan_to_num(med[t, :, k], nan=np.inf).argmin())]
            if not seq or seq[-1] != pid:
                seq.append(pid)
        vis = visible[:, k]
        out["found"].append(float(hit[vis, :, k].any(-1).mean()) if vis.any() else 1.0)
        out["ids"].append(seq)
        out["switches"] += max(0, len(seq) - 1)
        for pid in seq:
            owner.setdefault(pid, set()).add(k)
    out["shared_ids"] = sorted(p for p, ks in owner.items() if len(ks) > 1)
    return out
