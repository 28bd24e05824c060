"""The calibration jobs (``mocap calibrate intrinsics|extrinsics``): board views detected per camera, each camera's
intrinsics, or every camera's pose from board views or from a person; the calibration written (and a report
picture)."""
from __future__ import annotations

from pathlib import Path

from ..errors import MocapError
from .options import CalibrationOptions


def camera_name(src: str | Path) -> str:
    """A camera's name from its image folder or video (``int_cam01_img`` -> ``cam01``)."""
    stem = Path(src).stem if Path(src).is_file() else Path(src).name
    for junk in ("int_", "ext_", "_img", "_images"):
        stem = stem.replace(junk, "")
    return stem


def board_views(board, sources, every: float, names=None, *, progress=None) -> list:
    """The board found in each camera's images or video (``sources``, one per camera; ``names`` or from the
    folders). ``progress(name, total)`` (total: images in a folder, None for a video) returns a callable advanced
    once per image."""
    from ..calib.views import detect, list_images

    out = []
    for i, src in enumerate(sources):
        name = names[i] if names else camera_name(src)
        n = len(list_images(src)) if Path(src).is_dir() else None  # counted without decoding
        advance = progress(name, n) if progress else None
        out.append(detect(board, [src], name, every, progress=advance))
    return out


def calibrate_intrinsics(board, sources, output, options: CalibrationOptions | None = None, *, names=None,
                         report=None, progress=None) -> list:
    """Each camera's intrinsics from its board views -> ``output`` (every camera, identity poses) and, with
    ``report``, a picture. Returns the per-camera results (nothing is written when one camera fails)."""
    from ..calib import report as reports
    from ..calib.intrinsics import calibrate_intrinsics as solve
    from ..core.camera import CameraRig
    from ..io.calibration import write_calibration

    options = options or CalibrationOptions()
    if not sources:
        raise MocapError("give --images: one folder of board photos (or a video) per camera")
    views = board_views(board, sources, options.every, names, progress=progress)
    results = [solve(board, d, fisheye=options.fisheye) for d in views]  # raises before writing
    write_calibration(CameraRig([r.camera for r in results], "intrinsics"), output)
    if report:
        reports.plot_intrinsics(results, report)
    return results


def calibrate_extrinsics(intrinsics, output, options: CalibrationOptions | None = None, *, board=None,
                         images=None, keypoints=None, report=None, progress=None, solving=None):
    """Every camera's pose, the intrinsics read from ``intrinsics``: from synchronised board ``images`` (one folder or
    video per camera) or from a person seen in ``keypoints`` (OpenPose JSON folders, metric scale from
    ``options.height``) -> ``output`` and, with ``report``, a picture. ``solving(what)`` is a context manager shown
    around the bundle adjustment. Returns the :class:`~mocap.calib.extrinsics` result."""
    from contextlib import nullcontext

    from ..calib import report as reports
    from ..io.calibration import read_calibration, write_calibration

    options = options or CalibrationOptions()
    solving = solving or (lambda what: nullcontext())
    intr = read_calibration(intrinsics)
    if keypoints:
        from ..associate.follow import most_prominent
        from ..calib.people import people_extrinsics
        from ..core.keypoints import Keypoints2D
        from ..io.keypoints import keypoint_folders, read_openpose_folders

        mp = read_openpose_folders(keypoint_folders(keypoints), options.skeleton, 30.0)
        kp = Keypoints2D(most_prominent(mp.data), mp.skeleton, mp.fps, mp.camera_names, mp.frames)
        with solving("bundle adjustment of cameras and the person's joints"):
            res = people_extrinsics(kp, intr, height_m=options.height)
    elif images:
        from ..calib.extrinsics import board_extrinsics

        views = board_views(board, images, options.every, intr.names, progress=progress)
        with solving("bundle adjustment of cameras and board poses"):
            res = board_extrinsics(board, intr, views, origin_frame=options.origin_frame)
    else:
        raise MocapError("give --images (one folder/video of board views per camera) or --keypoints (a person)")
    write_calibration(res.rig, output)
    if report:
        reports.plot_extrinsics(res, report)
    return res
