"""The lifter on real footage (``mocap lifter eval --videos ... --calib ...``): every camera's video
detected, each camera lifted alone and compared with the multi-view triangulation."""
from __future__ import annotations

from .detect import detect_videos


def evaluate_real(model, videos: list, calib) -> list[dict]:
    """Pose2Sim demo: detect every camera's video, then :func:`mocap.lift.train.compare_on_footage`."""
    from ..io.calibration import read_calibration
    from ..lift.train import compare_on_footage

    kp, dets = detect_videos(videos)
    return compare_on_footage(model, kp, dets, read_calibration(calib))
