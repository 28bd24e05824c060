"""Video input: frames from anything OpenCV decodes (H.264, VP9 ...), rotation metadata honoured."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..errors import MocapError


@dataclass
class VideoInfo:
    path: str
    fps: float
    n_frames: int
    width: int
    height: int


def open_video(path: str | Path) -> tuple[cv2.VideoCapture, VideoInfo]:
    """Open a video; a clear :class:`MocapError` for a missing file, a non-video or an empty one."""
    path = Path(path)
    if not path.exists():
        raise MocapError("video not found", path)
    if path.is_dir():
        raise MocapError("is a folder, not a video", path)
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise MocapError("not a video OpenCV can open (unknown container or codec)", path)
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)  # apply rotation metadata (phones)
    ok, frame = cap.read()
    if not ok or frame is None:
        cap.release()
        raise MocapError("no decodable frame (empty video or unsupported codec)", path)
    fps = cap.get(cv2.CAP_PROP_FPS)
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    info = VideoInfo(str(path), fps if fps and fps > 0 else 30.0, max(n, 1), frame.shape[1], frame.shape[0])
    return cap, info


def frames(path: str | Path, stride: int = 1, start: float = 0.0, end: float | None = None,
           *, resize: float | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, BGR image)`` every ``stride`` frames between ``start`` and ``end`` seconds,
    optionally scaled so that the longer side is ``resize`` pixels. Stops at the first unreadable frame."""
    cap, info = open_video(path)
    try:
        first = int(round(start * info.fps))
        last = info.n_frames if end is None else min(info.n_frames, int(round(end * info.fps)))
        if first:
            cap.set(cv2.CAP_PROP_POS_FRAMES, first)
        i = first
        while i < last:
            ok, img = cap.read()
            if not ok:
                break
            if (i - first) % stride == 0:
                if resize:
                    s = resize / max(img.shape[:2])
                    img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
                yield i, img
            i += 1
    finally:
        cap.release()


def frame_times(path: str | Path) -> np.ndarray:
    """``(T,)`` each frame's presentation time in seconds from the container (what a variable-rate phone video or a
    camera that dropped frames records), read without decoding the images."""
    cap, _ = open_video(path)
    times = []
    try:
        while cap.grab():
            times.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
    finally:
        cap.release()
    return np.asarray(times)


def dropped_frames(times: np.ndarray, fps: float) -> list[tuple[int, int]]:
    """Gaps in frame times ``(T,)`` s at nominal ``fps``: ``[(frame index after the gap, frames missing)]`` where
    consecutive frames lie more than 1.5 frame periods apart."""
    gaps = np.diff(np.asarray(times, float)) * fps
    idx = np.flatnonzero(gaps > 1.5)
    return [(int(i + 1), int(round(gaps[i])) - 1) for i in idx]


def read_ahead(items: Iterator, depth: int = 4) -> Iterator:
    """The items of ``items`` produced by a background thread up to ``depth`` ahead: decoding the next frames
    (OpenCV releases the GIL) overlaps with the work on this one. Exceptions reach the consumer; stopping early
    stops the thread."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done, stop = object(), threading.Event()

    def produce():
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((done, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put((done, e))

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if isinstance(item, tuple) and len(item) == 2 and item[0] is done:
                if item[1] is not None:
                    raise item[1]
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=1.0)
