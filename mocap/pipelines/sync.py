"""The sync job (``mocap sync``, batch ``sync``): each camera's time offset to a reference camera, from the people in
view, written as an offsets file ``mocap triangulate --sync FILE`` reads."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MocapError
from .options import SyncOptions


@dataclass
class Synced:
    """The offsets found (:class:`~mocap.triangulate.sync.SyncResult`), the file written and what to know."""

    result: object
    output: Path
    notes: list[str] = field(default_factory=list)


def sync_cameras(calib: str | Path, keypoints=None, videos=None, output: str | Path | None = None,
                 *, options: SyncOptions | None = None, progress=None) -> Synced:
    """Per camera, ``keypoints`` (OpenPose JSON folders, or their parent) or ``videos`` (everyone detected; frame
    rates and dropped frames read from the files) -> offsets to the reference camera -> ``output`` (default
    ``<calibration>_offsets.toml`` beside it). ``progress(video, done, total)`` while detecting."""
    from ..io.calibration import read_calibration
    from ..io.offsets import offsets_path, write_offsets
    from ..triangulate.sync import synchronise

    options = options or SyncOptions()
    rig = read_calibration(calib)
    if bool(keypoints) == bool(videos):
        raise MocapError("give --keypoints (OpenPose JSON folders or keypoint files) or --videos, one per camera")
    if options.reference and options.reference not in rig.names:
        raise MocapError(f"no camera {options.reference!r} in the calibration ({', '.join(rig.names)})", calib)
    ref = rig.names.index(options.reference) if options.reference else 0
    views, fps, notes = _views(rig, calib, keypoints, videos, options=options, progress=progress)
    res = synchronise(views, rig, fps, options.method, reference=ref, max_offset_s=options.max_offset)
    out = Path(output) if output else offsets_path(calib)
    write_offsets(res.to_dict(), out)
    return Synced(res, out, notes)


def _views(rig, calib, keypoints, videos, *, options: SyncOptions, progress):
    """Per camera ``(T_c, P, J, 3)`` detections, frame rates and notes."""
    if keypoints:
        from ..io.keypoints import read_views
        from .multiview import in_calibration_order

        multi = read_views(keypoints, options.skeleton, options.fps, unequal=True)
        rig.require_views(len(multi.data), "cameras of keypoints", calib)
        multi, notes = in_calibration_order(multi, rig)
        return list(multi.data), [multi.fps] * len(rig), notes
    from ..detect.tracking import track_video
    from ..io.video import dropped_frames, frame_times

    rig.require_views(len(videos), "videos", calib)
    views, fps, notes = [], [], []
    for v in videos:
        seen = track_video(v, progress=(lambda d, t, v=v: progress(v, d, t)) if progress else None)
        views.append(seen.keypoints)
        fps.append(seen.fps)
        gaps = dropped_frames(frame_times(v), seen.fps)
        if gaps:
            notes.append(f"{v}: {sum(n for _, n in gaps)} frames missing in {len(gaps)} places by the container's "
                         f"timestamps (first before frame {gaps[0][0]}): offsets hold for the frames before it")
    return views, fps, notes
