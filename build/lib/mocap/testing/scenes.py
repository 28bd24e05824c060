"""Synthetic scenes from real motion, shared by the tests and the benchmarks.

- :func:`ring_rig`: C calibrated 1080p cameras on a ring around the origin (Z-up world), with lens
  distortion; :func:`look_at_camera` is one camera's pose.
- :func:`real_motion`: a CMU clip as ``(T, 17, 3)`` metres (Z-up) of :data:`SKELETON`, looped to length.
- :func:`scene`: that motion seen by a 4-camera ring with noise and outlier views, as keypoints.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..core.camera import Camera, CameraRig
from ..core.keypoints import Keypoints2D
from ..core.motion import resample
from ..core.rotations import look_at
from ..core.skeletons import Skeleton
from ..io.motion import load_motion
from ..retarget.solve import source_targets

ROLES = ["head", "neck", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
         "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_toe", "right_toe",
         "head_end"]
BONES = [("neck", "head"), ("head", "head_end"), ("neck", "left_shoulder"), ("neck", "right_shoulder"),
         ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
         ("right_elbow", "right_wrist"), ("left_hip", "right_hip"), ("left_hip", "left_knee"),
         ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
         ("left_ankle", "left_toe"), ("right_ankle", "right_toe"), ("left_shoulder", "left_hip"),
         ("right_shoulder", "right_hip")]
SKELETON = Skeleton("bench17", tuple(ROLES), tuple(ROLES), tuple(BONES))


def look_at_camera(center, target, up=(0, 0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """World->camera ``R (3, 3)``, ``t (3,)`` for a camera at ``center`` looking at ``target`` (OpenCV axes)."""
    center = np.asarray(center, float)
    R = look_at(center, np.asarray(target, float), np.asarray(up, float))
    return R, -R @ center


def ring_rig(n_cams, radius=4.0, height=1.6, f=1400.0, *, dist=(-0.25, 0.08, 0.001, -0.001, 0.0), seed=0) -> CameraRig:
    """``n_cams`` 1920x1080 cameras evenly round a ring (jittered), 1.3-2.4 m high, looking at (0, 0, 1)."""
    rng = np.random.default_rng(seed)
    cams = []
    for i in range(n_cams):
        a = 2 * np.pi * i / n_cams + rng.uniform(-0.2, 0.2)
        c = np.array([radius * np.cos(a), radius * np.sin(a), height + rng.uniform(-0.3, 0.8)])
        R, t = look_at_camera(c, [0, 0, 1.0])
        K = np.array([[f, 0, 960], [0, f, 540], [0, 0, 1.0]])
        cams.append(Camera(f"cam{i + 1}", K, np.array(dist), R, t, (1920, 1080)))
    return CameraRig(cams)


def real_motion(path, frames, fps=60.0, start=0):
    """``(T, 17, 3)`` metres, Z-up, from a CMU clip (looped forwards/backwards), from its frame ``start`` at
    ``fps`` (e.g. past a T-pose the capture begins with)."""
    X = world_motion(path, fps)[start:]
    X = X - np.nanmean(X, axis=(0, 1)) * [1, 1, 0]
    loop = np.concatenate([X, X[::-1]])
    return np.concatenate([loop] * (frames // len(loop) + 1))[:frames]


def scene(X, noise=3.0, outliers=0.10, seed=0):
    rng = np.random.default_rng(seed)
    rig = ring_rig(4)
    uv = rig.project(X) + rng.normal(0, noise, (4,) + X.shape[:2] + (2,))
    conf = rng.uniform(0.5, 1, uv.shape[:-1])
    out = rng.random(conf.shape) < outliers
    uv[out] += rng.uniform(50, 300, (int(out.sum()), 2)) * rng.choice([-1, 1], (int(out.sum()), 2))
    return rig, Keypoints2D(np.concatenate([uv, conf[..., None]], -1), SKELETON, 60.0)


def world_motion(path, fps=60.0):
    """``(T, 17, 3)`` metres, Z-up, from a clip as captured (not centred: clips recorded together, like
    the CMU salsa couple, keep their relative places)."""
    t = source_targets(resample(load_motion(path), fps))
    if "head_end" not in t:  # rigs without a head-top joint: continue the neck-head line
        t["head_end"] = t["head"] + 0.6 * (t["head"] - t["neck"])
    return np.stack([t[r] for r in ROLES], 1) @ np.array([[0, 0, 1.0], [1, 0, 0], [0, 1, 0]]).T


def yaw(X, degrees, offset=(0.0, 0.0)):
    """``(..., 3)`` turned about the vertical by ``degrees`` and shifted by ``offset`` (x, y metres)."""
    a = np.radians(degrees)
    R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])
    return X @ R.T + np.array([offset[0], offset[1], 0.0])


def detections(rig, X, noise=2.0, outliers=0.10, *, missing=0.05, occlusion=0.5, false_views=0.10, seed=0,
               with_outliers=False):
    """What a real multi-person detector gives for people ``X (K, T, J, 3)`` (NaN where absent) in ``rig``.

    Per view: Gaussian noise (``noise`` px); a share ``outliers`` of joints put anywhere in the image at
    normal confidence; ``missing`` joints dropped; joints outside the image dropped (people partly out of
    view); joints of a farther person inside a nearer one's box dropped with probability ``occlusion``;
    detections with fewer than 3 joints left out; in a share ``false_views`` of views, one false
    person-shaped detection (a body that is not there, different in each view). Slots are shuffled.
    Returns ``data (C, T, K+1, J, 3)`` and ``labels (C, T, K+1)``: the person in each slot, -1 false, -2 empty;
    with ``with_outliers`` also ``(C, T, K+1, J)`` bool, the kept joints that were put anywhere (what an oracle
    would leave out).
    """
    rng = np.random.default_rng(seed)
    C, (K, T, J, _) = len(rig), X.shape
    uv = rig.project(X.reshape(-1, 3)).reshape(C, K, T, J, 2) + rng.normal(0, noise, (C, K, T, J, 2))
    depth = np.stack([(X.reshape(-1, 3) @ c.R.T + c.t)[:, 2] for c in rig]).reshape(C, K, T, J)
    size = np.array([c.size for c in rig], float)[:, None, None, None]  # (C, 1, 1, 1, 2)
    conf = rng.uniform(0.6, 1.0, (C, K, T, J))
    out = rng.random(conf.shape) < outliers
    uv[out] = rng.uniform(0, 1, (int(out.sum()), 2)) * np.broadcast_to(size, uv.shape)[out]
    inside = ((uv >= 0) & (uv < size)).all(-1) & np.isfinite(uv).all(-1) & (depth > 0)
    with warnings.catch_warnings():  # absent people: all-NaN boxes and depths
        warnings.simplefilter("ignore", RuntimeWarning)
        box = np.where(inside[..., None], uv, np.nan)
        lo, hi, d = np.nanmin(box, 3), np.nanmax(box, 3), np.nanmedian(depth, -1)  # (C, K, T, 2), (C, K, T)
    in_box = ((uv[:, :, None] > lo[:, None, :, :, None]) & (uv[:, :, None] < hi[:, None, :, :, None])).all(-1)
    behind = (d[:, :, None] > d[:, None, :]) & ~np.eye(K, dtype=bool)[None, :, :, None]  # (C, K, K', T)
    hidden = (in_box & behind[..., None]).any(2) & (rng.random(conf.shape) < occlusion)
    keep = inside & ~hidden & (rng.random(conf.shape) >= missing)
    keep &= keep.sum(-1, keepdims=True) >= 3
    data = np.concatenate([np.where(keep[..., None], uv, np.nan), np.where(keep, conf, 0.0)[..., None]], -1)
    labels = np.where(keep.any(-1), np.arange(K)[None, :, None], -2)  # (C, K, T)
    # one false detection: a real body's shape moved 1-3 m in this view only
    other = rng.integers(0, K, (C, T))
    shift = rng.uniform(1, 3, (C, T, 1)) * rng.choice([-1, 1], (C, T, 2))
    fake = X[other, np.arange(T)[None]] + np.concatenate([shift, np.zeros((C, T, 1))], -1)[:, :, None]
    fuv = np.stack([rig[c].project(fake[c].reshape(-1, 3)).reshape(T, J, 2) for c in range(C)]) + rng.normal(0, noise, (C, T, J, 2))
    fok = ((fuv >= 0) & (fuv < size[:, 0])).all(-1) & (rng.random((C, T)) < false_views)[..., None]
    fok &= fok.sum(-1, keepdims=True) >= 3
    fdata = np.concatenate([np.where(fok[..., None], fuv, np.nan), np.where(fok, rng.uniform(0.6, 1, (C, T, J)), 0)[..., None]], -1)
    data = np.concatenate([data.transpose(0, 2, 1, 3, 4), fdata[:, :, None]], 2)  # (C, T, K+1, J, 3)
    labels = np.concatenate([labels.transpose(0, 2, 1), np.where(fok.any(-1), -1, -2)[..., None]], 2)
    perm = np.argsort(rng.random((C, T, K + 1)), -1)
    data, labels = np.take_along_axis(data, perm[..., None, None], 2), np.take_along_axis(labels, perm, 2)
    if not with_outliers:
        return data, labels
    wrong = np.concatenate([(out & keep).transpose(0, 2, 1, 3), np.zeros((C, T, 1, J), bool)], 2)
    return data, labels, np.take_along_axis(wrong, perm[..., None], 2)


def crowd(frames=300, fps=60.0, walkers=3, root=None):
    """Truth ``(K, T, 17, 3)`` metres, Z-up, NaN where absent: the CMU salsa couple 60_01/61_01 (close
    contact) dancing at the centre, and ``walkers`` CMU walks (subjects 2 and 7) crossing the scene at
    different angles and times, entering and leaving; the first walker also vanishes for 1 s mid-walk
    (behind something, from every view) and must come back under its own identity."""
    from pathlib import Path

    root = Path(root) if root else Path(__file__).resolve().parents[2] / "tests" / "data" / "mocap"
    couple = [world_motion(root / "cmu_salsa" / f"{n}_01_scaled.bvh", fps)[:frames] for n in (60, 61)]
    centre = np.nanmean(np.concatenate(couple)[:, 0], 0) * [1, 1, 0]
    people = [c - centre for c in couple]
    clips = [world_motion(root / "cmu_iclone" / f"00{n}" / f"00{n}_01.bvh", fps) for n in (2, 7)]
    plan = [(0, 20.0, 0.6), (60, 110.0, -0.5), (130, -50.0, 0.9), (200, 160.0, -1.0)]
    for i, (start, angle, side) in enumerate(plan[:walkers]):
        W = clips[i % 2]
        W = W - np.nanmean(W[:, 0], 0) * [1, 1, 0] + [0, side, 0]
        track = np.full((frames,) + W.shape[1:], np.nan)
        n = min(len(W), frames - start)
        track[start:start + n] = yaw(W[:n], angle)
        if i == 0:
            track[start + 40:start + 100] = np.nan
        people.append(track)
    return np.stack(people)


def association_score(assignment, labels) -> dict:
    """How well tracks ``assignment (K', C, T)`` (slots, -1 none) follow the people of ``labels (C, T, P)``.

    A person-frame (a person with detections in >= 2 views) is *correct* when one track holds >= 2 of its
    detections and nothing of anyone else's in that frame. ``switches``: changes of the track holding a person
    between the frames it is held (a swap or a new ID both count). ``owner (K, T)``: that track, -1 none.
    """
    K = int(labels.max()) + 1
    Kt, C, T = assignment.shape
    held = np.where(assignment >= 0, np.take_along_axis(labels[None], np.maximum(assignment, 0)[..., None], 3)[..., 0], -3)
    cnt = (held[None] == np.arange(K)[:, None, None, None]).sum(2)  # (K, K', T)
    owner = np.where(cnt.max(1) > 0, cnt.argmax(1), -1)  # (K, T)
    present = (labels == np.arange(K)[:, None, None, None]).sum(1).sum(-1) >= 2  # (K, T)
    own = np.take_along_axis(held.transpose(1, 0, 2)[None].repeat(K, 0), np.maximum(owner, 0)[:, None, None, :], 2)[:, :, 0]
    pure = (own == np.arange(K)[:, None, None]) | (own == -3)  # (K, C, T)
    good = present & (owner >= 0) & (cnt.max(1) >= 2) & pure.all(1)
    switches = sum(int((np.diff(o[o >= 0]) != 0).sum()) for o in owner)
    return {"correct": float(good[present].mean()), "person_frames": int(present.sum()), "switches": switches,
            "owner": owner}


def as_coco(X: np.ndarray) -> np.ndarray:
    """``(..., 17, 3)`` of :data:`SKELETON` -> the COCO-17 layout (face points from the head: nose at the
    head joint, ears halfway to the head top, eyes at the head top), for writing detector-style files."""
    r = {n: X[..., i, :] for i, n in enumerate(ROLES)}
    ear = 0.5 * (r["head"] + r["head_end"])
    cols = [r["head"], r["head_end"], r["head_end"], ear, ear] + [r[f"{s}_{j}"] for j in ("shoulder", "elbow", "wrist",
                                                                                      "hip", "knee", "ankle")
                                                                  for s in ("left", "right")]
    return np.stack(cols, -2)


def unsynchronised(rig, X, offsets_s, fps, *, scene_fps: float = 60.0, seed: int = 0, **detector):
    """What unsynchronised cameras give for people ``X (K, T, J, 3)`` (truth at ``scene_fps``): camera ``c`` films at
    ``fps[c]`` and its frame ``u`` shows the moment ``u / fps[c] - offsets_s[c]`` (the truth interpolated between its
    samples; nobody outside it). Returns one ``(T_c, K + 1, J, 3)`` array per camera, as :func:`detections` makes
    them (``detector``: its options, e.g. ``outliers=0.10``; camera ``c`` drawn with seed ``seed + c``)."""
    from ..core.motion import resample_array

    T = X.shape[1]
    views = []
    for c in range(len(rig)):
        u = np.arange(int(T * fps[c] / scene_fps))
        t = (u / fps[c] - offsets_s[c]) * scene_fps  # the moment camera c's frame u shows, in truth frames
        Xs = np.stack([resample_array(x, np.arange(T), np.clip(t, 0, T - 1)) for x in X])
        Xs[:, (t < 0) | (t > T - 1)] = np.nan
        views.append(detections(rig, Xs, seed=seed + c, **detector)[0][c])
    return views


def tail_scene(X, n_cams=4, seed=0, noise=2.0, *, outliers=0.10, missing=0.05, false_views=0.20, fps=60.0,
               epipolar=0.0, leaks=0.0):
    """One person ``X (T, J, 3)`` metres as a multi-person detector sees them in a :func:`ring_rig` of ``n_cams``
    (:func:`detections`: noise, a share ``outliers`` of joints anywhere in the image, ``missing`` dropped, a false
    person in ``false_views`` of the views), with two harder kinds of error on the person's own detections:

    - ``epipolar``: a share of points seen by two views only, one of them wrong *on the epipolar line* of the
      other (the projection of a point 0.3-1.5 m nearer or farther along the first camera's ray): the two views
      agree exactly, so no reprojection error can tell;
    - ``leaks``: a share of single joints taken from another body 1-3 m away in that view (a false person's
      joint leaking into the person's detection).

    Returns the rig, the detections ``(C, T, 2, J, 3)`` as a file would hold them, and the *oracle*: the true
    person's keypoints ``(C, T, J, 3)`` with every wrong detection removed."""
    rig = ring_rig(n_cams, seed=seed)
    data, labels, wrong = detections(rig, X[None], noise=noise, outliers=outliers, missing=missing,
                                     false_views=false_views, seed=seed, with_outliers=True)
    slot = np.argmax(labels == 0, axis=-1)  # (C, T): the true person's slot (an empty one where absent)
    mine = np.take_along_axis(data, slot[..., None, None, None], 2)[:, :, 0]
    bad = np.take_along_axis(wrong, slot[..., None, None], 2)[:, :, 0] | ~(labels == 0).any(-1)[..., None]
    rng = np.random.default_rng(seed + 7919)
    C, (T, J, _) = n_cams, X.shape
    seen = mine[..., 2] > 0
    if leaks:
        shift = rng.uniform(1, 3, (C, T, 1, 1)) * np.concatenate([rng.choice([-1, 1], (C, T, 1, 2)), np.zeros((C, T, 1, 1))], -1)
        other = np.stack([rig[c].project((X + shift[c]).reshape(-1, 3)).reshape(T, J, 2) for c in range(C)])
        m = seen & (rng.random((C, T, J)) < leaks)
        mine[..., :2] = np.where(m[..., None], other + rng.normal(0, noise, other.shape), mine[..., :2])
        bad |= m
    if epipolar:
        _epipolar_pairs(rig, X, mine, bad=bad, share=epipolar, noise=noise, rng=rng)
    np.put_along_axis(data, slot[..., None, None, None], mine[:, :, None], 2)
    oracle = np.where(bad[..., None], np.array([np.nan, np.nan, 0.0]), mine)
    return rig, data, Keypoints2D(oracle, SKELETON, fps)


def _epipolar_pairs(rig, X, kp, bad, *, share, noise, rng):
    """In place on ``kp (C, T, J, 3)``/``bad (C, T, J)``: a ``share`` of points keep two views, a good one and one
    on its epipolar line (see :func:`tail_scene`)."""
    C = len(rig)
    good = (kp[..., 2] > 0) & ~bad
    pick = np.flatnonzero((good.sum(0) >= 2).ravel() & (rng.random(good[0].size) < share))
    for n in pick:  # a few hundred points: a loop is clear
        t, j = np.unravel_index(n, good.shape[1:])
        c1 = rng.choice(np.flatnonzero(good[:, t, j]))
        c2 = rng.choice([c for c in range(C) if c != c1])
        centre = rig[c1].center
        d = X[t, j] - centre
        moved = centre + d * (1 + rng.uniform(0.3, 1.5) * rng.choice([-1, 1]) / np.linalg.norm(d))
        uv = rig[c2].project(moved[None])[0] + rng.normal(0, noise, 2)
        others = np.arange(C) != c1
        kp[others, t, j] = [np.nan, np.nan, 0.0]
        kp[c2, t, j] = [uv[0], uv[1], rng.uniform(0.6, 1.0)]
        bad[c2, t, j] = True


def one_camera_scene(path, fps: float, yaw_deg: float = 30.0, seed: int = 0, *, frames: int = 900):
    """A real clip ``path`` (any BVH the retargeter reads) at ``fps`` seen by one camera 5 m away turned
    ``yaw_deg`` (:func:`mocap.lift.train.view_clip`, detector-like 2D: 3 px noise, 2 % outliers, 2 % missing, no
    ears): ``truth (T, 15, 3)`` the lifter's joints in the camera's Y-up frame (metres; camera at the origin looking
    along -Z) and the COCO-17 :class:`~mocap.detect.detector.Detection` (1280 x 720 px, focal 1000 px) the one-camera
    pipeline takes. Legs in other units are scaled to 0.85 m."""
    from ..core.skeletons import get_skeleton
    from ..detect.detector import Detection
    from ..lift.joints import LIFT_BONES, LIFT_JOINTS, bone_lengths, joints_from_motion
    from ..lift.train import DETECTOR_LIKE, view_clip

    J = joints_from_motion(resample(load_motion(path), fps))
    J = J[np.isfinite(J).all(axis=(1, 2))][:frames]
    legs = [LIFT_BONES.index(("left_hip", "left_knee")), LIFT_BONES.index(("left_knee", "left_ankle"))]
    leg = float(np.median(bone_lengths(J)[:, legs].sum(-1)))
    if not 0.6 <= leg <= 1.15:
        J = J * (0.85 / leg)
    Xc, kp, _ = view_clip(J, yaw_deg, np.random.default_rng(seed), **DETECTOR_LIKE)
    coco = get_skeleton("coco17")
    data = np.zeros((len(kp), len(coco), 3))
    data[..., :2] = np.nan
    for j, n in enumerate(LIFT_JOINTS):  # the head as the nose (no ears); pelvis and neck are derived from hips, shoulders
        if n == "head" or n in coco.joints:
            data[:, coco.index("nose" if n == "head" else n)] = kp[:, j]
    det = Detection(Keypoints2D(data[None], coco, float(fps), ["cam"]), None, [], (1280, 720))
    return Xc * [1, -1, -1], det
