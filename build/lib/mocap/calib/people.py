"""Extrinsics from people (no board): a person's 2D keypoints seen by synchronised cameras.

1. each camera against the reference: essential matrix (RANSAC) on the undistorted keypoints both
   saw confidently -> relative rotation and translation direction (``cv2.recoverPose``);
2. the pairwise baselines brought to one scale through the points they triangulate in common;
3. bundle adjustment over all camera poses and every 3D joint of every frame (robust loss,
   confidence-weighted), the reference camera fixed and one baseline holding the scale;
4. metric scale from the person's stated height (leg length hip->ankle = 0.491 x height, Winter's
   anthropometric proportions), world frame Z-up: the person's median up direction is +Z, the
   floor (lowest ankle level) is z = 0 under their mean position, +X points away from the
   reference camera.

Intrinsics are given (from boards or a file) and kept.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from ..core.camera import CameraRig
from ..errors import MocapError
from ..core.keypoints import Keypoints2D
from ..core.posture import body_up
from .bundle import Observations, bundle_adjust, camera_centers
from .extrinsics import ExtrinsicsResult, per_camera_errors, rig_from_poses

LEG_TO_HEIGHT = 0.491  # (hip - knee) + (knee - ankle) as a fraction of stature (Winter 2009)


def _triangulate_pair(xa, xb, pose_b):
    """Points ``(N, 3)`` in camera a's frame from normalised coordinates in a and b."""
    Pa = np.hstack([np.eye(3), np.zeros((3, 1))])
    Pb = np.hstack([Rotation.from_rotvec(pose_b[:3]).as_matrix(), pose_b[3:, None]])
    X = cv2.triangulatePoints(Pa, Pb, xa.T.astype(float), xb.T.astype(float))
    return (X[:3] / X[3]).T


def relative_poses(xy: np.ndarray, ok: np.ndarray, reference: int, names, *, thresh: float) -> np.ndarray:
    """``(C, 6)`` world(=reference camera)->camera poses, one common scale (reference->first baseline = 1)."""
    C = len(xy)
    poses = np.zeros((C, 6))
    pts_ref = {}
    for c in range(C):
        if c == reference:
            continue
        m = ok[reference] & ok[c]
        if m.sum() < 30:
            raise MocapError(f"camera {names[c]} shares only {int(m.sum())} confident keypoints with "
                             f"{names[reference]}: the person must be seen by both at the same time")
        a, b = xy[reference][m], xy[c][m]
        E, inl = cv2.findEssentialMat(a, b, np.eye(3), cv2.RANSAC, 0.999, thresh)
        if E is None or E.shape != (3, 3):
            raise MocapError(f"camera {names[c]}: no consistent relative pose with {names[reference]} "
                             "(keypoints do not agree: different people, or unsynchronised videos?)")
        _, R, t, inl2 = cv2.recoverPose(E, a, b, np.eye(3), mask=inl.copy())
        poses[c] = np.concatenate([Rotation.from_matrix(R).as_rotvec(), t.ravel()])
        good = inl2.ravel() > 0
        idx = np.flatnonzero(m)[good]
        pts_ref[c] = dict(zip(idx, _triangulate_pair(a[good], b[good], poses[c])))
    others = [c for c in range(C) if c != reference]
    first = others[0]
    for c in others[1:]:  # same scale as the first baseline: median ratio of depths of common points
        common = sorted(pts_ref[first].keys() & pts_ref[c].keys())
        if len(common) < 10:
            raise MocapError(f"camera {names[c]}: too few keypoints in common with {names[first]} to fix its scale")
        d1 = np.array([np.linalg.norm(pts_ref[first][i]) for i in common])
        dc = np.array([np.linalg.norm(pts_ref[c][i]) for i in common])
        poses[c, 3:] *= np.median(d1 / dc)
    return poses


def _up_frame(X: np.ndarray, skeleton, ref_center: np.ndarray):
    """Rotation/translation taking the current frame to Z-up world (see the module docstring)."""
    def j(name):
        return X[:, skeleton.index(name)]
    z = body_up(X, skeleton)
    if z is None:
        raise MocapError("no frame with both ankles and shoulders in 3D: cannot tell which way is up")
    mid = np.nanmedian(0.5 * (j("left_ankle") + j("right_ankle")), axis=0)
    x = mid - ref_center
    x -= z * (x @ z)
    x /= np.linalg.norm(x)
    R = np.stack([x, np.cross(z, x), z])  # rows: new axes in old coordinates
    low = np.nanmin(np.stack([j("left_ankle"), j("right_ankle")]) @ z, axis=0)
    floor = np.nanmedian(low)
    origin = mid - z * (mid @ z - floor)
    return R, -R @ origin


def people_extrinsics(kp: Keypoints2D, intrinsics: CameraRig, height_m: float = 1.75, reference: int = 0,
                      *, min_confidence: float = 0.5, scale_px: float = 3.0) -> ExtrinsicsResult:
    """Calibrate the cameras of ``intrinsics`` from one person's keypoints ``kp (C, T, J, 3)`` px
    (see the module docstring). ``height_m``: the person's stature, for metric scale."""
    from ..triangulate import triangulate

    C, T, J = kp.data.shape[:3]
    if C != len(intrinsics):
        raise MocapError(f"{C} cameras of keypoints but {len(intrinsics)} cameras of intrinsics")
    if C < 2:
        raise MocapError("extrinsics need at least 2 cameras")
    need = {"left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_shoulder",
            "right_shoulder"}
    if not need <= set(kp.skeleton.joints):
        raise MocapError(f"keypoint layout {kp.skeleton.name} lacks hips/knees/ankles/shoulders (needed for the "
                         "scale and the up direction)")
    xy = intrinsics.undistort(kp.xy).reshape(C, T * J, 2)
    ok = (kp.confidence.reshape(C, T * J) >= min_confidence) & np.isfinite(xy).all(-1)
    thresh = scale_px / float(np.mean(intrinsics.focals))
    cams = relative_poses(xy, ok, reference, intrinsics.names, thresh=thresh)

    tri = triangulate(kp, rig_from_poses(intrinsics, cams, "people"), min_confidence=min_confidence,
                      threshold_px=10 * scale_px)
    X = tri.motion.positions.reshape(T * J, 3)
    have = np.isfinite(X).all(-1)
    c_i, p_i = np.nonzero(ok & have[None])
    obs = Observations(c_i, p_i, xy[c_i, p_i], kp.confidence.reshape(C, T * J)[c_i, p_i])
    res0 = bundle_adjust(cams, np.nan_to_num(X), obs, intrinsics.focals, fixed=reference, loss="soft_l1",
                         scale_px=scale_px, keep_scale=True)
    cams, X = res0.cameras, res0.structure.reshape(T, J, 3)
    X[~have.reshape(T, J)] = np.nan

    sk = kp.skeleton
    leg = [np.linalg.norm(X[:, sk.index(f"{s}_hip")] - X[:, sk.index(f"{s}_knee")], axis=-1)
           + np.linalg.norm(X[:, sk.index(f"{s}_knee")] - X[:, sk.index(f"{s}_ankle")], axis=-1) for s in ("left", "right")]
    leg_len = float(np.nanmedian(np.concatenate(leg)))
    if not np.isfinite(leg_len) or leg_len <= 0:
        raise MocapError("could not measure the person's legs in 3D: no scale")
    s = height_m * LEG_TO_HEIGHT / leg_len
    cams[:, 3:] *= s
    X = X * s
    R, t = _up_frame(X, sk, camera_centers(cams[[reference]])[0])
    Rc = Rotation.from_rotvec(cams[:, :3])
    new = np.concatenate([(Rc * Rotation.from_matrix(R.T)).as_rotvec(), cams[:, 3:] - Rc.apply(R.T @ t)], 1)
    rig = rig_from_poses(intrinsics, new, "people calibration")
    out = ExtrinsicsResult(rig, *per_camera_errors(res0.errors_px, obs.cam, intrinsics.names, 5 * scale_px),
                           {cam.name: int(ok[c].sum()) for c, cam in enumerate(intrinsics)})
    out.notes.append(f"scale from a {height_m:g} m person: leg length {leg_len * s:.3f} m")
    return out
