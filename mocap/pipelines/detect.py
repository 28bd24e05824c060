"""The detect job (``mocap detect``, batch ``detect``): every person's 2D keypoints from videos, with IDs, written as
NPZ (everyone), CSV (the most present person) or OpenPose JSON folders."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.keypoints import Keypoints2D
from .options import DetectOptions
from ..errors import MocapError
from ..io.atomic import check_output

KEYPOINT_SUFFIXES = (".npz", ".csv", "")


@dataclass
class Detected:
    """What the detect job found in one video: everyone followed, the person a CSV holds, where it was written."""

    seen: object                      # mocap.detect.tracking.VideoPeople
    output: Path | None = None
    notes: list[str] = field(default_factory=list)


def detect_people(video: str | Path, output: str | Path, options: DetectOptions | None = None,
                  progress=None) -> Detected:
    """``mocap detect``: everyone in ``video`` -> ``output`` (.npz: everyone, ``(T, P, J, 3)`` + IDs; .csv: the
    most present person; no suffix: an OpenPose JSON folder, ``person_id`` filled). Nobody followed is one error,
    nothing written."""
    from ..detect.detector import person_detection
    from ..io.keypoints import write_keypoints, write_openpose_people, write_people_npz

    options = options or DetectOptions()
    out = Path(output)
    if out.suffix:
        check_output(out, video)
    if out.suffix.lower() not in KEYPOINT_SUFFIXES:
        raise MocapError("keypoints are written as .npz, .csv or an OpenPose JSON folder (no suffix)", out)
    seen = options.track(video, progress)
    det = person_detection(seen)  # nobody followed: one clear error, nothing written
    sk, stem = seen.skeleton, Path(video).stem
    res = Detected(seen, out, tracking_notes(seen))
    if out.suffix.lower() == ".npz":
        write_people_npz(seen.points, seen.ids, sk, fps=seen.fps, frames=seen.frames, path=out, camera=stem,
                         world=seen.world)
    elif out.suffix.lower() == ".csv":
        k = seen.index(det.person)
        write_keypoints(Keypoints2D(seen.points[None, :, k], sk, seen.fps, [stem], seen.frames, seen.source), out)
        if len(seen.ids) > 1:
            res.notes.append(f"a CSV holds one person: p{det.person} (the most present) written; .npz or a folder "
                             "holds everyone")
    else:
        write_openpose_people(seen.points[None], [stem], seen.frames, out, ids=seen.ids, hands=seen.hands is not None)
    return res


def detect_cameras(videos: list[str | Path], folder: str | Path, options: DetectOptions | None = None,
                   progress=None) -> tuple[list[Path], list]:
    """Everyone in each camera's video -> one OpenPose JSON folder per camera under ``folder`` (``<video
    stem>_json``; the whole set appears at once, replacing an older one). Returns the folders and each view's
    :class:`~mocap.detect.tracking.VideoPeople`; a video with nobody followed is an error naming it."""
    from ..io.keypoints import write_openpose_people

    options = options or DetectOptions()
    videos = [Path(v) for v in videos]
    seen = [options.track(v, progress) for v in videos]
    for v, s in zip(videos, seen):
        if not s.ids:
            raise MocapError("nobody was followed in this video", v)
    final = Path(folder)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    names = [write_openpose_people(s.points[None], [v.stem], s.frames, tmp, ids=s.ids, hands=s.hands is not None)[0].name
             for v, s in zip(videos, seen)]
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return [final / n for n in names], seen


def same_length(videos, counts) -> int:
    """The frame count all cameras share; different counts are an error listing them."""
    n = min(counts)
    if any(c != n for c in counts):
        listed = ", ".join(f"{Path(v).name}: {c}" for v, c in zip(videos, counts))
        raise MocapError(f"videos have different frame counts ({listed}); trim them to the same frames", videos[0])
    return n


def detect_videos(videos: list[str | Path], progress=None) -> tuple[Keypoints2D, list]:
    """The most present person of each camera's video as one ``(C, T, J, 3)`` :class:`Keypoints2D` (frames matched
    by index: synchronised cameras) and each view's :class:`~mocap.detect.detector.Detection`."""
    from ..detect.detector import detect_video

    dets = [detect_video(v, progress=progress) for v in videos]
    same_length(videos, [d.keypoints.n_frames for d in dets])
    data = np.concatenate([d.keypoints.data for d in dets])
    kp = Keypoints2D(data, dets[0].keypoints.skeleton, dets[0].keypoints.fps, [Path(v).stem for v in videos])
    return kp, dets


def detect_videos_people(videos: list[str | Path], progress=None):
    """Everyone in each camera's video as one :class:`~mocap.io.keypoints.MultiPersonKeypoints`
    ``(C, T, P, 33, 3)`` (P: the most people any view followed; frames matched by index, synchronised cameras) for
    the multi-view association (:func:`mocap.pipelines.multiview.triangulate_people`), and each view's
    :class:`~mocap.detect.tracking.VideoPeople`."""
    from ..core.skeletons import MEDIAPIPE_33
    from ..detect.tracking import track_video
    from ..io.keypoints import MultiPersonKeypoints

    seen = [track_video(v, progress=progress) for v in videos]
    n = same_length(videos, [len(s.frames) for s in seen])
    P = max(1, max(len(s.ids) for s in seen))
    data = np.full((len(videos), n, P, 33, 3), np.nan)
    data[..., 2] = 0.0
    for c, s in enumerate(seen):
        data[c, :, :len(s.ids)] = s.keypoints
    multi = MultiPersonKeypoints(data, MEDIAPIPE_33, seen[0].fps, [Path(v).stem for v in videos], seen[0].frames,
                                 [str(v) for v in videos])
    return multi, seen


def tracking_notes(seen) -> list[str]:
    """What a user should know about a :class:`~mocap.detect.tracking.VideoPeople`."""
    notes = []
    counts = seen.present().sum(0)
    if len(seen.ids) > 1:
        notes.append(f"{len(seen.ids)} people followed: " + ", ".join(f"p{i} in {n} frames" for i, n in zip(seen.ids, counts)))
    if seen.dropped:
        notes.append(f"{len(seen.dropped)} short tracks (seen in under 0.25 s of frames: ghosts or someone passing) dropped")
    rep = seen.report
    if rep.reidentified:
        notes.append("came back and kept their ID: " + ", ".join(f"p{i} at frame {f}" for i, f in rep.reidentified))
    if rep.not_recognised:
        notes.append("new IDs given while someone was missing (not recognised as them): "
                     + ", ".join(f"p{i} at frame {f}" for i, f in rep.not_recognised))
    if rep.too_many:
        notes.append(f"more people than the tracker follows at once in {rep.too_many} detections (the first ones kept)")
    if seen.hands is not None:
        shares = seen.found_hands().sum(0) / np.maximum(counts, 1)[:, None] * 100  # (P, 2) % of the frames seen
        notes.append("hands found (share of the frames each person is seen): " + ", ".join(
            f"p{i} left {a:.0f} %, right {b:.0f} %" for i, (a, b) in zip(seen.ids, shares)))
    return notes
