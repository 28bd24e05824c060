"""Live frames: a camera index, a video file or a stream read by a background thread that keeps only the newest
frame (older ones not yet taken are dropped and counted), so a slow consumer never builds a backlog."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2

from ..errors import MocapError


class Slot:
    """One item at a time from a producer thread to a consumer: the newest wins (an item replaced before it was
    taken counts as *dropped*), or with ``wait`` the producer waits until the item before was taken (nothing
    dropped). :meth:`end` says no more items will come; :meth:`stop` makes a waiting producer give up."""

    def __init__(self, wait: bool = False):
        self.wait = wait
        self.put_count = self.dropped = 0
        self.ended = False
        self._item = None
        self._cond = threading.Condition()
        self._stop = threading.Event()

    def put(self, item) -> bool:
        """Offer ``item``; False (not offered) once stopped."""
        with self._cond:
            if self.wait:
                while self._item is not None and not self._stop.is_set():
                    self._cond.wait(0.05)
            if self._stop.is_set():
                return False
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self.put_count += 1
            self._cond.notify_all()
            return True

    def get(self, timeout: float = 5.0):
        """The newest item not yet taken; None once ended (or stopped) and empty, or when nothing came for
        ``timeout`` s."""
        with self._cond:
            end = time.perf_counter() + timeout
            while self._item is None and not self.ended and not self._stop.is_set():
                left = end - time.perf_counter()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.1))
            item, self._item = self._item, None
            self._cond.notify_all()
            return item

    def end(self) -> None:
        with self._cond:
            self.ended = True
            self._cond.notify_all()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()


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
        self.error: str | None = None
        self._slot = Slot(wait=not self.realtime)
        self._first = first
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "FrameSource":
        self._thread.start()
        return self

    @property
    def captured(self) -> int:
        return self._slot.put_count

    @property
    def dropped(self) -> int:
        return self._slot.dropped

    @property
    def ended(self) -> bool:
        return self._slot.ended

    def _run(self) -> None:
        t0 = time.perf_counter()
        i, img = 0, self._first
        try:
            while not self._slot.stopped:
                if self.realtime and not self.live_device:  # a file: deliver frame i at its time
                    wait = t0 + i / self.fps - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                self._slot.put((i, time.perf_counter(), img))
                ok, img = self.cap.read()
                if not ok:
                    break
                i += 1
        except Exception as e:  # noqa: BLE001 - a broken stream ends the run with a message, not a traceback
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self._slot.end()

    def get(self, timeout: float = 5.0):
        """``(index, capture time, BGR image)`` of the newest frame not yet taken; None once the source ended
        (or nothing came for ``timeout`` s from a live device)."""
        return self._slot.get(timeout)

    def close(self) -> None:
        self._slot.stop()
        self._thread.join(timeout=2.0)
        self.cap.release()
