"""File formats: exact round trips, file compatibility, numeric camera order, skeleton converters."""
import json

import numpy as np
import pytest

from conftest import CALIB, P2S, TRIAL, need, ring_rig
from mocap.core.camera import Camera, CameraRig
from mocap.io.calibration import read_calibration, write_calibration
from mocap.io.keypoints import read_keypoints, read_openpose_folders, write_keypoints, write_openpose_folders
from mocap.io.motion import read_motion, read_trc, write_motion
from mocap.core.motion import Motion3D
from mocap.core.skeletons import SKELETONS, convert, get_skeleton


def _points(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.6, (n, 3)) + [0, 0, 1]


def test_qualisys_matches_pose2sim_toml():
    a = read_calibration(need(CALIB))
    b = read_calibration(P2S / "calibration" / "Calib.qca.txt")
    X = _points()
    assert np.nanmax(np.abs(a.project(X) - b.project(X))) < 1e-6
    assert a.names == ["cam_01", "cam_02", "cam_03", "cam_04"]


@pytest.mark.parametrize("first", ["x.toml", "x.qca.txt", "intri.yml"])
def test_calibration_round_trips(tmp_path, first):
    rig = read_calibration(need(CALIB))
    X = _points()
    chain = [first, "y.toml", "y.qca.txt", "yml/intri.yml", "z.toml"]
    cur = rig
    for name in chain:
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        write_calibration(cur, path)
        cur = read_calibration(path)
        assert np.nanmax(np.abs(cur.project(X) - rig.project(X))) < 1e-6, name
        assert cur.names == rig.names
        assert [c.size for c in cur] == [c.size for c in rig]


def test_toml_fisheye_and_8_coefficients(tmp_path):
    K = np.array([[800.0, 0, 640], [0, 800, 360], [0, 0, 1]])
    cams = [Camera("fish", K, [0.1, -0.05, 0.01, -0.002], fisheye=True, t=[0, 0, 3.0], size=(1280, 720)),
            Camera("rat", K, [0.1, -0.05, 0.001, 0.002, 0.01, 0.05, -0.01, 0.002], t=[0.1, 0, 3.0], size=(1280, 720))]
    rig = CameraRig(cams)
    write_calibration(rig, tmp_path / "c.toml")
    back = read_calibration(tmp_path / "c.toml")
    X = _points() * 0.3
    assert back[0].fisheye and not back[1].fisheye
    assert np.nanmax(np.abs(back.project(X) - rig.project(X))) < 1e-6
    # undistort inverts project, also for fisheye and the rational model
    for cam in rig:
        uv = cam.project(X)
        n = cam.undistort(uv)
        Xc = cam.world_to_camera(X)
        assert np.abs(n - Xc[:, :2] / Xc[:, 2:]).max() < 1e-8


def test_toml_anipose_style_numeric_order(tmp_path):
    rig = ring_rig(12)
    lines = []
    for i, c in enumerate(rig):  # anipose: [cam_0] ... [cam_11], written out of order on purpose
        lines.append((i, f'[cam_{i}]\nname = "{c.name}"\nsize = [1920, 1080]\nmatrix = {c.K.tolist()}\n'
                         f'distortions = {c.dist.tolist()}\nrotation = {c.rvec.tolist()}\n'
                         f'translation = {c.t.tolist()}\nfisheye = false\n'))
    text = "".join(t for _, t in sorted(lines, key=lambda x: str(x[0])))  # text order: 0, 1, 10, 11, 2 ...
    (tmp_path / "anipose.toml").write_text(text + "[metadata]\nadjusted = false\n")
    back = read_calibration(tmp_path / "anipose.toml")
    assert back.names == rig.names  # numeric order, not text order
    X = _points()
    assert np.nanmax(np.abs(back.project(X) - rig.project(X))) < 1e-6


def test_keypoint_round_trips(tmp_path):
    need(TRIAL)
    kp = read_openpose_folders(sorted((TRIAL / "pose-associated").glob("cam*_json")), fps=60).single()
    for name in ("k.npz", "k.csv"):
        write_keypoints(kp, tmp_path / name)
        back = read_keypoints(tmp_path / name, fps=60)
        np.testing.assert_array_equal(np.nan_to_num(back.data, nan=-1), np.nan_to_num(kp.data, nan=-1))
        assert back.camera_names == kp.camera_names and back.skeleton is kp.skeleton
    write_openpose_folders(kp, tmp_path / "op")
    back = read_openpose_folders(sorted((tmp_path / "op").glob("*_json")), fps=60).single()
    assert np.nanmax(np.abs(back.data - kp.data)) < 1e-4


def test_openpose_tolerates_missing_keys(tmp_path):
    d = tmp_path / "cam1_json"
    d.mkdir()
    person = {"pose_keypoints_2d": list(np.arange(51, dtype=float) % 7 + 1)}
    (d / "f.0000.json").write_text(json.dumps({"people": [person]}))
    (d / "f.0001.json").write_text(json.dumps({"version": 1.3}))  # no people key
    (d / "f.0002.json").write_text(json.dumps({"people": [{"face_keypoints_2d": []}, person]}))
    (d / "f.0010.json").write_text(json.dumps({"people": [person, person]}))
    multi = read_openpose_folders([d])
    assert multi.skeleton.name == "coco_17"
    assert multi.data.shape == (1, 4, 2, 17, 3)
    assert list(multi.frames) == [0, 1, 2, 10]  # numeric order
    assert np.isnan(multi.data[0, 1, :, :, 0]).all() and (multi.data[0, 1, ..., 2] == 0).all()


def test_coco_results(tmp_path):
    res = [{"image_id": i, "category_id": 1, "keypoints": list(np.full(51, 1.0 + i)), "score": 0.9} for i in range(3)]
    (tmp_path / "r.json").write_text(json.dumps(res))
    kp = read_keypoints(tmp_path / "r.json")
    assert kp.data.shape == (1, 3, 17, 3) and kp.data[0, 2, 0, 0] == 3.0


def test_motion_round_trips_and_axes(tmp_path):
    ref = read_trc(need(TRIAL / "pose-3d" / "S00_P00_T01_BalancingTrial_0-100.trc"))
    assert ref.up == "y" and ref.fps == 60 and ref.positions.shape == (100, 21, 3)
    # Pose2Sim's Y-up TRC: the hips are ~0.9 m above the floor on Y
    assert 0.8 < np.nanmedian(ref.positions[:, ref.skeleton.index("RHip"), 1]) < 1.0
    z = ref.to_up("z")
    assert 0.8 < np.nanmedian(z.positions[:, z.skeleton.index("RHip"), 2]) < 1.0
    np.testing.assert_allclose(z.to_up("y").positions, ref.positions, atol=1e-15)
    m = Motion3D(ref.positions.copy(), ref.skeleton, 60, up="y", joint_names=ref.names)
    m.positions[3, 2] = np.nan
    for name, kw in (("a.trc", {}), ("a_mm.trc", {"units": "mm"}), ("a.csv", {}), ("a.npz", {})):
        write_motion(m, tmp_path / name, **kw)
        back = read_motion(tmp_path / name)
        np.testing.assert_allclose(back.positions, m.positions, atol=1e-12, equal_nan=True)
        assert back.names == m.names and back.up == "y" and back.fps == 60


def test_outputs_get_normal_permissions(tmp_path):
    import os
    import stat
    from mocap.io.atomic import atomic_open
    with atomic_open(tmp_path / "x.txt") as f:
        f.write("ok")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "x.txt").stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_trc_written_z_up_motion_is_y_up_in_file(tmp_path):
    m = Motion3D(np.array([[[0.1, 0.2, 1.5]]]), get_skeleton("coco").__class__("one", ("a",), ("a",), ()), 30, up="z")
    write_motion(m, tmp_path / "p.trc")
    row = (tmp_path / "p.trc").read_text().splitlines()[5].split("\t")
    assert [float(v) for v in row[2:5]] == [0.2, 1.5, 0.1]  # Pose2Sim's Z-up -> Y-up


def test_skeleton_registry_and_converters():
    names = {s.name for s in SKELETONS.values()}
    assert names == {"coco_17", "body_25", "body_25b", "halpe_26", "mediapipe_33", "h36m_17", "body_25_hands",
                     "body_25b_hands", "coco_17_hands", "halpe_26_hands", "mediapipe_33_hands", "halpe_136",
                     "coco_wholebody_133"}
    for s in set(SKELETONS.values()):
        faceless = sum(not j.startswith("face_") for j in s.joints)  # face landmarks have no bones
        assert s.left_right_pairs and len(s.bones) >= faceless - 9
        assert (s.flip_indices[s.flip_indices] == np.arange(len(s))).all()
    rng = np.random.default_rng(0)
    coco = np.concatenate([rng.normal(size=(4, 17, 2)), rng.uniform(0.2, 1, (4, 17, 1))], -1)
    b25 = convert(coco, "coco", "body_25")
    ls, rs = coco[:, 5], coco[:, 6]
    np.testing.assert_allclose(b25[:, 1, :2], (ls[:, :2] + rs[:, :2]) / 2)  # neck = mid-shoulders
    np.testing.assert_allclose(b25[:, 1, 2], np.minimum(ls[:, 2], rs[:, 2]))  # with min confidence
    np.testing.assert_allclose(b25[:, 8, :2], (coco[:, 11, :2] + coco[:, 12, :2]) / 2)  # pelvis
    assert np.isnan(b25[:, 19:, 0]).all() and (b25[:, 19:, 2] == 0).all()  # no feet in COCO
    back = convert(b25, "body_25", "coco")
    np.testing.assert_allclose(back, coco)
    h36 = convert(coco, "coco", "h36m")
    np.testing.assert_allclose(h36[:, 7, :2], ((coco[:, 11, :2] + coco[:, 12, :2]) / 2
                                               + (coco[:, 5, :2] + coco[:, 6, :2]) / 2) / 2)  # spine
    mp = np.concatenate([rng.normal(size=(2, 33, 2)), np.ones((2, 33, 1))], -1)
    halpe = convert(mp, "mediapipe", "halpe_26")
    np.testing.assert_allclose(halpe[:, 20, :2], mp[:, 31, :2])  # big toe <- foot index
    np.testing.assert_allclose(halpe[:, 19, :2], (mp[:, 23, :2] + mp[:, 24, :2]) / 2)  # pelvis
