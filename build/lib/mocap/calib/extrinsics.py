"""Multi-camera extrinsics from synchronised board views.

1. each camera's view of the board -> board pose in that camera (PnP on undistorted corners);
2. a camera graph (edges = frames both cameras saw) -> a spanning tree from the reference camera,
   grown along the edges with most shared views; each relative pose is the rotation mean / median
   translation over the shared frames -> every camera initialised;
3. bundle adjustment of all camera poses and board poses (robust loss) on every corner;
4. world frame: the reference camera, or the board in a chosen frame (e.g. lying on the floor).

Intrinsics come from :mod:`mocap.calib.intrinsics` (or a calibration file) and are kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from ..core.camera import CameraRig
from ..errors import MocapError
from .board import Board
from .bundle import Observations, bundle_adjust, compose, invert
from .views import Detections


@dataclass
class ExtrinsicsResult:
    """rig: calibrated cameras; errors: camera name -> RMS reprojection px (inliers) after adjustment;
    outliers: camera -> observations beyond 5x the noise scale; views: camera -> board views (or
    confident keypoints) used; notes."""

    rig: CameraRig
    errors: dict[str, float]
    outliers: dict[str, int]
    views: dict[str, int]
    initial_errors: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def rig_from_poses(intrinsics: CameraRig, cams: np.ndarray, source: str) -> CameraRig:
    """The cameras of ``intrinsics`` placed by world->camera poses ``(C, 6)`` (rotation vector, t m)."""
    return CameraRig([replace(c, R=Rotation.from_rotvec(p[:3]).as_matrix(), t=p[3:].copy())
                      for c, p in zip(intrinsics, cams)], source)


def per_camera_errors(errors_px: np.ndarray, cam: np.ndarray, names: list[str], limit: float):
    """Per camera: RMS of the observation errors below ``limit`` px, and how many are beyond it."""
    errors, outliers = {}, {}
    for c, name in enumerate(names):
        e = errors_px[cam == c]
        inl = e[e < limit]
        errors[name] = float(np.sqrt((inl ** 2).mean())) if len(inl) else float("nan")
        outliers[name] = int((e >= limit).sum())
    return errors, outliers


def pose_from_view(board: Board, xy: np.ndarray, ids: np.ndarray) -> np.ndarray | None:
    """Board->camera pose ``(6,)`` (rotation vector, translation m) from undistorted normalised corners."""
    obj = board.object_points[ids]
    if len(ids) < 4:
        return None
    ok, r, t = cv2.solvePnP(obj, xy.astype(np.float64), np.eye(3), None, flags=cv2.SOLVEPNP_IPPE)
    if not ok:
        return None
    r, t = cv2.solvePnPRefineLM(obj, xy.astype(np.float64), np.eye(3), None, r, t)
    return np.concatenate([r.ravel(), t.ravel()])


def _relative(poses_a: list[np.ndarray], poses_b: list[np.ndarray]) -> np.ndarray:
    """Robust camera a -> camera b transform from board poses seen by both (rotation mean, median t)."""
    rel = np.stack([compose(pb, invert(pa)) for pa, pb in zip(poses_a, poses_b)])
    R = Rotation.from_rotvec(rel[:, :3])
    if len(rel) > 2:  # drop the rotations farthest from the mean (flipped or misdetected boards)
        mean = R.mean()
        ang = (mean.inv() * R).magnitude()
        keep = ang <= max(np.median(ang) * 3, np.radians(2))
        R, rel = R[keep], rel[keep]
    return np.concatenate([R.mean().as_rotvec(), np.median(rel[:, 3:], axis=0)])


def board_extrinsics(board: Board, intrinsics: CameraRig, detections: list[Detections], reference: int = 0,
                     *, origin_frame: int | None = None, scale_px: float = 1.0) -> ExtrinsicsResult:
    """Calibrate every camera of ``intrinsics`` (K, distortion, size kept) from its board
    ``detections`` (same order; ``View.frame`` = synchronised frame index): board poses per view,
    cameras chained from ``reference`` (:func:`_chain_cameras`), bundle adjustment of cameras and
    boards, views stuck far off dropped and adjusted again; ``origin_frame`` puts the world on the
    board of that frame."""
    C = len(intrinsics)
    if len(detections) != C:
        raise MocapError(f"{len(detections)} cameras of board images but {C} cameras of intrinsics")
    poses, corners = _board_poses(board, intrinsics, detections)
    cams = _chain_cameras(poses, intrinsics, reference)
    all_frames = sorted(set().union(*[p.keys() for p in poses]))
    fidx = {f: i for i, f in enumerate(all_frames)}
    board_pose = np.zeros((len(all_frames), 6))
    for f in all_frames:  # from the camera that sees most corners of it
        c = max((c for c in range(C) if f in poses[c]), key=lambda c: len(corners[c][f][1]))
        board_pose[fidx[f]] = compose(invert(cams[c]), poses[c][f])
    K = len(board.object_points)
    cam_i, pt, xy = [], [], []
    for c in range(C):
        for f, (x, ids) in corners[c].items():
            cam_i.append(np.full(len(ids), c))
            pt.append(fidx[f] * K + ids)
            xy.append(x)
    obs = Observations(np.concatenate(cam_i), np.concatenate(pt), np.concatenate(xy), np.ones(sum(map(len, pt))))
    res, obs, n_dropped = _adjust_dropping_bad_views(cams, board_pose, obs, focals=intrinsics.focals, board=board,
                                                     reference=reference, scale_px=scale_px, n_frames=len(all_frames))
    cams, board_pose = res.cameras, res.structure
    if origin_frame is not None:
        if origin_frame not in fidx:
            raise MocapError(f"frame {origin_frame} has no board view: cannot put the world origin there")
        cams = compose(cams, np.broadcast_to(board_pose[fidx[origin_frame]], cams.shape))
    rig = rig_from_poses(intrinsics, cams, "board calibration")
    out = ExtrinsicsResult(rig, *per_camera_errors(res.errors_px, obs.cam, intrinsics.names, 5 * scale_px),
                           {cam.name: len(poses[c]) for c, cam in enumerate(intrinsics)})
    if n_dropped:
        out.notes.append(f"{n_dropped} board views with a median error above {3 * scale_px:g} px were left out")
    return out


def _board_poses(board: Board, intrinsics: CameraRig, detections: list[Detections]):
    """Per camera: ``{frame: board pose (6,)}`` from PnP, and ``{frame: (undistorted corners, ids)}``."""
    poses: list[dict[int, np.ndarray]] = []
    corners: list[dict[int, tuple[np.ndarray, np.ndarray]]] = []
    for cam, det in zip(intrinsics, detections):
        pc, cc = {}, {}
        for v in det.views:
            xy = cam.undistort(v.corners)
            p = pose_from_view(board, xy, v.ids)
            if p is not None and p[5] > 0:
                pc[v.frame], cc[v.frame] = p, (xy, v.ids)
        if not pc:
            raise MocapError(f"camera {cam.name} never saw the board ({len(det.skipped)} images without it): "
                             "it cannot be placed")
        poses.append(pc)
        corners.append(cc)
    return poses, corners


def _chain_cameras(poses, intrinsics: CameraRig, reference: int) -> np.ndarray:
    """``(C, 6)`` camera poses: a spanning tree grown from ``reference`` along the camera pairs that
    saw the board together most often, each link the mean relative pose over their shared frames."""
    C = len(poses)
    shared = np.array([[len(poses[a].keys() & poses[b].keys()) if a != b else 0 for b in range(C)] for a in range(C)])
    cam_pose = {reference: np.zeros(6)}
    while len(cam_pose) < C:
        best = max(((shared[a, b], a, b) for a in cam_pose for b in range(C) if b not in cam_pose), default=(0,))
        if best[0] == 0:
            lost = [intrinsics[b].name for b in range(C) if b not in cam_pose]
            raise MocapError(f"camera(s) {', '.join(lost)} never saw the board at the same time as the others: "
                             "show the board to them together with a calibrated camera")
        _, a, b = best
        frames = sorted(poses[a].keys() & poses[b].keys())
        rel = _relative([poses[a][f] for f in frames], [poses[b][f] for f in frames])
        cam_pose[b] = compose(rel, cam_pose[a])
    return np.stack([cam_pose[c] for c in range(C)])


def _adjust_dropping_bad_views(cams, board_pose, obs: Observations, focals, *, board: Board, reference: int,
                               scale_px: float, n_frames: int):
    """Bundle adjustment; then a view whose median corner error stays high was stuck in a wrong pose
    (a planar board's mirror ambiguity at grazing angles) or misdetected: drop it and adjust again.
    Returns the result, the observations kept and how many views were dropped."""
    K = len(board.object_points)
    res = bundle_adjust(cams, board_pose, obs, focals, board_points=board.object_points, fixed=reference,
                        scale_px=scale_px)
    view_key = obs.cam * n_frames + obs.point // K
    keys, inv = np.unique(view_key, return_inverse=True)
    med = np.array([np.median(res.errors_px[inv == i]) for i in range(len(keys))])
    bad_views = med > 3 * scale_px
    n_dropped = int(bad_views.sum())
    if n_dropped:
        keep = ~bad_views[inv]
        obs = Observations(obs.cam[keep], obs.point[keep], obs.xy[keep], obs.weight[keep])
        res = bundle_adjust(res.cameras, res.structure, obs, focals, board_points=board.object_points,
                            fixed=reference, scale_px=scale_px)
    return res, obs, n_dropped
