"""Video jobs: one video -> BVH, several calibrated videos -> 3D (used by the CLI and the API)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .bvh import write_bvh
from .detect import Detection, detect_video
from .errors import MocapError
from .keypoints import Keypoints2D
from .refine import refine
from .retarget import Retargeted, plant_feet, retarget


@dataclass
class VideoResult:
    detection: Detection
    animation: Retargeted | None = None
    notes: list[str] = field(default_factory=list)


def video_to_bvh(video: str | Path, output: str | Path, rig: str = "mixamo", preview: str | Path | None = None,
                 units: str = "cm", stride: int = 1, resize: float | None = None, progress=None) -> VideoResult:
    """Detect (MediaPipe) -> 3D (MediaPipe world landmarks, hip-centred) -> refine (constant bones,
    smooth, gaps <= 0.5 s filled) -> retarget to ``rig`` -> BVH (+ preview MP4)."""
    det = detect_video(video, stride=stride, resize=resize, progress=progress)
    res = VideoResult(det)
    T = det.keypoints.n_frames
    found = T - len(det.missing_frames)
    if found == 0:
        res.notes.append("no person detected in any frame: nothing to animate, no BVH written")
        return res
    if det.missing_frames:
        res.notes.append(f"no person in {len(det.missing_frames)} of {T} frames ({100 * len(det.missing_frames) / T:.1f} %)")
    world = det.world
    conf = det.keypoints.confidence[0]
    ref = refine(world.positions, world.skeleton.bone_indices, world.fps, target_weight=np.clip(conf, 0.05, 1.0),
                 sigma_mm=20.0, accel_sigma=20.0, max_gap_s=0.5)
    motion = replace(world, positions=ref.positions,
                     confidence=np.where(np.isfinite(ref.positions).all(-1), np.maximum(conf, 0.5), 0.0))
    # Hip-centred landmarks carry no vertical root motion: keep the lowest foot on the floor instead.
    anim = plant_feet(retarget(motion, rig))
    write_bvh(anim.to_bvh(units), output)
    res.animation = anim
    if preview:
        from .preview import write_preview
        _, P = anim.global_transforms()
        write_preview(video, preview, det.keypoints.data[0], det.keypoints.skeleton, P, anim.to_motion().skeleton,
                      det.keypoints.fps, stride)
    return res


def detect_videos(videos: list[str | Path], progress=None) -> tuple[Keypoints2D, list[Detection]]:
    """Detect each camera's video; frames are matched by index (synchronised cameras)."""
    dets = [detect_video(v, progress=progress) for v in videos]
    n = min(d.keypoints.n_frames for d in dets)
    if any(d.keypoints.n_frames != n for d in dets):
        counts = ", ".join(f"{Path(v).name}: {d.keypoints.n_frames}" for v, d in zip(videos, dets))
        raise MocapError(f"videos have different frame counts ({counts}); trim them to the same frames", videos[0])
    data = np.concatenate([d.keypoints.data for d in dets])
    kp = Keypoints2D(data, dets[0].keypoints.skeleton, dets[0].keypoints.fps, [Path(v).stem for v in videos])
    return kp, dets
