"""Video jobs: one video -> BVH, several calibrated videos -> 3D (used by the CLI and the API)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..io.atomic import check_output
from ..io.outputs import check_output_format, is_animation
from ..detect.detector import Detection
from ..core.camera import CAMERA_TO_YUP, pinhole
from ..core.motion import Motion3D
from ..core.posture import root_track
from ..smooth.refine import Planting, refine, refined_confidence
from ..retarget.export import write_animation
from ..retarget.solve import Retargeted, plant_feet, retarget, stand_on_floor
from .detect import tracking_notes
from .options import LiftOptions, VideoOptions

@dataclass
class VideoResult:
    """What :func:`video_to_bvh` did: the (first) person's detection, animation and :class:`PersonMotion`
    (refined joints, contacts, floor), every file written ``outputs`` as ``(person ID, path)``, and notes."""

    detection: Detection
    animation: Retargeted | None = None
    person: "PersonMotion | None" = None
    notes: list[str] = field(default_factory=list)
    outputs: list[tuple[int, Path]] = field(default_factory=list)


def lifted_motion(det: Detection, focal: float | None = None, model=None):
    """3D from the learned lifter: camera-frame joints -> Y-up metres (x, -y, -z), with the pelvis'
    trajectory. ``focal`` px defaults to the larger image side (about a 53 degree field of view);
    ``model`` defaults to the shipped weights (:func:`mocap.lift.model.load_model`)."""
    from ..lift.joints import LIFT_JOINTS, lift_inputs
    from ..lift.clean import clean_keypoints
    from ..lift.framing import anchor_in_picture
    from ..lift.model import lift
    from ..core.skeletons import skeleton_from_names

    K = pinhole(det.size, focal)
    w, h = det.size
    kp = lift_inputs(det.keypoints.data[0], det.keypoints.skeleton)
    X = np.full(kp.shape, np.nan)
    for a, b in seen_runs(kp[..., 2].max(-1) > 0, int(round(0.5 * det.keypoints.fps))):
        # each stretch the person is seen, lifted on its own: the network never looks at empty frames
        # (and where part of the body is out of the picture, the root from the part that is in it)
        fps = det.keypoints.fps
        X[a:b] = anchor_in_picture(lift(kp[a:b], K, fps, model), clean_keypoints(kp[a:b], fps)[0], K, (w, h), fps=fps)[0]
    X = X * [1, -1, -1]
    X[kp[..., 2].max(-1) == 0] = np.nan  # frames with nobody stay empty
    sk = skeleton_from_names(LIFT_JOINTS, "lift15")
    return Motion3D(X, sk, det.keypoints.fps, confidence=np.clip(kp[..., 2], 0, 1), up="y")


def seen_runs(seen: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """``seen (T,)`` bool -> ``[(start, stop)]`` stretches of seen frames, gaps of up to ``max_gap`` frames
    bridged (the lifter's cleaning fills those)."""
    idx = np.flatnonzero(seen)
    if not len(idx):
        return []
    cut = np.flatnonzero(np.diff(idx) > max_gap + 1)
    starts = np.r_[idx[0], idx[cut + 1]]
    stops = np.r_[idx[cut], idx[-1]] + 1
    return list(zip(starts.tolist(), stops.tolist()))


def lift_keypoints(keypoints: str | Path, output: str | Path, options: LiftOptions | None = None,
                   **kw) -> tuple[Motion3D, list[str]]:
    """``mocap lift``: one camera's 2D keypoints file (any supported format; several people -> the one
    followed through the view) -> the same steps as ``video2bvh`` after detection (:func:`animate_person`: lifter,
    upright, refinement, contacts, floor) -> ``output`` (BVH: the animation retargeted to ``options.rig``; other 3D
    formats: the refined joints, with contact flags in NPZ/CSV). ``options.live`` uses the causal weights,
    ``options.weights`` a weights file of your own (``kw``: :class:`LiftOptions` fields, when ``options`` is not
    given). Returns the motion and notes."""
    from ..associate.follow import follow_person
    from ..io.keypoints import read_keypoints
    from .convert import write_any

    o = options or LiftOptions(**kw)
    check_output_format(check_output(output, keypoints))
    notes = []
    kp = read_keypoints(keypoints, skeleton=o.skeleton, fps=o.fps, several=follow_person)
    if kp.n_cameras != 1:
        kp = replace(kp, data=kp.data[:1], camera_names=kp.camera_names[:1])
        notes.append("several cameras in the file: lifting the first")
    from ..lift.model import CAUSAL_WEIGHTS, load_model, WEIGHTS
    model = load_model(o.weights or (CAUSAL_WEIGHTS if o.live else WEIGHTS))[0]
    missing = np.flatnonzero(kp.data[0, ..., 2].max(-1) <= 0).tolist()
    hands, shapes = fitted_hands(kp, (o.width, o.height), o.focal)
    det = Detection(kp, None, missing, (o.width, o.height), hands=hands, hand_world=shapes, hand_fit=True)
    anim, more, pm = animate_person(det, "lifter", model, o.focal, rig=o.rig, contacts=o.contacts == "auto")
    if is_animation(output):
        write_animation(anim, output)
    else:
        write_any(pm.motion, output, o.rig)
    return pm.motion, notes + more


def video_to_bvh(video: str | Path, output: str | Path, options: VideoOptions | None = None, progress=None,
                 **kw) -> VideoResult:
    """Detect everyone (:func:`mocap.detect.tracking.track_video`) -> for the people ``options.people`` keeps (the
    most present by default; an ID, the N most present or everyone; ``kw``: :class:`VideoOptions` fields when
    ``options`` is not given), each: 3D (``method``: "lifter", our learned lifter with
    the root trajectory, or "world", MediaPipe's hip-centred world landmarks) -> refine (constant bones,
    smooth, gaps <= 0.5 s filled; with ``contacts`` feet planted, the root anchored by them, the floor level:
    :func:`person_motion`, the same steps as ``mocap lift``) -> retarget to ``rig`` -> BVH (``out_p1.bvh``, ... with ``people="all"``)
    (+ a preview MP4 with every person's ID and colour). A person's frames stay on the video's timeline;
    where they are not seen, the root moves in a straight line between where they were last and next seen
    and the pose is held. Files are written only once everyone is done; a video with nobody in it is an
    error (nothing written)."""
    from ..detect.detector import person_detection
    from ..detect.tracking import track_video
    from .multiview import person_path

    o = options or VideoOptions(**kw)
    rig, preview, method, focal, stride = o.rig, o.preview, o.method, o.focal, o.stride
    check_output_format(check_output(output, video), animation=True)
    if preview:
        check_output(preview, video, output)
    model = None
    if method == "lifter":  # before detecting: a missing torch or weights file fails now, not minutes later
        from ..lift.model import load_model
        model = load_model()[0]
    seen = track_video(video, stride=stride, resize=o.resize, progress=progress, hands=o.hands)
    person_detection(seen, o.people.id)  # the error for nobody or an unknown ID (naming the video), before any work
    frames = seen.present().sum(0)
    ids = [seen.ids[k] for k in o.people.pick(seen.ids, frames)]
    first = person_detection(seen, max(ids, key=lambda i: frames[seen.index(i)]))  # the most present kept
    res = VideoResult(first)
    res.notes += tracking_notes(seen)
    done = []
    for pid in ids:
        det = first if pid == first.person else person_detection(seen, pid)
        anim, notes, pm = animate_person(det, method, model, focal, rig=rig, contacts=o.contacts == "auto")
        tag = f"p{pid}: " if len(ids) > 1 else ""
        res.notes += [tag + n for n in notes]
        done.append((pid, Path(output) if o.people.single else person_path(output, pid), anim, pm))
    for pid, path, anim, _ in done:  # every person is ready: now write
        write_animation(anim, path, o.units)
    res.animation, res.person = done[0][2], done[0][3]
    res.outputs = [(pid, path) for pid, path, _, _ in done]
    if preview:
        from ..viz.preview import write_preview
        anim = next(a for p, _, a, _ in done if p == first.person)  # the first person is always among those done
        _, P = anim.global_transforms()
        labelled = [(f"p{pid}", seen.keypoints[:, seen.index(pid)]) for pid in seen.ids]
        write_preview(video, preview, first.keypoints.data[0], sk2d=first.keypoints.skeleton, P3d=P,
                      sk3d=anim.to_motion().skeleton, fps=first.keypoints.fps, stride=stride, people=labelled)
    return res


FLOOR_TILT_DEG = 15.0  # one camera: the floor under the upright lifted feet may lean with the lifter's depth error
ANKLE_HEIGHT_M = 0.07  # where a standing ankle's joint centre is above the floor (Winter: 0.039 x 1.72 m stature)


@dataclass
class PersonMotion:
    """One person's motion from one camera, every step but retargeting done (:func:`person_motion`).

    motion: upright, refined, Y-up metres, the floor levelled at height 0 when contacts are on (standing ankles
    :data:`ANKLE_HEIGHT_M` above it), with ``contacts (T, J)``; feet: the foot joints' names; floor: ``(normal,
    offset)`` found under the refined feet (before levelling) or None; quality: ``contacts`` report (shares, slide
    before/after, floor tilt); notes: what a user should know."""

    motion: Motion3D
    feet: list[str] = field(default_factory=list)
    floor: tuple | None = None
    quality: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def person_motion(det: Detection, method: str = "lifter", model=None, focal: float | None = None,
                  *, contacts: bool = True) -> PersonMotion:
    """One person's detection -> 3D (``method``: "lifter" with its root trajectory, or "world": MediaPipe's
    hip-centred landmarks) -> upright -> refined (constant bones, smooth, gaps <= 0.5 s filled). With ``contacts``:
    feet planted where they stand (:mod:`mocap.smooth.contacts`; one camera: speeds across its line of sight), the
    root's path anchored by the planted feet (:func:`mocap.smooth.anchor.anchor_offsets`: along the camera ray for the
    lifter, along the floor for hip-centred landmarks), refined again with the planted feet held, and the floor
    levelled to height 0. ``mocap lift`` and ``video2bvh`` both come here."""
    from ..core.posture import upright_rotation
    from ..smooth.anchor import anchor_offsets, level_priors, ray_priors

    notes = []
    T = det.keypoints.n_frames
    if det.missing_frames:
        notes.append(f"not seen in {len(det.missing_frames)} of {T} frames ({100 * len(det.missing_frames) / T:.1f} %)")
    if method == "lifter":
        world = lifted_motion(det, focal, model)
        conf, camera = world.confidence, np.zeros(3)
    else:
        world, conf, camera = det.world, det.keypoints.confidence[0], None
    X = world.positions
    R, tilt = upright_rotation(X, world.skeleton, world.up)
    turn = CAMERA_TO_YUP if R is None else R @ CAMERA_TO_YUP  # the camera's axes -> this motion's (for the hands)
    if R is not None:  # about the mean point: the camera centre turns with it
        c = np.nanmean(X.reshape(-1, 3), axis=0)
        X = (X - c) @ R.T + c
        camera = None if camera is None else (camera - c) @ R.T + c
        notes.append(f"turned {tilt:.1f} deg to stand the person upright (a single camera's pitch looks like a lean)")
    feet, upright_X = (world.foot_joints if contacts else None), X
    options = dict(target_weight=np.clip(conf, 0.05, 1.0), sigma_mm=20.0, accel_sigma=20.0, max_gap_s=0.5)
    plant = Planting(tuple(feet), (0.0, 1.0, 0.0), camera=camera, floor_tilt_deg=FLOOR_TILT_DEG) if feet else None
    bones = world.skeleton.rigid_bone_indices
    ref = refine(X, bones, world.fps, **options, plant=plant)
    if plant is None:  # contacts off (or a layout without feet)
        motion = replace(world, positions=ref.positions, confidence=refined_confidence(ref.positions, conf))
        return PersonMotion(with_hand_shapes(motion, det, turn), notes=notes + hand_notes(det))
    if ref.contacts.any():  # the planted feet anchor the root, then everything is refined again from there
        root = root_track(ref.positions, world.fps, smooth_s=0.0)
        priors = ray_priors(root, camera) if camera is not None else level_priors(T, np.array([0.0, 1.0, 0.0]))
        X = X + anchor_offsets(ref.positions[:, feet], ref.contacts, world.fps, priors)[:, None]
        ref = refine(X, bones, world.fps, **options, plant=replace(plant, planted=(ref.contacts, ref.floor)))  # found once
    from .multiview import contact_report, joint_contacts

    report = contact_report(upright_X, ref.positions, feet, ref.contacts, floor=ref.floor, names=world.names, up=1)
    P, level = level_floor(ref.positions, ref.floor, ref.positions[:, feet], ref.contacts)
    motion = replace(world, positions=P, confidence=refined_confidence(P, conf),
                     contacts=joint_contacts(ref.contacts, feet, world.positions.shape[1]))
    return PersonMotion(with_hand_shapes(motion, det, level @ turn), [world.names[j] for j in feet], ref.floor,
                        {"contacts": report}, notes + [report["note"]] + hand_notes(det))


def with_hand_shapes(motion: Motion3D, det: Detection, turn: np.ndarray) -> Motion3D:
    """``motion`` with both hands' 21 points after its joints (its skeleton's ``_hands`` layout) when ``det`` has
    hands: the hand model's own 3D points (``det.hand_world``, camera axes) turned by ``turn (3, 3)`` into the
    motion's axes and put on the motion's wrists; NaN where a hand was not found. Else ``motion`` as it is."""
    from ..core.skeletons import with_hands

    if det.hand_world is None:
        return motion
    shapes = smooth_hand_shapes((det.hand_world - det.hand_world[:, :, :1]) @ turn.T, motion.fps)
    pts = [motion.positions[:, motion.skeleton.index(f"{side}_wrist"), None] + shapes[:, k]
           for k, side in enumerate(("left", "right"))]
    sk = with_hands(motion.skeleton, f"{motion.skeleton.name}_hands")
    contacts = None if motion.contacts is None else np.concatenate(
        [motion.contacts, np.zeros((motion.n_frames, 42), bool)], axis=1)
    return replace(motion, positions=np.concatenate([motion.positions] + pts, axis=1), skeleton=sk,
                   confidence=np.concatenate([motion.confidence, det.hands[..., 2]], axis=1),
                   joint_names=list(sk.names), contacts=contacts)


HAND_CUTOFF_HZ = 6.0  # fingers open and close at a few Hz; the hand model's depth guess jitters above that


def smooth_hand_shapes(shapes: np.ndarray, fps: float) -> np.ndarray:
    """``(T, 2, 21, 3)`` hand shapes (metres, relative to their wrists; NaN where not shaped) through a zero-phase
    low-pass at :data:`HAND_CUTOFF_HZ` (no lag; the frames without a shape stay empty)."""
    from ..smooth.filters import butterworth

    cutoff = min(HAND_CUTOFF_HZ, 0.4 * fps)
    out = shapes.copy()
    for k in range(shapes.shape[1]):
        if np.isfinite(shapes[:, k]).all(axis=(1, 2)).sum() > 15:
            out[:, k] = butterworth(shapes[:, k].reshape(len(shapes), -1), fps, cutoff, order=2).reshape(shapes[:, k].shape)
    return out


def hand_notes(det: Detection) -> list[str]:
    """Where the fingers of a one-camera motion come from, and how often each hand was found."""
    if det.hand_world is None:
        return []
    return [hand_note(np.isfinite(det.hand_world[..., 0, 0]).mean(0) * 100, fitted=det.hand_fit)]


def hand_note(found_pct, *, fitted: bool = False, frames: str = "frames") -> str:
    """The note of a one-camera motion's fingers: where they come from and ``found_pct (2,)`` the share of the
    ``frames`` each hand (left, right) was shaped in."""
    source = ("a hand model fitted to the file's 2D hand points (mocap.lift.hands, fingers within a hand's range)"
              if fitted else "the hand landmark model's own 3D points")
    return (f"fingers from {source} on the lifted wrists (one camera): left hand shaped in {found_pct[0]:.0f} %, right "
            f"in {found_pct[1]:.0f} % of the {frames} (held in the others)")


def fitted_hands(kp, size: tuple[int, int], focal: float | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """A keypoint file's hands, when its layout has both: ``(T, 42, 3)`` px (left then right) and ``(T, 2, 21, 3)``
    the shapes of a hand model fitted to them (:func:`mocap.lift.hands.fit_hands`, camera axes, metres); else None."""
    from ..core.skeletons import hand_joints
    from ..lift.hands import fit_hands

    names = list(kp.skeleton.joints)
    wanted = hand_joints("left") + hand_joints("right")
    if not set(wanted) <= set(names):
        return None, None
    hands = kp.data[0][:, [names.index(n) for n in wanted]]
    K = pinhole(size, focal)
    return hands, np.stack([fit_hands(hands[:, 21 * k:21 * (k + 1)], K, side)[0]
                            for k, side in enumerate(("left", "right"))], axis=1)


def level_floor(X: np.ndarray, floor, feet: np.ndarray, contacts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``X (T, J, 3)`` Y-up turned so the ``floor`` (normal, offset) is level and moved so it is at height 0: the
    planted ``feet (T, F, 3)`` (``contacts (T, F)``) stand at :data:`ANKLE_HEIGHT_M` above it on the median. Returns
    the positions and the turn ``(3, 3)``."""
    from ..core.rotations import swing
    from ..smooth.contacts import heights

    R = swing(np.asarray(floor[0], float), np.array([0.0, 1.0, 0.0]))
    h = heights(feet, floor)[contacts & np.isfinite(feet).all(-1)]
    lift = ANKLE_HEIGHT_M - float(np.median(h)) if h.size else 0.0
    return X @ R.T + [0.0, lift - floor[1], 0.0], R  # R turns the normal to y: the floor to y = offset


def animate_person(det: Detection, method: str, model, focal, *, rig: str, contacts: bool = True
                   ) -> tuple[Retargeted, list[str], PersonMotion]:
    """:func:`person_motion` -> retargeted to ``rig``, standing on the floor (with contacts: the planted feet on
    it, lifted only where a foot would go through it; without: the lowest foot on it in every frame, 2 Hz
    smoothed), the root carried straight across the frames where the person is not seen."""
    pm = person_motion(det, method, model, focal, contacts=contacts)
    anim = retarget(pm.motion, rig)
    if contacts:
        stand_on_floor(anim, pm.motion.contacts.any(1))
    else:
        plant_feet(anim)
    bridge_root(anim, np.isfinite(pm.motion.positions).all(-1).any(-1))
    return anim, pm.notes, pm


def bridge_root(anim: Retargeted, seen: np.ndarray) -> None:
    """Frames where the person is not seen (``seen (T,)`` False): the root ``(T, 3)`` in a straight line
    between the frames around them (held before the first and after the last), in place; a person who
    leaves and comes back elsewhere does not teleport."""
    t = np.arange(len(seen))
    if seen.all() or not seen.any():
        return
    for k in range(3):
        anim.root[:, k] = np.interp(t, t[seen], anim.root[seen, k])
