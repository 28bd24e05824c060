"""Every person in one video: BlazePose regions followed frame to frame, with identities.

:class:`PeopleTracker` turns frames into people ``(id, keypoints (33, 3), world (33, 3))``:

1. **region tracking**: each tracked person's landmarks are found inside the region their previous frame's
   landmarks gave (MediaPipe's own region propagation); a presence score under ``min_presence`` ends the
   region (the person is *lost*: occluded, out of view or left);
2. **finding people**: the person detector runs on one image rectangle per frame, in a cycle that alternates
   the whole frame with tiles of it (:meth:`mocap.detect.blazepose.BlazePose.detect`), so a person entering
   at full size is found within two frames and a small, distant one within one cycle, at the cost of one
   detector call per frame (the first frame gets every rectangle); a detection on a person already followed is skipped, and so is one mostly inside
   someone followed or with its hips on their torso (a person emerging from behind them is taken once mostly
   out: a half-seen body gives a fit across both people);
3. **one region per person**: when two regions end up on the same body (the landmarks agree), the one whose
   motion predicted this body best keeps it, the other is lost (a person walking behind another);
4. **identities**: a new person is first compared with the people lost in the last ``reid_s`` seconds: their
   position predicted from their last motion (constant velocity for up to a second, then held), their size
   and their appearance (a hue/saturation histogram of the torso) must agree, and unambiguously (the best
   match clearly better than the next); then they get their ID back (*re-identified*), otherwise a new ID
   (reported as such).

:func:`track_video` runs it over a video and returns :class:`VideoPeople`: ``(T, P, 33, 3)`` keypoints with
``P`` IDs counted from 1 in order of first appearance, tracks shorter than ``min_track_s`` dropped (ghosts,
someone seen for a few frames), and a report. Cost per frame: one detector call plus one landmark call per
person followed; memory ``O(T * P)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..smooth.filters import OneEuro
from .blazepose import MP_WORLD_TO_YUP, BlazePose, Roi, roi_from_points, tile_rects

HIPS, SHOULDERS = (23, 24), (11, 12)
TORSO = (11, 12, 24, 23)


def body_centre(kp: np.ndarray) -> np.ndarray:
    """``(..., 33, 3)`` -> ``(..., 2)`` px: the hip centre (where the ROI is centred)."""
    return kp[..., HIPS, :2].mean(-2)


def same_body(a: np.ndarray, b: np.ndarray, size: float, tol: float = 0.08, *, share: float = 0.3,
              min_conf: float = 0.5) -> bool:
    """Two keypoint sets ``(33, 3)`` on one body: at least ``share`` of the joints visible in both lie within
    ``tol`` x ``size`` px (the smaller ROI side) of each other. A region that slid onto half of someone
    (their head and shoulders, its hips at their waist) agrees on those joints; two people in contact
    agree on hardly any. Also one body: hip centres within ``3 * tol`` x ``size`` and keypoint boxes
    overlapping by more than half (two fits of one person in a pose the model finds hard)."""
    both = (a[:, 2] >= min_conf) & (b[:, 2] >= min_conf)
    if both.sum() < 5:
        both = np.ones(len(a), bool)
    close = np.linalg.norm(a[both, :2] - b[both, :2], axis=-1) < tol * size
    if float(close.mean()) >= share:
        return True
    if np.linalg.norm(body_centre(a) - body_centre(b)) >= 3 * tol * size:
        return False
    lo, hi = np.maximum(a[:, :2].min(0), b[:, :2].min(0)), np.minimum(a[:, :2].max(0), b[:, :2].max(0))
    inter = np.prod(np.maximum(hi - lo, 0))
    area = lambda k: np.prod(np.ptp(k[:, :2], axis=0))  # noqa: E731
    return inter / max(area(a) + area(b) - inter, 1e-9) > 0.5


def inside_share(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the keypoint box of ``a (33, 3)`` that lies inside the keypoint box of ``b``."""
    lo, hi = np.maximum(a[:, :2].min(0), b[:, :2].min(0)), np.minimum(a[:, :2].max(0), b[:, :2].max(0))
    return float(np.prod(np.maximum(hi - lo, 0)) / max(np.prod(np.ptp(a[:, :2], axis=0)), 1e-9))


def in_torso(point: np.ndarray, kp: np.ndarray, grow: float = 0.25) -> bool:
    """``point (2,)`` px inside the box of the shoulders and hips of ``kp (33, 3)``, enlarged by ``grow``."""
    t = kp[list(TORSO), :2]
    lo, hi = t.min(0), t.max(0)
    pad = grow * (hi - lo)
    return bool(((point >= lo - pad) & (point <= hi + pad)).all())


def body_height(kp: np.ndarray) -> float:
    """Vertical extent of a keypoint set ``(33, 3)`` px."""
    return float(np.ptp(kp[:, 1]))


def torso_histogram(rgb: np.ndarray, kp: np.ndarray, bins=(16, 4)) -> np.ndarray | None:
    """Hue x saturation histogram (normalised, ``bins``) of the torso quadrilateral (shoulders, hips) in
    ``rgb`` ``(H, W, 3)``; None when the torso is too small or outside the image."""
    quad = kp[list(TORSO), :2]
    x0, y0 = np.floor(quad.min(0)).astype(int)
    x1, y1 = np.ceil(quad.max(0)).astype(int)
    H, W = rgb.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    step = max(1, int(max(x1 - x0, y1 - y0) // 64))  # about 64 px across is enough for colours
    patch = np.ascontiguousarray(rgb[y0:y1:step, x0:x1:step])
    mask = np.zeros(patch.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, np.round((quad - [x0, y0]) / step).astype(np.int32), 1)
    if mask.sum() < 8:
        return None
    hsv = cv2.cvtColor(patch, cv2.COLOR_RGB2HSV)
    h = cv2.calcHist([hsv], [0, 1], mask, list(bins), [0, 180, 0, 256]).ravel()
    return (h / max(h.sum(), 1e-9)).astype(np.float32)


def appearance_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Bhattacharyya distance of two :func:`torso_histogram` results (0 = same colours, 1 = disjoint;
    0.5 when either is unknown)."""
    if a is None or b is None:
        return 0.5
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


def learn_appearance(known: np.ndarray | None, seen: np.ndarray, rate: float = 0.2) -> np.ndarray:
    """A person's torso colours (:func:`torso_histogram`) updated with ``seen``: ``seen`` itself when nothing was
    known yet, else a running average that moves ``rate`` of the way towards it."""
    return seen if known is None else (1.0 - rate) * known + rate * seen


def roi_filter() -> OneEuro:
    """The smoothing MediaPipe's Pose applies to the points that place the next region (One-Euro, min cut-off
    0.01 Hz, beta 10): steady while the person stands, quick when they move."""
    return OneEuro(min_cutoff=0.01, beta=10.0, d_cutoff=1.0)


def next_roi(euro: OneEuro, aux: np.ndarray, kp: np.ndarray, dt: float) -> Roi:
    """The region for the next frame from this frame's auxiliary points ``aux (2, 2)`` px (hip centre, body-size
    point), smoothed by ``euro`` (:func:`roi_filter`) with speeds in units of the person's size (the mean side of
    the keypoint box of ``kp (33, 3)``); ``dt`` s since the last frame."""
    size = max(float(np.ptp(kp[:, :2], axis=0).mean()), 1.0)
    p = euro.filter(aux, dt, scale=size)
    return roi_from_points(p[0], p[1])


@dataclass
class Track:
    id: int
    roi: Roi | None
    kp: np.ndarray  # (33, 3) last keypoints
    centre: np.ndarray  # (2,) px, hip centre at last_seen
    velocity: np.ndarray  # (2,) px per frame
    size: float  # ROI side, px
    last_seen: int
    first_seen: int
    appearance: np.ndarray | None = None
    seen: int = 1
    aux: OneEuro | None = None  # smooths the points that place the next region (MediaPipe's setting)

    def predict(self, t: int, horizon: int) -> np.ndarray:
        """Hip centre at frame ``t``: constant velocity for at most ``horizon`` frames, then held."""
        return self.centre + self.velocity * min(t - self.last_seen, horizon)


@dataclass
class TrackerReport:
    reidentified: list[tuple[int, int]] = field(default_factory=list)  # (id, frame)
    not_recognised: list[tuple[int, int]] = field(default_factory=list)  # (new id, frame): someone lost, not matched
    too_many: int = 0  # frames where more people than max_people were seen
    merged: int = 0  # regions that collapsed onto a body already followed


class PeopleTracker:
    """Frame-by-frame multi-person BlazePose with identities (see the module docstring)."""

    def __init__(self, model: BlazePose | None = None, fps: float = 30.0, max_people: int = 8,
                 min_presence: float = 0.5, *, tiles: int = 2, reid_s: float = 10.0, appearance_max: float = 0.45,
                 min_height: float = 0.04, min_track_s: float = 0.25):
        self.model = model or BlazePose()
        self.fps, self.max_people, self.min_presence = fps, max_people, min_presence
        self.tiles, self.reid_frames, self.appearance_max = tiles, int(round(reid_s * fps)), appearance_max
        self.min_height = min_height  # share of the image's longer side a person must span (smaller: ghosts)
        self.horizon = max(1, int(round(fps)))
        self.min_seen = max(1, int(round(min_track_s * fps)))  # frames a lost person's motion is extrapolated
        self.active: list[Track] = []
        self.lost: list[Track] = []
        self.tracks: dict[int, Track] = {}
        self.report = TrackerReport()
        self._next_id = 1
        self._cycle = 0
        self._rects = None

    # -- one frame ------------------------------------------------------------------------------------
    def step(self, rgb: np.ndarray, t: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """People in frame ``t`` of ``rgb`` ``(H, W, 3)`` RGB: ``[(id, keypoints (33, 3) px, world (33, 3) m)]``."""
        found = []
        for tr in self.active:
            kp, world, presence, aux = self.model.landmarks(rgb, tr.roi)
            found.append((tr, kp, world, presence, self._next_roi(tr, aux, kp)))
        keep = []
        for tr, kp, world, presence, nxt in found:
            if presence < self.min_presence:
                self._lose(tr)
            else:
                keep.append((tr, kp, world, nxt))
        keep = self._one_region_per_body(keep, t)
        for tr, kp, world, nxt in keep:
            self._update(tr, kp, nxt, t, rgb=rgb, alone=self._alone(kp, tr.size, [k for _, k, _, _ in keep]))
        out = [(tr.id, kp, world) for tr, kp, world, _ in keep]
        self.active = [tr for tr, *_ in keep]
        out += self._find_new(rgb, t)
        self.lost = [tr for tr in self.lost if t - tr.last_seen <= self.reid_frames]
        return out

    def _next_roi(self, tr: Track, aux: np.ndarray, kp: np.ndarray) -> Roi:
        if tr.aux is None:
            tr.aux = roi_filter()
        return next_roi(tr.aux, aux, kp, 1.0 / self.fps)

    def _alone(self, kp, size, others) -> bool:
        """No other person's hip centre within a region side (the torso colours are this person's own)."""
        c = body_centre(kp)
        return sum(np.linalg.norm(body_centre(o) - c) < 0.5 * size for o in others) <= 1

    def _lose(self, tr: Track) -> None:
        """A region ends: a person followed for at least ``min_track_s`` may come back (kept for
        re-identification); a shorter track (a ghost, a second region on someone) is forgotten."""
        tr.roi = None
        if tr.seen >= self.min_seen:
            self.lost.append(tr)

    def _update(self, tr: Track, kp, roi, t, *, rgb, alone: bool = True) -> None:
        c = body_centre(kp)
        dt = max(t - tr.last_seen, 1)
        v = (c - tr.centre) / dt
        tr.velocity = v if tr.seen < 2 else 0.6 * tr.velocity + 0.4 * v
        tr.centre, tr.kp, tr.roi, tr.size, tr.last_seen = c, kp, roi, roi.size, t
        tr.seen += 1
        if alone and (tr.seen % 5 == 0 or tr.appearance is None):  # colours when nobody overlaps
            h = torso_histogram(rgb, kp)
            if h is not None:
                tr.appearance = learn_appearance(tr.appearance, h)

    def _one_region_per_body(self, keep, t):
        """Regions on the same body: the one whose prediction was closest keeps it."""
        drop = set()
        for i in range(len(keep)):
            for j in range(i + 1, len(keep)):
                (a, ka, _, _), (b, kb, _, _) = keep[i], keep[j]
                if i in drop or j in drop or not same_body(ka, kb, min(a.size, b.size)):
                    continue
                ea = np.linalg.norm(a.predict(t, self.horizon) - body_centre(ka)) / a.size
                eb = np.linalg.norm(b.predict(t, self.horizon) - body_centre(kb)) / b.size
                loser = j if (ea, a.first_seen) <= (eb, b.first_seen) else i
                drop.add(loser)
        for k in sorted(drop):
            self._lose(keep[k][0])
            self.report.merged += 1
        return [k for n, k in enumerate(keep) if n not in drop]

    def _next_rect(self, shape) -> tuple[int, int, int, int]:
        """The detector's rectangle for this frame: the whole image every other frame, tiles between."""
        if self._rects is None:
            H, W = shape[:2]
            full = (0, 0, W, H)
            coarse = tile_rects(W, H, min(self.tiles, 1))
            fine = tile_rects(W, H, self.tiles)[len(coarse):]
            # the whole image every other frame; between, the shorter-side squares every 4th frame and the
            # half-size squares in turn
            tiles = [t for k in range(max(len(fine), len(coarse))) for t in
                     ([coarse[k % len(coarse)]] if coarse else []) + ([fine[k]] if k < len(fine) else [])]
            self._rects = [r for tile in tiles for r in (full, tile)] or [full]
        r = self._rects[self._cycle % len(self._rects)]
        self._cycle += 1
        return r

    def _find_new(self, rgb, t):
        out = []
        first = self._cycle == 0
        rect = self._next_rect(rgb.shape)
        # the first frame looks everywhere at once (the whole image and every tile): whoever is in view from
        # the start is followed from the start, not when the cycle reaches their tile
        rects = list(dict.fromkeys([rect] + self._rects)) if first else [rect]
        for roi, _ in (d for r in rects for d in self.model.detect_rect(rgb, r)):
            if any(np.hypot(roi.cx - tr.centre[0], roi.cy - tr.centre[1]) < 0.2 * tr.size
                   and 0.5 < roi.size / tr.size < 2 for tr in self.active):
                continue  # someone followed already
            kp, world, presence, aux = self.model.landmarks(rgb, roi)
            nxt = roi_from_points(aux[0], aux[1])
            if presence < self.min_presence or body_height(kp) < self.min_height * max(rgb.shape[:2]) or any(
                    same_body(kp, tr.kp, min(tr.size, nxt.size)) or inside_share(kp, tr.kp) > 0.6
                    or in_torso(body_centre(kp), tr.kp) for tr in self.active):
                continue  # nobody, a ghost, someone followed already, or mostly hidden behind them (wait)
            if len(self.active) >= self.max_people:
                self.report.too_many += 1
                continue
            tr = self._reidentify(kp, nxt, t, rgb)
            if tr is None:
                tr = Track(self._next_id, nxt, kp, centre=body_centre(kp), velocity=np.zeros(2), size=nxt.size,
                           last_seen=t, first_seen=t)
                self._next_id += 1
                self.tracks[tr.id] = tr
                if self.lost:
                    self.report.not_recognised.append((tr.id, t))
                self._update(tr, kp, nxt, t, rgb=rgb)
                tr.seen = 1
            self.active.append(tr)
            out.append((tr.id, kp, world))
        return out

    def _reidentify(self, kp, roi, t, rgb) -> Track | None:
        if not self.lost:
            return None
        c = body_centre(kp)
        h = torso_histogram(rgb, kp)
        costs = []
        for tr in self.lost:
            gap = (t - tr.last_seen) / self.fps
            pos = np.linalg.norm(tr.predict(t, self.horizon) - c) / tr.size
            app = appearance_distance(h, tr.appearance)
            ok = pos <= 0.6 + 2.0 * gap and 0.6 < roi.size / tr.size < 1.6 and app <= self.appearance_max
            costs.append(pos / (0.6 + 2.0 * gap) + app / self.appearance_max if ok else np.inf)
        order = np.argsort(costs)
        best = order[0]
        if not np.isfinite(costs[best]):
            return None
        if len(order) > 1 and np.isfinite(costs[order[1]]) and costs[order[1]] < 1.25 * costs[best]:
            return None  # two lost people fit about as well: do not guess
        tr = self.lost.pop(int(best))
        self._update(tr, kp, roi, t, rgb=rgb)
        self.report.reidentified.append((tr.id, t))
        return tr


@dataclass
class VideoPeople:
    """Everyone in one video (:func:`track_video`): keypoints ``(T, P, 33, 3)`` (x px, y px, visibility;
    NaN and 0 where a person is not seen) and world landmarks ``(T, P, 33, 3)`` (metres, hip-centred, Y-up)
    for the ``P`` people ``ids`` (1, 2, ... in order of first appearance), at the video's frame indices
    ``frames`` ``(T,)``; ``dropped``: ``(frames seen, first frame)`` of each track too short to keep."""

    keypoints: np.ndarray
    world: np.ndarray
    ids: list[int]
    frames: np.ndarray
    fps: float
    size: tuple[int, int]
    source: str
    report: TrackerReport
    dropped: list[tuple[int, int]] = field(default_factory=list)
    hands: np.ndarray | None = None  # (T, P, 42, 3): left then right hand (track_video(hands=True)), else None
    hand_world: np.ndarray | None = None  # (T, P, 2, 21, 3): their metric points, m, camera axes (hands.person_hands)

    @property
    def skeleton(self):
        """The layout of :attr:`points`: MediaPipe's 33 body points, then with hands 21 per hand."""
        from ..core.skeletons import MEDIAPIPE_33, MEDIAPIPE_33_HANDS

        return MEDIAPIPE_33 if self.hands is None else MEDIAPIPE_33_HANDS

    @property
    def points(self) -> np.ndarray:
        """``(T, P, J, 3)``: the body's keypoints, then both hands' when they were looked for."""
        return self.keypoints if self.hands is None else np.concatenate([self.keypoints, self.hands], axis=2)

    def found_hands(self) -> np.ndarray:
        """``(T, P, 2)`` bool: the left and the right hand found (when they were looked for)."""
        if self.hands is None:
            return np.zeros(self.keypoints.shape[:2] + (2,), bool)
        return (self.hands[..., 2] > 0).reshape(self.hands.shape[:2] + (2, 21)).any(-1)

    def present(self) -> np.ndarray:
        """``(T, P)`` bool: the person is seen in the frame."""
        return (self.keypoints[..., 2] > 0).any(-1)

    def most_present(self) -> int:
        """The ID seen in the most frames."""
        return self.ids[int(self.present().sum(0).argmax())]

    def index(self, person_id: int) -> int:
        from ..errors import MocapError

        if person_id not in self.ids:
            raise MocapError(f"no person {person_id} in the video (people: {', '.join(map(str, self.ids)) or 'none'})",
                             self.source)
        return self.ids.index(person_id)


def track_video(path, tracker: PeopleTracker | None = None, stride: int = 1, resize: float | None = None,
                *, start: float = 0.0, end: float | None = None, progress=None, min_track_s: float = 0.25,
                hands: bool = False, **options) -> VideoPeople:
    """Follow everyone through a video (:class:`PeopleTracker`; ``options`` go to it). Pixel coordinates
    refer to the original resolution even with ``resize``; ``progress(done, total)`` per frame. Tracks seen
    in fewer than ``min_track_s`` seconds of frames are dropped (listed in ``dropped``) and the remaining IDs
    renumbered 1, 2, ... by first appearance. ``hands``: each person's hands too (:func:`mocap.detect.hands.person_hands`
    on the regions their arms predict), in ``VideoPeople.hands``."""
    from ..errors import MocapError
    from ..io.video import frames, open_video, read_ahead
    from ..runtime import native_quiet

    _, info = open_video(path)
    fps = info.fps / stride
    tracker = tracker or PeopleTracker(fps=fps, min_track_s=min_track_s, **options)
    total = max(1, (min(info.n_frames, int(round(end * info.fps)) if end else info.n_frames)
                    - int(round(start * info.fps))) // stride)
    per_frame, idx, hand_frames = [], [], []
    finder = _hand_finder() if hands else None
    with native_quiet():
        decoded = ((i, cv2.cvtColor(img, cv2.COLOR_BGR2RGB)) for i, img in frames(path, stride, start, end, resize=resize))
        for k, (i, rgb) in enumerate(read_ahead(decoded)):  # the next frames decode while this one is tracked
            scale = info.width / rgb.shape[1]
            people = tracker.step(rgb, k)
            per_frame.append([(pid, kp * [scale, scale, 1.0], world) for pid, kp, world in people])
            if finder:
                hand_frames.append({pid: finder(rgb, kp, scale) for pid, kp, _ in people})
            idx.append(i)
            if progress:
                progress(k + 1, total)
    if not idx:
        raise MocapError("no frame could be decoded in the requested range", path)
    counts: dict[int, int] = {}
    for people in per_frame:
        for pid, _, _ in people:
            counts[pid] = counts.get(pid, 0) + 1
    need = max(1, int(np.ceil(min_track_s * fps)))
    first = {t.id: t.first_seen for t in tracker.tracks.values()}
    kept = sorted((p for p, n in counts.items() if n >= need), key=lambda p: first[p])
    dropped = [(counts[p], first[p]) for p in counts if counts[p] < need]
    slot = {p: n for n, p in enumerate(kept)}
    T, P = len(idx), len(kept)
    kp = np.full((T, P, 33, 3), np.nan)
    kp[..., 2] = 0.0
    world = np.full((T, P, 33, 3), np.nan)
    for t, people in enumerate(per_frame):
        for pid, k, w in people:
            if pid in slot:
                kp[t, slot[pid]], world[t, slot[pid]] = k, w @ MP_WORLD_TO_YUP.T
    found, found_world = _gather_hands(hand_frames, slot, P) if finder else (None, None)
    renum = {p: n + 1 for n, p in enumerate(kept)}
    rep = tracker.report
    rep.reidentified = [(renum[p], f) for p, f in rep.reidentified if p in renum]
    rep.not_recognised = [(renum[p], f) for p, f in rep.not_recognised if p in renum]
    return VideoPeople(kp, world, list(range(1, P + 1)), frames=np.array(idx), fps=fps, size=(info.width, info.height),
                       source=str(path), report=rep, dropped=dropped, hands=found, hand_world=found_world)


def _gather_hands(hand_frames: list[dict], slot: dict[int, int], P: int) -> tuple[np.ndarray, np.ndarray]:
    """``(T, P, 42, 3)`` and ``(T, P, 2, 21, 3)`` from each frame's ``{track id: (hands, metric points)}`` for the
    tracks kept (``slot``: id -> column)."""
    T = len(hand_frames)
    found, world = np.full((T, P, 42, 3), np.nan), np.full((T, P, 2, 21, 3), np.nan)
    found[..., 2] = 0.0
    for t, people in enumerate(hand_frames):
        for pid, (h, w) in people.items():
            if pid in slot:
                found[t, slot[pid]], world[t, slot[pid]] = h, w
    return found, world


def _hand_finder():
    """``f(rgb, body (33, 3), scale) -> ((42, 3), (2, 21, 3))``: both hands of a person
    (:func:`mocap.detect.hands.person_hands`), pixels times ``scale`` (a resized video's original size)."""
    from .hands import HandLandmarks, person_hands

    model = HandLandmarks()

    def find(rgb, body, scale):
        h, w = person_hands(model, rgb, body)
        return h * [scale, scale, 1.0], w

    return find
