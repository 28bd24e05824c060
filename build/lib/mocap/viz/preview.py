"""Preview videos: the input frame with its 2D skeleton beside a drawn view of the 3D result."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..io.atomic import atomic_path
from ..core.skeletons import Skeleton
from ..io.video import frames

LEFT, RIGHT, MID = (255, 140, 40), (40, 90, 255), (200, 200, 200)  # BGR: left blue, right red
PANEL_THICKNESS = 2.0  # bones and joints twice the viewer's radius: a 540 px panel reads at a glance


def _colour(sk: Skeleton, a: int, b: int):
    s = sk.side(a) + sk.side(b)
    return LEFT if s < 0 else RIGHT if s > 0 else MID


def draw_skeleton_2d(img: np.ndarray, xy: np.ndarray, sk: Skeleton, valid: np.ndarray | None = None,
                     *, thickness: int = 3, colour: tuple[int, int, int] | None = None) -> np.ndarray:
    """Draw bones and joints of ``xy (J, 2)`` px on ``img`` (in place); invalid joints are skipped. Bones
    are blue on the left, red on the right, unless ``colour`` (BGR) gives one colour for all."""
    ok = np.isfinite(xy).all(-1) if valid is None else valid & np.isfinite(xy).all(-1)
    for a, b in sk.bone_indices:
        if ok[a] and ok[b]:
            cv2.line(img, tuple(np.round(xy[a]).astype(int)), tuple(np.round(xy[b]).astype(int)),
                     colour or _colour(sk, a, b), thickness, cv2.LINE_AA)
    for j in np.flatnonzero(ok):
        cv2.circle(img, tuple(np.round(xy[j]).astype(int)), thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return img


def render_3d_panel(P: np.ndarray, sk: Skeleton, size: tuple[int, int], extent: float, *, yaw: float = 0.6,
                    centre: np.ndarray | None = None) -> np.ndarray:
    """Draw ``P (J, 3)`` metres (Y-up) seen from a camera turned ``yaw`` radians about Y, with a floor
    line at y = 0; ``centre`` (x, z) m is put in the middle, ``extent`` m spans 80 % of the panel."""
    w, h = size
    img = np.full((h, w, 3), 30, np.uint8)
    c, s = np.cos(yaw), np.sin(yaw)
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    Q = (P - ([0.0, 0.0, 0.0] if centre is None else [centre[0], 0.0, centre[1]])) @ R.T
    scale = 0.8 * min(w, h) / extent
    uv = np.stack([w / 2 + Q[:, 0] * scale, h * 0.9 - Q[:, 1] * scale], -1)
    cv2.line(img, (0, int(h * 0.9)), (w, int(h * 0.9)), (90, 90, 90), 1)
    return draw_skeleton_2d(img, uv, sk, thickness=max(3, w // 60))  # bold: the panel is read at a glance


def follow_pelvis(P: np.ndarray, fps: float, smooth_s: float = 0.25) -> tuple[np.ndarray, float]:
    """Per-frame panel centre ``(T, 2)`` = the root joint's (pelvis') x, z, m (Y-up; smoothed, gaps
    held: :func:`~mocap.core.posture.root_track`) and the extent (m) that frames the body itself (its size
    plus margin: :func:`~mocap.core.posture.body_extent`), never the whole trajectory."""
    from ..core.posture import body_extent, root_track

    if not np.isfinite(P).any():
        return np.zeros((len(P), 2)), 2.0
    return root_track(P, fps, smooth_s)[:, [0, 2]], max(1.0, 1.15 * body_extent(P, up_axis=1))


def _solid_panels(P: np.ndarray, sk: Skeleton, fps: float, size):
    """Frames (BGR) of the 3D result rendered by :mod:`mocap.viz.render` (solid bones, floor) through a
    camera that follows the pelvis, or None when open3d is not installed or has no OpenGL context
    here (then the drawn panel is used)."""
    try:
        from ..core.motion import Motion3D
        from .render import follow_cameras, render_frames

        m = Motion3D(P, sk, fps, up="y")
        gen = render_frames([m], follow_cameras(m, size), thickness=PANEL_THICKNESS)
        first = next(gen)
    except Exception:  # noqa: BLE001 - any renderer problem falls back to the 2D-drawn panel
        return None

    def frames_bgr():
        yield cv2.cvtColor(first, cv2.COLOR_RGB2BGR)
        for img in gen:
            yield cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    return frames_bgr()


def draw_people_2d(img: np.ndarray, people: list[tuple[str, np.ndarray]], sk: Skeleton, scale: float = 1.0,
                   *, min_conf: float = 0.3) -> np.ndarray:
    """Every person ``(label, keypoints (J, 3) px)`` drawn in their own tint (:data:`~mocap.viz.scene.TINTS`,
    in list order) with their label above the head, on ``img`` (BGR, in place; coordinates times ``scale``)."""
    from .scene import TINTS

    for i, (label, kp) in enumerate(people):
        ok = kp[:, 2] > min_conf
        if not ok.any():
            continue
        colour = tuple(int(c) for c in np.clip(TINTS[i % len(TINTS)][::-1] * 255, 0, 255))  # RGB -> BGR
        xy = kp[:, :2] * scale
        draw_skeleton_2d(img, xy, sk, ok, thickness=2, colour=colour)
        top = xy[ok][np.argmin(xy[ok, 1])]
        org = (int(top[0]) - 12, max(16, int(top[1]) - 12))
        cv2.putText(img, label, org, cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 4, cv2.LINE_AA)
        cv2.putText(img, label, org, cv2.FONT_HERSHEY_SIMPLEX, 0.7, colour, 2, cv2.LINE_AA)
    return img


def write_preview(video: str | Path, out: str | Path, kp2d: np.ndarray, sk2d: Skeleton, *, P3d: np.ndarray,
                  sk3d: Skeleton, fps: float, stride: int = 1, solid: bool = True,
                  people: list[tuple[str, np.ndarray]] | None = None) -> Path:
    """Side-by-side MP4: video frames with ``kp2d (T, J, 3)`` overlaid | 3D view of ``P3d (T, K, 3)``
    (Y-up m, joint 0 = the root/pelvis, floor at y = 0). The 3D view follows the pelvis and frames the
    body, so the person stays large and centred however far they walk. Rendered solid by open3d
    when it runs here (and ``solid``), else drawn. With ``people`` (``(label, keypoints (T, J, 3))`` each),
    every person is drawn on the video in their own colour with their label instead of ``kp2d`` alone.
    Written atomically."""
    h = 540
    panels = _solid_panels(P3d, sk3d, fps, (h, h)) if solid else None
    if panels is None:
        centre, extent = follow_pelvis(P3d, fps)
    writer = None
    out = Path(out)
    with atomic_path(out) as tmp:
        for t, (_, img) in enumerate(frames(video, stride)):
            if t >= len(kp2d):
                break
            s = h / img.shape[0]
            left = cv2.resize(img, (round(img.shape[1] * s), h), interpolation=cv2.INTER_AREA)
            if people:
                draw_people_2d(left, [(label, k[t]) for label, k in people], sk2d, s)
            else:
                draw_skeleton_2d(left, kp2d[t, :, :2] * s, sk2d, kp2d[t, :, 2] > 0.3)
            right = (next(panels) if panels is not None
                     else render_3d_panel(np.nan_to_num(P3d[min(t, len(P3d) - 1)]), sk3d, (h, h), extent, centre=centre[min(t, len(P3d) - 1)]))
            frame = np.concatenate([left, right], axis=1)
            if writer is None:
                writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (frame.shape[1], frame.shape[0]))
            writer.write(frame)
        if writer is not None:
            writer.release()
    return out
