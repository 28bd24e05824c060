"""Video jobs: one video -> BVH, several calibrated videos -> 3D (used by the CLI and the API)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..io.bvh import write_bvh
from ..detect.detector import Detection, detect_video
from ..errors import MocapError
from ..core.keypoints import Keypoints2D
from ..core.motion import Motion3D
from ..core.posture import upright
from ..smooth.refine import refine, refined_confidence
from ..retarget.solve import Retargeted, plant_feet, retarget


@dataclass
class VideoResult:
    detection: Detection
    animation: Retargeted | None = None
    notes: list[str] = field(default_factory=list)


def lifted_motion(det: Detection, focal: float | None = None, model=None):
    """3D from the learned lifter: camera-frame joints -> Y-up metres (x, -y, -z), with the pelvis'
    trajectory. ``focal`` px defaults to the larger image side (about a 53 degree field of view);
    ``model`` defaults to the shipped weights (:func:`mocap.lift.model.load_model`)."""
    from ..lift.joints import LIFT_JOINTS, lift_inputs
    from ..lift.model import lift
    from ..core.skeletons import skeleton_from_names

    w, h = det.size
    f = focal or float(max(w, h))
    K = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1.0]])
    kp = lift_inputs(det.keypoints.data[0], det.keypoints.skeleton)
    X = lift(kp, K, det.keypoints.fps, model) * [1, -1, -1]
    X[kp[..., 2].max(-1) == 0] = np.nan  # frames with nobody stay empty
    sk = skeleton_from_names(LIFT_JOINTS, "lift15")
    return Motion3D(X, sk, det.keypoints.fps, confidence=np.clip(kp[..., 2], 0, 1), up="y")


def lift_keypoints(keypoints: str | Path, output: str | Path, image_size: tuple[int, int], focal: float | None = None,
                   skeleton: str | None = None, fps: float | None = None, rig: str = "mixamo", weights=None,
                   live: bool = False) -> tuple[Motion3D, list[str]]:
    """``mocap lift``: one camera's 2D keypoints file (any supported format; several people -> the one
    followed through the view) -> the learned lifter -> ``output`` (any 3D format; BVH retargeted to
    ``rig``). ``live`` uses the causal weights, ``weights`` a weights file of your own. Returns the
    motion and notes."""
    from ..detect.association import follow_person
    from ..io.keypoints import read_keypoints
    from .convert import write_any

    notes = []
    kp = read_keypoints(keypoints, skeleton=skeleton, fps=fps, several=follow_person)
    if kp.n_cameras != 1:
        kp = replace(kp, data=kp.data[:1], camera_names=kp.camera_names[:1])
        notes.append("several cameras in the file: lifting the first")
    model = None
    if live or weights:
        from ..lift.model import CAUSAL_WEIGHTS, load_model
        model = load_model(weights or CAUSAL_WEIGHTS)[0]
    motion = lifted_motion(Detection(kp, None, [], image_size), focal, model)
    write_any(motion, output, rig)
    return motion, notes


def video_to_bvh(video: str | Path, output: str | Path, rig: str = "mixamo", preview: str | Path | None = None,
                 units: str = "cm", stride: int = 1, resize: float | None = None, progress=None,
                 method: str = "lifter", focal: float | None = None) -> VideoResult:
    """Detect (MediaPipe) -> 3D (``method``: "lifter", our learned lifter with the root trajectory, or
    "world", MediaPipe's hip-centred world landmarks) -> refine (constant bones, smooth, gaps <= 0.5 s
    filled) -> retarget to ``rig`` -> BVH (+ preview MP4)."""
    if method not in ("lifter", "world"):
        raise MocapError(f"unknown 3D method {method!r} (lifter or world)")
    model = None
    if method == "lifter":  # before detecting: a missing torch or weights file fails now, not minutes later
        from ..lift.model import load_model
        model = load_model()[0]
    det = detect_video(video, stride=stride, resize=resize, progress=progress)
    res = VideoResult(det)
    T = det.keypoints.n_frames
    found = T - len(det.missing_frames)
    if found == 0:
        res.notes.append("no person detected in any frame: nothing to animate, no BVH written")
        return res
    if det.missing_frames:
        res.notes.append(f"no person in {len(det.missing_frames)} of {T} frames ({100 * len(det.missing_frames) / T:.1f} %)")
    if method == "lifter":
        world = lifted_motion(det, focal, model)
        conf = world.confidence
    else:
        world = det.world
        conf = det.keypoints.confidence[0]
    world, tilt = upright(world)
    if tilt:
        res.notes.append(f"turned {tilt:.1f} deg to stand the person upright (a single camera's pitch looks like a lean)")
    ref = refine(world.positions, world.skeleton.rigid_bone_indices, world.fps, target_weight=np.clip(conf, 0.05, 1.0),
                 sigma_mm=20.0, accel_sigma=20.0, max_gap_s=0.5)
    motion = replace(world, positions=ref.positions,
                     confidence=refined_confidence(ref.positions, conf))
    anim = retarget(motion, rig)
    # MediaPipe's landmarks are hip-centred and the lifter's root height wanders with its depth error
    # (~10 cm on the Pose2Sim demo with one constant floor offset): keep the lowest foot on the floor in
    # every frame (2 Hz smoothed); the lifter's horizontal root trajectory is kept
    plant_feet(anim)
    write_bvh(anim.to_bvh(units), output)
    res.animation = anim
    if preview:
        from ..viz.preview import write_preview
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
