"""Real data: the Pose2Sim demo (4 cameras, OpenPose BODY_25B) against Pose2Sim's own reference TRC."""
import numpy as np
import pytest

from conftest import CALIB, TRIAL, need
from mocap.associate.tracks import select_person
from mocap.io.calibration import read_calibration
from mocap.io.keypoints import read_openpose_folders
from mocap.io.motion import read_trc
from mocap.triangulate import triangulate, triangulate_pose2sim


@pytest.fixture(scope="module")
def data():
    need(TRIAL)
    rig = read_calibration(CALIB)
    ref = read_trc(TRIAL / "pose-3d" / "S00_P00_T01_BalancingTrial_0-100.trc").to_up("z")
    assoc = read_openpose_folders(sorted((TRIAL / "pose-associated").glob("cam*_json")), fps=60).single()
    raw = read_openpose_folders(sorted((TRIAL / "pose").glob("cam*_json")), fps=60)
    return rig, ref, assoc, raw


def per_marker_median_mm(motion, ref):
    idx = [motion.skeleton.index(n) for n in ref.names]
    d = np.linalg.norm(motion.positions[:, idx] - ref.positions, axis=-1) * 1000
    return np.nanmedian(d, axis=0)


def test_pose2sim_mode_matches_reference(data):
    rig, ref, assoc, _ = data
    assert assoc.skeleton.name == "body_25b" and len(ref.names) == 21
    med = per_marker_median_mm(triangulate_pose2sim(assoc, rig).motion, ref)
    print("pose2sim mode, median mm per marker:", np.round(med, 3))
    assert med.max() <= 2.0


def test_raw_detections_with_spurious_people(data):
    rig, ref, _, raw = data
    assert raw.data.shape[2] >= 2  # spurious people really are there
    kp, report = select_person(raw.data, rig, raw.skeleton, raw.fps, camera_names=raw.camera_names, frames=raw.frames)
    assert report["multi_person_views"] > 100
    med = per_marker_median_mm(triangulate_pose2sim(kp, rig).motion, ref)
    print("raw JSONs, pose2sim mode, median mm:", np.round(med, 2))
    assert med.max() <= 20.0
    robust = per_marker_median_mm(triangulate(kp, rig).motion, ref)
    assert robust.max() <= 20.0


def test_robust_mode_close_to_reference(data):
    rig, ref, assoc, _ = data
    res = triangulate(assoc, rig)
    med = per_marker_median_mm(res.motion, ref)
    print("robust mode vs Pose2Sim, median mm:", np.round(med, 2))
    assert med.max() <= 5.0
    assert np.nanmean(res.reprojection_error) < 12.0
    summary = res.camera_summary()
    assert [c["camera"] for c in summary] == ["cam_01", "cam_02", "cam_03", "cam_04"]
    assert all(0 <= c["rejected_pct"] < 50 for c in summary)


def test_single_view_tracking_follows_pose2sims_person(data):
    """Without a calibration (one camera, e.g. for the lifter): each view's track of the raw detections
    (spurious people, order shuffled every frame) picks the person Pose2Sim's own association picked."""
    from mocap.associate.follow import track_person

    _, _, assoc, raw = data
    rng = np.random.default_rng(0)
    order = rng.permuted(np.broadcast_to(np.arange(raw.data.shape[2]), raw.data.shape[:3]), axis=2)
    shuffled = np.take_along_axis(raw.data, order[..., None, None], axis=2)
    out, chosen = track_person(shuffled)
    ref = assoc.data
    has = (ref[..., 2] > 0).any(-1)  # (C, T) Pose2Sim kept someone
    ok = (ref[..., 2] > 0) & (out[..., 2] > 0)
    d = np.where(ok, np.linalg.norm(out[..., :2] - ref[..., :2], axis=-1), 0).sum(-1) / np.maximum(ok.sum(-1), 1)
    same = has & (chosen >= 0) & (d < 1.0)
    print(f"same person as Pose2Sim in {100 * same.sum() / has.sum():.1f} % of {has.sum()} views")
    assert same.sum() / has.sum() >= 0.98
    assert (chosen >= 0).sum() >= has.sum()


def test_single_view_tracking_does_not_jump_to_a_more_confident_passer_by(data):
    """A second real body (the same detections, 600 px aside, time-reversed) that is more confident
    than the tracked person for 40 frames: the track stays put; picking the most prominent would jump."""
    from mocap.associate.follow import most_prominent, track_person

    _, _, assoc, _ = data
    me = assoc.data
    other = me[:, ::-1].copy()
    other[..., 0] += 600.0
    other[:, 30:70, :, 2] = np.minimum(1.0, other[:, 30:70, :, 2] * 1.5)
    other[:, :30, :, 2] *= 0.5
    both = np.stack([other, me], axis=2)  # (C, T, 2, J, 3): the passer-by listed first
    _, chosen = track_person(both)
    has = (me[..., 2] > 0).any(-1)
    print("frames on the passer-by: track", int((chosen[has] == 0).sum()), "most prominent",
          int((np.nan_to_num(most_prominent(both)[..., 0]) > np.nan_to_num(me[..., 0]) + 300).any(-1)[has].sum()))
    assert (chosen[has] == 1).mean() >= 0.99
