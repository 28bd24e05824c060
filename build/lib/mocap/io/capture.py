"""Live frames: a camera index, a video file or a stream read by a background thread that keeps only the newest
frame (older ones not yet taken are dropped and counted), so a slow consumer never builds a backlog."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2

from ..errors import MocapError


class FrameSource:
    """Frames from a camera index, a file or a stream, read by a background thread. Only the newest frame is
    kept: :meth:`get` returns it with its index and capture time (``time.perf_counter()``), and a frame replaced
    before it was taken counts as dropped. A file plays at its own frame rate when ``realtime``; otherwise the
    reader waits for each frame to be taken (nothing dropped)."""

    def __init__(self, source: str | int, realtime: bool = True):
        self.name = str(source)
        src = int(source) if isinstance(source, int) or str(source).isdigit() else str(source)
        if isinstance(src, str) and "://" not in src and not Path(src).exists():
            raise MocapError("no such file", src)
        from ..runtime import native_quiet

        with native_quiet():  # FFmpeg's own complaints about a bad file; our message says it once
            self.cap = cv2.VideoCapture(src)
            ok, first = self.cap.read() if self.cap.isOpened() else (False, None)
        if not ok:
            self.cap.release()
            raise MocapError("cannot open as a camera, video file or stream (nothing could be read)", self.name)
        self.live_device = isinstance(src, int) or "://" in str(src)
        self.fps = float(self.cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not 1.0 <= self.fps <= 1000.0:
            self.fps = 30.0
        self.size = (first.shape[1], first.shape[0])
        self.realtime = realtime or self.live_device
        self.captured = self.dropped = 0
        self.ended = False
        self.error: str | None = None
        self._slot = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._first = first
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "FrameSource":
        self._thread.start()
        return self

    def _put(self, item) -> None:
        with self._cond:
            if not self.realtime:
                while self._slot is not None and not self._stop.is_set():
                    self._cond.wait(0.05)
            if self._stop.is_set():
                return  # the run is over: this frame was never offered
            if self._slot is not None:
                self.dropped += 1
            self._slot = item
            self.captured += 1
            self._cond.notify_all()

    def _run(self) -> None:
        t0 = time.perf_counter()
        i, img = 0, self._first
        try:
            while not self._stop.is_set():
                if self.realtime and not self.live_device:  # a file: deliver frame i at its time
                    wait = t0 + i / self.fps - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                self._put((i, time.perf_counter(), img))
                ok, img = self.cap.read()
                if not ok:
                    break
                i += 1
        except Exception as e:  # noqa: BLE001 - a broken stream ends the run with a message, not a traceback
            self.error = f"{type(e).__name__}: {e}"
        finally:
            with self._cond:
                self.ended = True
                self._cond.notify_all()

    def get(self, timeout: float = 5.0):
        """``(index, capture time, BGR image)`` of the newest frame not yet taken; None once the source ended
        (or nothing came for ``timeout`` s from a live device)."""
        with self._cond:
            end = time.perf_counter() + timeout
            while self._slot is None and not self.ended:
                left = end - time.perf_counter()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.1))
            item, self._slot = self._slot, None
            self._cond.notify_all()
            return item

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=2.0)
        self.cap.release()
