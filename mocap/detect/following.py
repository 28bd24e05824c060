"""One person followed frame by frame, for live use: per frame, the landmark model on that person's region only.

:class:`Follower` costs one landmark call per frame while the person is followed, whoever else is in view (a
bystander costs nothing). The region comes from the last frame's landmarks (MediaPipe's region propagation,
smoothed as :func:`mocap.detect.tracking.next_roi` does). The person detector runs:

- **to find someone** (at the start, and when the followed person is lost: their presence score under
  ``min_presence``): the whole image and its tiles on the first frame, then one rectangle per frame in the same
  cycle as :class:`~mocap.detect.tracking.PeopleTracker` until someone is found; candidates are tried nearest to
  where the followed person was last seen first (the same person coming back), the tallest first when nobody was
  followed yet; a ghost (presence low, or smaller than ``min_height`` of the image) is not taken;
- **off the critical path**, every ``check_s`` seconds while someone is followed: one whole-image detection on a
  background thread (its own interpreter), whose people are the first candidates tried if the followed person is
  lost within the next ``check_s`` seconds (no detector call on the frame of the loss).

Someone who walks in front of the followed person pulls the region onto their own body. Every 5th frame the torso's
colours (:func:`~mocap.detect.tracking.torso_histogram`) are compared with the followed person's, learnt slowly while
they agree; three disagreements in a row (half a second at 30 fps) drop the region, and for ``wait_s`` seconds only
someone with the followed person's colours is taken (nobody is followed meanwhile: nothing is sent rather than the
wrong person); after that, whoever is found is followed and their colours learnt anew. People dressed alike are not
told apart. A new ID is given whenever someone is found again (``person``), so a caller can tell a re-acquisition from
a continued track.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .blazepose import BlazePose, Roi, tile_rects
from .tracking import (appearance_distance, body_centre, body_height, learn_appearance, next_roi, roi_filter,
                       torso_histogram)


class Follower:
    """The person followed in a stream of frames (module docstring)."""

    def __init__(self, fps: float, *, model: BlazePose | None = None, min_presence: float = 0.5,
                 min_height: float = 0.04, check_s: float = 0.5, tiles: int = 2, threads: int = 2,
                 appearance_max: float = 0.5, wait_s: float = 2.0):
        self.model = model or BlazePose(threads=threads)
        self.fps, self.min_presence, self.min_height, self.tiles = fps, min_presence, min_height, tiles
        self.check = max(1, int(round(check_s * fps)))
        self.person = 0  # ID of the person followed (0: nobody yet); a new ID each time someone is found
        self.roi: Roi | None = None
        self.last: tuple[np.ndarray, float] | None = None  # (hip centre px, region side px) where last seen
        self.detections = 0  # detector calls on the critical path (finding someone)
        self._euro = None
        self._rects, self._cycle = None, 0
        self._scout_model, self._pool, self._pending, self._pending_t = None, None, None, 0
        self._scouted = (-np.inf, [])
        self._since = 0
        self.appearance_max, self.wait = appearance_max, max(1, int(round(wait_s * fps)))
        self.appearance = None  # the followed person's torso colours (tracking.torso_histogram), learnt while followed
        self.distances: list[float] = []  # each colour check's distance to them (tests, tuning)
        self.switches = 0  # regions dropped because their colours were someone else's
        self._frames, self._odd, self._lost_at = 0, 0, None

    def step(self, rgb: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The followed person in frame ``t`` of ``rgb (H, W, 3)`` RGB: ``(keypoints (33, 3) px + visibility,
        world (33, 3) m)``, or None when nobody is followed (none found this frame)."""
        if self.roi is not None:
            kp, world, presence, aux = self.model.landmarks(rgb, self.roi)
            if presence >= self.min_presence and self._looks_right(rgb, kp):
                self._follow(kp, aux)
                self._scout(rgb, t)
                return kp, world
            self.roi, self._lost_at = None, t  # followed until now (_lost_at is None while someone is followed)
        return self._find(rgb, t)

    def _looks_right(self, rgb: np.ndarray, kp: np.ndarray, every: int = 5, times: int = 3) -> bool:
        """Every ``every`` frames, the torso's colours against the followed person's: learnt slowly while they agree;
        False once they disagree ``times`` checks in a row (the region slid onto someone who walked in front)."""
        self._frames += 1
        if self._frames % every:
            return True
        h = torso_histogram(rgb, kp)
        if h is None:
            return True
        if self.appearance is None:
            self.appearance = h
            return True
        d = appearance_distance(h, self.appearance)
        self.distances.append(d)
        if d <= self.appearance_max:
            self.appearance, self._odd = learn_appearance(self.appearance, h), 0
            return True
        self._odd += 1
        if self._odd < times:
            return True
        self._odd, self.switches = 0, self.switches + 1
        return False

    def _is_them(self, rgb: np.ndarray, kp: np.ndarray, t: int) -> bool:
        """A candidate is taken when it has the followed person's colours (or they are unknown), or when nobody with
        them was found for ``wait`` frames (someone else is followed from then on: their colours are learnt anew)."""
        if self.appearance is None or self._lost_at is None or t - self._lost_at >= self.wait:
            return True
        h = torso_histogram(rgb, kp)
        return h is None or appearance_distance(h, self.appearance) <= self.appearance_max

    def close(self) -> None:
        """Stop the background detector (waits for a detection under way)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _follow(self, kp: np.ndarray, aux: np.ndarray) -> None:
        self.roi = next_roi(self._euro, aux, kp, 1.0 / self.fps)
        self.last = (body_centre(kp), self.roi.size)

    def _find(self, rgb: np.ndarray, t: int):
        """Someone to follow in this frame: the background detection's people when it is recent, else this frame's
        detector rectangle(s); the first candidate whose landmarks are a person is followed."""
        t_seen, scouted = self._scouted
        candidates = scouted if t - t_seen <= self.check else []
        self._scouted = (-np.inf, [])
        for rois in (candidates, None):
            if rois is None:
                rois = [roi for rect in self._rects_now(rgb.shape) for roi, _ in self.model.detect_rect(rgb, rect)]
                self.detections += 1
            for roi in self._order(rois)[:3]:
                kp, world, presence, aux = self.model.landmarks(rgb, roi)
                if (presence >= self.min_presence and body_height(kp) >= self.min_height * max(rgb.shape[:2])
                        and self._is_them(rgb, kp, t)):
                    if self._lost_at is not None and t - self._lost_at >= self.wait:
                        self.appearance = None
                    self.person += 1
                    self._euro, self._since, self._lost_at, self._odd = roi_filter(), 0, None, 0
                    self._follow(kp, aux)
                    return kp, world
        return None

    def _order(self, rois: list[Roi]) -> list[Roi]:
        """Candidates nearest (in region sides) to where the followed person was last seen first; the largest first
        when nobody was followed yet."""
        if self.last is None:
            return sorted(rois, key=lambda r: -r.size)
        centre, size = self.last
        return sorted(rois, key=lambda r: np.hypot(r.cx - centre[0], r.cy - centre[1]) / size)

    def _rects_now(self, shape) -> list[tuple[int, int, int, int]]:
        """The first search looks everywhere (the whole image and every tile); later ones one rectangle per frame,
        the whole image every other frame and the tiles in turn between."""
        H, W = shape[:2]
        if self._rects is None:
            tiles = tile_rects(W, H, self.tiles)
            self._rects = [r for tile in tiles for r in ((0, 0, W, H), tile)] or [(0, 0, W, H)]
            return [(0, 0, W, H)] + tiles
        r = self._rects[self._cycle % len(self._rects)]
        self._cycle += 1
        return [r]

    def _scout(self, rgb: np.ndarray, t: int) -> None:
        """Every ``check`` frames while following, a whole-image detection on the background thread (skipped while
        the last one is still running); its regions are kept with the frame they were seen in."""
        self._since += 1
        if self._pending is not None and self._pending.done():
            self._scouted = (self._pending_t, [roi for roi, _ in self._pending.result()])
            self._pending = None
        if self._since < self.check or self._pending is not None:
            return
        if self._pool is None:
            self._scout_model = BlazePose(threads=1)
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mocap-scout")
        H, W = rgb.shape[:2]
        self._since, self._pending_t = 0, t
        self._pending = self._pool.submit(self._scout_model.detect_rect, rgb, (0, 0, W, H))

