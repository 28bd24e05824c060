"""2D detection of one person in a video: the detector interface, MediaPipe's legacy Pose solution, and one
person taken out of the multi-person tracker.

:func:`detect_video` returns :class:`~mocap.core.keypoints.Keypoints2D` ``(1, T, J, 3)`` (frames where the
person is not seen stay in, marked missing) and the world landmarks as a :class:`~mocap.core.motion.Motion3D`.
By default every person is followed (:func:`mocap.detect.tracking.track_video`) and *one* of them is returned,
the most present unless ``person`` says which: never a mix of people. A custom ``detector`` (one RGB image ->
``(J, 3)`` keypoints x px, y px, confidence, plus optional ``(J, 3)`` world landmarks in metres, or None) is run
frame by frame instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import warnings

import cv2
import numpy as np

from ..errors import MocapError
from ..core.keypoints import Keypoints2D
from ..core.motion import Motion3D
from ..runtime import native_quiet, quiet_environment, verbose
from ..core.skeletons import MEDIAPIPE_33, Skeleton
from ..io.video import frames, open_video

from .blazepose import MP_WORLD_TO_YUP


class Detector(Protocol):
    skeleton: Skeleton

    def __call__(self, rgb: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(H, W, 3)`` uint8 RGB -> (``(J, 3)`` x px, y px, confidence or None, ``(J, 3)`` metres or None)."""


class MediaPipeDetector:
    """MediaPipe's legacy Pose solution 0.10.21 with its bundled full model (model_complexity=1), in tracking
    mode: one person per frame, whoever it locks onto (the reference the multi-person tracker is checked
    against; pass it as ``detector`` to :func:`detect_video` to use it)."""

    skeleton = MEDIAPIPE_33

    def __init__(self, min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5):
        quiet_environment()
        try:
            with native_quiet(), warnings.catch_warnings():
                if not verbose():
                    warnings.simplefilter("ignore")  # protobuf/jax deprecation notices on import
                import mediapipe as mp
        except ImportError:
            raise MocapError("the built-in detector needs mediapipe==0.10.21 (pip install 'mocap-pipeline[video]')") from None
        with native_quiet():
            self._pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=False,
                                                min_detection_confidence=min_detection_confidence,
                                                min_tracking_confidence=min_tracking_confidence)

    def __call__(self, rgb):
        with native_quiet():  # TF Lite / absl lines on the first frames
            res = self._pose.process(rgb)
        if res.pose_landmarks is None:
            return None, None
        h, w = rgb.shape[:2]
        lm = res.pose_landmarks.landmark
        kp = np.array([[p.x * w, p.y * h, p.visibility] for p in lm])
        world = None
        if res.pose_world_landmarks is not None:
            world = np.array([[p.x, p.y, p.z] for p in res.pose_world_landmarks.landmark]) @ MP_WORLD_TO_YUP.T
        return kp, world

    def close(self):
        self._pose.close()


@dataclass
class Detection:
    """Result of :func:`detect_video`: keypoints ``(1, T, J, 3)``, world landmarks (Y-up metres,
    hip-centred) and the frames where nobody was found; with the tracker, which ``person`` (ID) this is and
    everyone it saw (``people``, a :class:`~mocap.detect.tracking.VideoPeople`)."""

    keypoints: Keypoints2D
    world: Motion3D
    missing_frames: list[int] = field(default_factory=list)
    size: tuple[int, int] = (0, 0)
    person: int | None = None
    people: object | None = None
    hands: np.ndarray | None = None       # (T, 42, 3) px: left then right hand (detected with hands), else None
    hand_world: np.ndarray | None = None  # (T, 2, 21, 3) m: their metric points, camera axes (x right, y down)
    hand_fit: bool = False  # hand_world from a hand model fitted to 2D keypoints (mocap.lift.hands), not the detector's


def person_detection(people, person: int | None = None) -> Detection:
    """One person of a :class:`~mocap.detect.tracking.VideoPeople` (``person`` ID, default the most present)
    as a :class:`Detection`; an error naming the video when nobody was followed."""
    if not people.ids:
        raise MocapError("no person detected in the video" + (
            f" ({len(people.dropped)} short tracks, each seen in fewer frames than 0.25 s, dropped: ghosts or "
            "someone seen for a few frames)" if people.dropped else ""), people.source)
    pid = people.most_present() if person is None else int(person)
    k = people.index(pid)
    kp = people.keypoints[:, k]
    missing = [int(i) for i in people.frames[~people.present()[:, k]]]
    sk = MEDIAPIPE_33
    kp2d = Keypoints2D(kp[None], sk, people.fps, [Path(people.source).stem], people.frames, people.source)
    world = Motion3D(people.world[:, k], sk, people.fps, confidence=np.clip(kp[..., 2], 0, 1), up="y")
    hands = people.hands is not None
    return Detection(kp2d, world, missing, people.size, pid, people, hands=people.hands[:, k] if hands else None,
                     hand_world=people.hand_world[:, k] if hands else None)


def detect_video(path: str | Path, detector: Detector | None = None, stride: int = 1, resize: float | None = None,
                 *, start: float = 0.0, end: float | None = None, progress=None, person: int | None = None) -> Detection:
    """One person on every ``stride``-th frame of a video: by default the multi-person tracker's ``person``
    (ID; the most present when None), else ``detector`` run on each frame.

    Pixel coordinates refer to the original resolution even with ``resize``. ``progress(done,
    total)`` is called per frame. Frames without the person are kept (NaN, confidence 0) and listed.
    """
    if detector is None:
        from .tracking import track_video

        return person_detection(track_video(path, stride=stride, resize=resize, start=start, end=end,
                                            progress=progress), person)
    _, info = open_video(path)
    sk = detector.skeleton
    kps, worlds, idx, missing = [], [], [], []
    total = max(1, (min(info.n_frames, int(round(end * info.fps)) if end else info.n_frames)
                    - int(round(start * info.fps))) // stride)
    with native_quiet():  # MediaPipe's graph threads log to stderr while frames are processed
        for k, (i, img) in enumerate(frames(path, stride, start, end, resize=resize)):
            scale = info.width / img.shape[1]
            kp, world = detector(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
            if kp is None:
                kp = np.full((len(sk), 3), np.nan)
                kp[:, 2] = 0
                missing.append(i)
            else:
                kp = kp.copy()
                kp[:, :2] *= scale
            kps.append(kp)
            worlds.append(np.full((len(sk), 3), np.nan) if world is None else world)
            idx.append(i)
            if progress:
                progress(k + 1, total)
    if not idx:
        raise MocapError("no frame could be decoded in the requested range", path)
    fps = info.fps / stride
    kp2d = Keypoints2D(np.array(kps)[None], sk, fps, [Path(path).stem], np.array(idx), str(path))
    world = Motion3D(np.array(worlds), sk, fps, confidence=np.array(kps)[..., 2].clip(0, 1), up="y")
    return Detection(kp2d, world, missing, (info.width, info.height))
