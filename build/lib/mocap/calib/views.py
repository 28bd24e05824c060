"""Board detections in images and videos: where the corners are, and why a view was not used.

Sources are image files, folders of images, or videos (one frame every ``every_s`` seconds).
A :class:`View` holds one image's corners; images where the board was not found are listed with
the reason, so a report can say "0 boards detected in 12 images" and which ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..errors import MocapError
from ..io.calibration import natural_key
from .board import Board

IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_EXT = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}


@dataclass
class View:
    """One image's detection: corners ``(N, 2)`` px, ``ids (N,)`` into the board's object points."""

    name: str
    frame: int  # index of the frame in its source sequence (for synchronised cameras)
    corners: np.ndarray
    ids: np.ndarray


@dataclass
class Detections:
    """All views of one camera: the image size (w, h), the views found, the images skipped (name -> reason)."""

    camera: str
    size: tuple[int, int] | None = None
    views: list[View] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def list_images(source: str | Path) -> list[Path]:
    """Image files of a folder (natural order) or the file itself."""
    p = Path(source)
    if p.is_dir():
        return sorted((f for f in p.iterdir() if f.suffix.lower() in IMAGE_EXT), key=lambda f: natural_key(f.name))
    return [p]


def frames(source: str | Path, every_s: float = 1.0) -> Iterator[tuple[str, int, np.ndarray | None]]:
    """``(name, frame index, BGR image or None if unreadable)`` for an image file, a folder of images
    or a video (a frame every ``every_s`` seconds)."""
    p = Path(source)
    if not p.exists():
        raise MocapError("no such file or folder", p)
    if p.is_file() and p.suffix.lower() in VIDEO_EXT:
        cap = cv2.VideoCapture(str(p))
        if not cap.isOpened():
            raise MocapError("cannot open video", p)
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        step = max(1, int(round(every_s * fps)))
        i = 0
        while True:
            ok, img = cap.read()
            if not ok:
                break
            if i % step == 0:
                yield f"{p.name}#{i}", i, img
            i += 1
        cap.release()
        return
    files = list_images(p)
    if not files:
        raise MocapError("no images here (png, jpg, ...)", p)
    for i, f in enumerate(files):
        yield f.name, i, cv2.imread(str(f))


def detect(board: Board, sources: list[str | Path], camera: str = "", every_s: float = 1.0,
           *, progress=None) -> Detections:
    """Detect ``board`` in every frame of ``sources`` (one camera). ``progress(n_done)`` is called per frame."""
    det = Detections(camera or Path(sources[0]).name)
    for src in sources:
        for name, idx, img in frames(src, every_s):
            if progress:
                progress()
            if img is None:
                det.skipped[name] = "unreadable image"
                continue
            size = (img.shape[1], img.shape[0])
            if det.size is None:
                det.size = size
            elif size != det.size:
                det.skipped[name] = f"image size {size[0]}x{size[1]} differs from {det.size[0]}x{det.size[1]}"
                continue
            found = board.detect(img)
            if found is None:
                det.skipped[name] = "board not found"
                continue
            det.views.append(View(name, idx, *found))
    return det
