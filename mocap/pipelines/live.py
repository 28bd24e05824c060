"""Live: a camera, a video file or a stream -> a rig pose per frame, sent over VMC and recorded (BVH, glTF, FBX).

Each frame as it comes, in three threads so that the two cores overlap the work of consecutive frames:

1. **capture** (:class:`mocap.io.capture.FrameSource`): keeps only the newest frame; older ones not yet taken are
   *dropped* and counted, so a slow machine never builds a backlog;
2. **detection** (its own thread): the followed person only (:class:`mocap.detect.following.Follower`: their
   landmark model on the region the last frame predicts, the person detector only to find someone and every half
   second on a background thread; a bystander costs nothing) -> with ``hands``, the hand landmark model on the
   regions the person's arms predict (:func:`mocap.detect.hands.person_hands`); handed on through a one-frame slot
   (the newest wins, as for capture);
3. **pose** (the caller's thread): the causal lifter on the last 27 frames resampled to 30 fps
   (:data:`mocap.lift.model.CAUSAL_WEIGHTS`: no look-ahead) -> One-Euro smoothing -> stood upright and on the floor
   (both fixed from the first second) -> retargeting to a rig (proportions measured over the first second, then
   fixed; finger bones with ``hands``) -> a VMC bundle (:mod:`mocap.io.vmc`) -> sent.

So detection of frame t+1 runs while frame t is lifted and sent. Latency is measured from the moment a frame is
captured to the moment its packet is sent, and per stage (detect: capture -> detected, waiting for the thread
included). :func:`run_live` stops at the end of a file or stream, after ``max_frames``, or on Ctrl-C / SIGTERM
(the caller turns SIGTERM into KeyboardInterrupt); the recording is written then, atomically, up to the last frame
sent. Memory stays flat over a long run (the sent poses are kept only when recording).

This module is the orchestration only: capture is :class:`mocap.io.capture.FrameSource`, sending
:class:`mocap.io.vmc.VMCSender`, the per-frame lift and retargeting :class:`mocap.lift.stream.PoseStream`.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import MocapError
from ..io.capture import FrameSource
from ..io.vmc import VMCSender
from ..lift.stream import PoseStream
from .options import LiveOptions

STAGES = ("detect", "lift", "retarget", "send")


@dataclass
class LiveResult:
    """What happened: frames captured, processed, dropped (never processed: the machine was behind), with
    nobody in view, packets sent and refused (nothing listening); latency in ms per frame processed, end to
    end (capture -> sent, ``"total"``) and per stage (:data:`STAGES`); why it stopped; the recording and notes."""

    captured: int = 0
    processed: int = 0
    dropped: int = 0
    nobody: int = 0
    sent: int = 0
    refused: int = 0
    latency: dict = field(default_factory=lambda: {k: [] for k in ("total",) + STAGES})
    stopped: str = ""
    recording: Path | None = None
    recorded_frames: int = 0
    notes: list[str] = field(default_factory=list)
    planted_pct: dict | None = None  # each ankle's share of the frames sent in which it was planted
    planted: list = field(default_factory=list)  # (time s, planted (2,) bool: left, right ankle) per frame after the first second
    hands_found: np.ndarray = field(default_factory=lambda: np.zeros(2, int))  # frames each hand was shaped in (--hands)

    def latency_summary(self) -> dict:
        """``{stage: (median, p95)}`` ms."""
        return {k: (float(np.median(v)), float(np.percentile(v, 95))) for k, v in self.latency.items() if v}


@dataclass
class _Detected:
    """What the detection stage hands the pose stage for one frame: its index, capture time, the followed person's
    keypoints ``(33, 3)`` px (None: nobody) and hand points ``(2, 21, 3)`` (None without ``hands``), and when
    detection ended (``time.perf_counter()``)."""

    index: int
    t_cap: float
    kp: np.ndarray | None
    hands: np.ndarray | None
    t_det: float


class _Chain:
    """One live run's state after capture: the person followed, the pose stream, the sender and what was sent (kept
    for the recording only). Two stages, run on two threads: :meth:`detect` (the followed person's landmarks, hands)
    and :meth:`pose` (lift, retarget, send)."""

    def __init__(self, model, src: FrameSource, opts: LiveOptions, sender: VMCSender | None):
        from ..core.camera import pinhole
        from ..detect.following import Follower
        from ..detect.hands import HandLandmarks
        from ..retarget.rigs import roles
        from ..runtime import native_quiet

        with native_quiet():
            self.follower = Follower(src.fps)
        self.stream = PoseStream(model, pinhole(src.size, opts.focal), opts.rig, contacts=opts.contacts == "auto")
        self.src, self.sender, self.fps = src, sender, src.fps
        self.roles = [r for r, _ in roles(opts.hands)]
        self.hands = None
        if opts.hands:
            with native_quiet():
                self.hands = HandLandmarks(threads=2)
        self.keep = opts.record is not None
        self.sent: list[tuple[int, np.ndarray, np.ndarray]] = []  # (frame index, local rotations, root)
        self.n_sent = 0
        self.offsets = None

    def detect(self, item) -> _Detected:
        """One captured frame ``(index, capture time, BGR image)``: the followed person's keypoints (and hands)."""
        from ..runtime import native_quiet

        i, t_cap, img = item
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        with native_quiet():
            found = self.follower.step(rgb, i)
        kp = None if found is None else found[0]
        hands = None if kp is None else self._hands(rgb, kp)
        return _Detected(i, t_cap, kp, hands, time.perf_counter())

    def pose(self, det: _Detected, res: LiveResult) -> None:
        """Lift, retarget and send one detected frame; latency noted (capture -> sent, and per stage)."""
        from ..io.vmc import encode_bundle, frame_messages

        res.processed += 1
        if det.kp is None:
            res.nobody += 1
            return
        if det.hands is not None:
            res.hands_found += np.isfinite(det.hands[:, 0, 0])
        i, t_take = det.index, time.perf_counter()
        X = self.stream.lift(det.kp, i / self.fps)
        t_lift = time.perf_counter()
        local, root, self.offsets, _ = self.stream.pose(X, i / self.fps, det.hands)
        t_ret = time.perf_counter()
        self.n_sent += 1
        if self.keep:  # recorded before it goes out: a stop in between loses nothing sent
            self.sent.append((i, local, root))
        if self.sender is not None:
            self.sender.send(encode_bundle(frame_messages(self.roles, local, root, self.offsets, t=i / self.fps)))
        t_sent = time.perf_counter()
        for k, (a, b) in zip(("total",) + STAGES, [(det.t_cap, t_sent), (det.t_cap, det.t_det), (t_take, t_lift),
                                                    (t_lift, t_ret), (t_ret, t_sent)]):
            res.latency[k].append(1000 * (b - a))

    def _hands(self, rgb: np.ndarray, kp: np.ndarray) -> np.ndarray | None:
        """The followed person's hands' metric points ``(2, 21, 3)`` (NaN where not found) when asked for, else None."""
        from ..detect.hands import person_hands
        from ..runtime import native_quiet

        if self.hands is None:
            return None
        with native_quiet():
            _, world = person_hands(self.hands, rgb, kp)
        return world


class _Detecting:
    """The detection stage on its own thread: frames from ``src`` -> :meth:`_Chain.detect` -> a :class:`Slot` the
    pose stage takes from (the newest wins when the source runs in real time; otherwise each waits its turn). An
    error in it is raised again by :meth:`get` in the caller's thread."""

    def __init__(self, chain: _Chain, src: FrameSource):
        from ..io.capture import Slot

        self.chain, self.src = chain, src
        self.out = Slot(wait=not src.realtime)
        self.error: BaseException | None = None
        self.why = ""
        self.thread = threading.Thread(target=self._run, name="mocap-detect", daemon=True)

    def _run(self) -> None:
        try:
            while not self.out.stopped:
                item = self.src.get()
                if item is None:
                    src = self.src
                    self.why = (f"the stream failed ({src.error})" if src.error else
                                "the source ended" if src.ended else "no frame for 5 s")
                    break
                self.out.put(self.chain.detect(item))
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            self.error = e
        finally:
            self.out.end()

    def get(self) -> _Detected | None:
        det = self.out.get(timeout=3600.0)
        if det is None and self.error is not None:
            raise self.error
        return det

    def counts(self) -> tuple[int, int]:
        """Frames captured, and dropped (by the source, or detected and replaced before the pose stage took them)."""
        return self.src.captured, self.src.dropped + self.out.dropped

    def close(self) -> None:
        """Stop the stage and its source (a frame under way is finished first)."""
        self.out.stop()
        self.src.close()
        self.thread.join(timeout=5.0)
        self.chain.follower.close()


def _why_stop(res: LiveResult, opts: LiveOptions, stop, t_start: float) -> str | None:
    if opts.max_frames is not None and res.processed >= opts.max_frames:
        return f"after {opts.max_frames} frames"
    if opts.max_seconds is not None and time.perf_counter() - t_start >= opts.max_seconds:
        return f"after {opts.max_seconds:g} s"
    if stop is not None and stop.is_set():
        return "stopped (interrupted)"
    return None


def run_live(opts: LiveOptions, on_frame=None, stop: threading.Event | None = None) -> LiveResult:
    """Run the live chain (module docstring) until the source ends, a limit is reached, ``stop`` is set (checked
    between frames: what was sent is what is recorded) or KeyboardInterrupt. ``on_frame(result)`` is called
    after each processed frame (progress display). The recording, if asked for, is written at the end whatever
    stopped the run (nothing when no frame was sent)."""
    import torch

    from ..io.vmc import encode_bundle
    from ..lift.model import CAUSAL_WEIGHTS, load_model

    model = load_model(opts.weights or CAUSAL_WEIGHTS)[0]  # a missing torch or weights fails before capture
    if opts.vmc:
        encode_bundle([])  # and so does a missing python-osc
    src = FrameSource(opts.source, opts.realtime)
    try:
        sender = VMCSender(*opts.vmc) if opts.vmc else None
    except MocapError:
        src.close()
        raise
    res, chain = LiveResult(), _Chain(model, src, opts, sender)
    stage = _Detecting(chain, src)
    threads, t_start = torch.get_num_threads(), time.perf_counter()
    torch.set_num_threads(1)  # one 27-frame window per frame: a second thread only waits (6 ms instead of 30)
    src.start()
    stage.thread.start()
    try:
        while (why := _why_stop(res, opts, stop, t_start)) is None:
            det = stage.get()
            if det is None:
                why = stage.why or "the source ended"
                break
            chain.pose(det, res)
            if on_frame is not None:
                res.captured, res.dropped = stage.counts()
                on_frame(res)
        res.stopped = why
    except KeyboardInterrupt:
        res.stopped = "stopped (interrupted)"
    finally:
        torch.set_num_threads(threads)
        stage.close()
        res.captured, res.dropped = stage.counts()
        if sender is not None:
            res.sent, res.refused = sender.sent, sender.refused
            sender.close()
        if opts.record and chain.sent:
            res.recording = Path(opts.record)
            res.recorded_frames = _record(chain.sent, chain.offsets, chain.stream, src.fps, opts=opts)
    res.planted = chain.stream.flags
    if chain.stream.lock is not None and chain.n_sent:
        counts = np.sum([p for _, p in chain.stream.flags], axis=0) if chain.stream.flags else np.zeros(2)
        res.planted_pct = {n: 100.0 * k / chain.n_sent for n, k in zip(("left_ankle", "right_ankle"), counts)}
        res.notes.append("planted feet held in depth: " + ", ".join(f"{n} {p:.0f} %" for n, p in res.planted_pct.items())
                         + " of the frames sent")
    res.notes += _notes(res, opts)
    return res


def _record(frames, offsets, stream: PoseStream, fps: float, *, opts: LiveOptions) -> int:
    """The sent poses as a BVH at the source's frame rate (a frame not processed holds the pose before it),
    written atomically. Returns the number of frames written."""
    from ..retarget.export import write_animation
    from ..retarget.rigs import get_rig
    from ..retarget.solve import Retargeted

    idx = np.array([i for i, _, _ in frames])
    take = np.searchsorted(idx, np.arange(idx[0], idx[-1] + 1), side="right") - 1
    local = np.stack([l for _, l, _ in frames])[take]
    root = np.stack([r for _, _, r in frames])[take]
    anim = Retargeted(get_rig(opts.rig), local, root, offsets=offsets, fps=fps, proportions=stream.proportions,
                      kept=np.zeros(local.shape[:2], bool))
    write_animation(anim, opts.record, opts.units)
    return len(local)


def _notes(res: LiveResult, opts: LiveOptions) -> list[str]:
    notes = []
    if res.processed == 0:
        notes.append("no frame was processed")
    if res.nobody:
        notes.append(f"nobody in view in {res.nobody} of {res.processed} processed frames (nothing sent for them)")
    if res.dropped:
        notes.append(f"{res.dropped} of {res.captured} frames dropped: the machine was behind the source")
    if res.refused:
        notes.append(f"{res.refused} of {res.sent + res.refused} packets refused: nothing is listening at "
                     f"{opts.vmc[0]}:{opts.vmc[1]}")
    if opts.hands and res.processed > res.nobody:
        from .monocular import hand_note

        notes.append(hand_note(100 * res.hands_found / (res.processed - res.nobody), frames="frames with the person"))
    if opts.record and not res.recorded_frames:
        notes.append(f"nothing recorded: no pose was made ({opts.record} not written)")
    return notes
