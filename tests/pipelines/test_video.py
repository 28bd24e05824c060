"""Video -> 3D -> BVH with the real detector on the real Pose2Sim demo videos."""
import numpy as np
import pytest

from conftest import CALIB, TRIAL, need
from mocap.cli.main import main
from mocap.errors import MocapError
from mocap.io.calibration import read_calibration
from mocap.io.motion import read_trc
from mocap.triangulate import triangulate

pytest.importorskip("ai_edge_litert")  # the detector (its models ship in the package)
pytestmark = [pytest.mark.video, pytest.mark.slow]
VIDEOS = [TRIAL / "videos" / f"cam0{i}.mp4" for i in range(1, 5)]
COMMON = {"right_hip": "RHip", "right_knee": "RKnee", "right_ankle": "RAnkle", "left_hip": "LHip",
          "left_knee": "LKnee", "left_ankle": "LAnkle", "right_shoulder": "RShoulder", "right_elbow": "RElbow",
          "right_wrist": "RWrist", "left_shoulder": "LShoulder", "left_elbow": "LElbow", "left_wrist": "LWrist",
          "nose": "Nose", "right_heel": "RHeel", "left_heel": "LHeel", "right_foot_index": "RBigToe",
          "left_foot_index": "LBigToe"}


@pytest.fixture(scope="module")
def detections():
    from mocap.pipelines.detect import detect_videos
    return detect_videos([need(v) for v in VIDEOS])


def test_person_detected_in_95_percent_of_frames(detections):
    kp, dets = detections
    for v, d in zip(VIDEOS, dets):
        T = d.keypoints.n_frames
        rate = 1 - len(d.missing_frames) / T
        print(f"{v.name}: {100 * rate:.1f} % of {T} frames")
        assert T == 100 and d.keypoints.fps == 60 and rate >= 0.95
        assert d.size == (1088, 1920) or d.size == (1080, 1920)  # portrait: rotation handled


def test_multiview_videos_agree_with_pose2sim(detections):
    kp, _ = detections
    res = triangulate(kp, read_calibration(CALIB))
    ref = read_trc(TRIAL / "pose-3d" / "S00_P00_T01_BalancingTrial_0-100.trc").to_up("z")
    m = res.motion
    d = np.array([np.linalg.norm(m.positions[:, m.skeleton.index(a)] - ref.positions[:, ref.skeleton.index(b)], axis=-1)
                  for a, b in COMMON.items()]) * 1000
    per_marker = np.nanmedian(d, axis=1)
    print("median mm per marker:", dict(zip(COMMON.values(), per_marker.round(1))), "pooled", np.nanmedian(d))
    # MediaPipe and OpenPose put hips and nose at different anatomical points (~6 cm apart here).
    assert np.median(per_marker) <= 40.0
    assert np.nanmedian(d) <= 45.0
    # Pose2Sim's final output is Butterworth-filtered (4th order, 6 Hz): filtered against filtered.
    from mocap.smooth.filters import butterworth
    ref_f = read_trc(TRIAL / "pose-3d" / "S00_P00_T01_BalancingTrial_0-100_filt_butterworth.trc").to_up("z")
    ours_f = butterworth(m.positions, 60.0, 6.0)
    d_f = np.array([np.linalg.norm(ours_f[:, m.skeleton.index(a)] - ref_f.positions[:, ref_f.skeleton.index(b)], axis=-1)
                    for a, b in COMMON.items()]) * 1000
    print("filtered vs Pose2Sim's filtered TRC: pooled median", np.nanmedian(d_f))
    assert np.nanmedian(d_f) <= 40.0


@pytest.mark.parametrize("video", VIDEOS, ids=[v.stem for v in VIDEOS])
def test_video2bvh_imports_in_blender(video, tmp_path):
    pytest.importorskip("bpy")
    from conftest import blender_joint_positions
    out = tmp_path / "v.bvh"
    assert main(["video2bvh", str(need(video)), "-o", str(out), "--rig", "mixamo", "-q"]) == 0
    frames = np.arange(0, 100, 3)
    ref, fps, n = blender_joint_positions(out, 0.01, frames)
    assert n == 100 and abs(fps - 60) < 0.5
    P = np.stack(list(ref.values()), 1)
    assert np.isfinite(P).all()
    for a, b in [("LeftUpLeg", "LeftLeg"), ("LeftLeg", "LeftFoot"), ("RightArm", "RightForeArm"), ("Spine", "Spine1")]:
        L = np.linalg.norm(ref[f"mixamorig:{a}"] - ref[f"mixamorig:{b}"], axis=-1)
        assert L.std() / L.mean() < 0.001  # constant within 0.1 %
    feet = np.minimum(ref["mixamorig:LeftToeBase"][:, 2], ref["mixamorig:RightToeBase"][:, 2])
    print(video.name, "median lowest toe height", np.median(feet))
    assert abs(np.median(feet)) < 0.05


def test_preview_video(tmp_path):
    import cv2
    assert main(["video2bvh", str(need(VIDEOS[0])), "-o", str(tmp_path / "a.bvh"), "--method", "world", "--preview",
                 str(tmp_path / "p.mp4"), "--stride", "5", "-q"]) == 0
    cap = cv2.VideoCapture(str(tmp_path / "p.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 20
    ok, frame = cap.read()
    assert ok and frame.shape[0] == 540 and frame.shape[1] > 540


def test_bad_videos(tmp_path, capsys):
    import cv2
    (tmp_path / "garbage.mp4").write_bytes(np.random.default_rng(0).bytes(5000))
    (tmp_path / "empty.mp4").write_bytes(b"")
    for name, cause in [("missing.mp4", "not found"), ("garbage.mp4", "OpenCV"), ("empty.mp4", "")]:
        rc = main(["video2bvh", str(tmp_path / name), "-o", str(tmp_path / "o.bvh"), "-q"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and err[-1].startswith("error: ") and name in err[-1] and cause in err[-1]
        assert not (tmp_path / "o.bvh").exists()
    w = cv2.VideoWriter(str(tmp_path / "nobody.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    for i in range(15):
        w.write(np.full((240, 320, 3), 40 + i, np.uint8))
    w.release()
    # a video with nobody in it: one clear error, nothing written
    assert main(["detect", str(tmp_path / "nobody.mp4"), "-o", str(tmp_path / "k.npz")]) == 2
    assert "no person detected" in capsys.readouterr().err and not (tmp_path / "k.npz").exists()
    assert main(["video2bvh", str(tmp_path / "nobody.mp4"), "-o", str(tmp_path / "n.bvh")]) == 2
    assert not (tmp_path / "n.bvh").exists()
    # an output that is not an animation: refused before the video is read
    assert main(["video2bvh", str(tmp_path / "nobody.mp4"), "-o", str(tmp_path / "n.trc")]) == 2
    assert "'.trc' is not an animation format; known: .bvh, .glb, .gltf, .fbx" in capsys.readouterr().err
    with pytest.raises(MocapError, match="no person detected"):
        from mocap.pipelines.detect import detect_videos
        detect_videos([VIDEOS[0], tmp_path / "nobody.mp4"])


def test_video2bvh_with_the_lifter(tmp_path):
    pytest.importorskip("torch")
    from mocap.io.bvh import read_bvh
    out = tmp_path / "l.bvh"
    assert main(["video2bvh", str(need(VIDEOS[1])), "-o", str(out), "--method", "lifter", "-q"]) == 0
    bvh = read_bvh(out)
    assert bvh.n_frames == 100 and np.isfinite(bvh.values).all()
    root = bvh.values[:, :3] / 100.0  # the lifter gives the pelvis a camera-space trajectory (metres)
    depth = -root[:, 2]  # camera looks along -Z in the Y-up frame
    print("lifted pelvis depth (m): median", np.median(depth))
    assert 1.5 < np.median(depth) < 10.0  # this camera stands ~3-4 m from the subject


def test_lifter_beats_mediapipe_world_landmarks_on_real_footage(detections):
    """Each camera's 2D lifted alone, against the 4-camera triangulation of the same detections:
    our lifter's PA-MPJPE is lower than MediaPipe's own world landmarks' on the same frames."""
    pytest.importorskip("torch")
    from mocap.lift.model import load_model
    from mocap.lift.train import compare_on_footage

    kp, dets = detections
    rows = compare_on_footage(load_model()[0], kp, dets, read_calibration(CALIB))
    for r in rows:
        print(f"{r['camera']}: {r['frames']} frames, lifter {r['lifter_pa_mpjpe_mm']:.1f} mm, "
              f"MediaPipe world {r['mediapipe_pa_mpjpe_mm']:.1f} mm")
    assert all(r["frames"] >= 90 for r in rows)
    assert all(r["lifter_pa_mpjpe_mm"] < r["mediapipe_pa_mpjpe_mm"] for r in rows)
    assert np.mean([r["lifter_pa_mpjpe_mm"] for r in rows]) < 0.95 * np.mean([r["mediapipe_pa_mpjpe_mm"] for r in rows])


def test_lift_and_video2bvh_give_the_same_motion(tmp_path):
    """One path for one camera: `mocap detect` + `mocap lift` on the keypoints gives the BVH `video2bvh` gives from the
    video (same detector output, same steps after it: lifter, upright, refinement, contacts, floor, retargeting), and
    the TRC/NPZ/CSV outputs carry the same joints, the NPZ/CSV with the contact flags."""
    import cv2
    from mocap.io.bvh import read_bvh
    from mocap.io.motion import load_motion

    video = need(VIDEOS[0])
    cap = cv2.VideoCapture(str(video))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    assert main(["video2bvh", str(video), "-o", str(tmp_path / "v.bvh"), "-q"]) == 0
    assert main(["detect", str(video), "-o", str(tmp_path / "k.npz"), "-q"]) == 0
    size = ["--width", str(w), "--height", str(h)]
    for out in ("l.bvh", "l.npz", "l.csv", "l.glb"):
        assert main(["lift", str(tmp_path / "k.npz"), "-o", str(tmp_path / out), *size, "-q"]) == 0
    a, b = read_bvh(tmp_path / "v.bvh"), read_bvh(tmp_path / "l.bvh")
    assert a.values.shape == b.values.shape
    assert main(["video2bvh", str(video), "-o", str(tmp_path / "v.glb"), "-q"]) == 0
    for glb in ((tmp_path / "l.glb").read_bytes(), (tmp_path / "v.glb").read_bytes()):  # glTF: every frame a key
        assert glb[:4] == b"glTF" and f'"count":{len(b.values)},"type":"VEC4"'.encode() in glb
    np.testing.assert_allclose(b.values, a.values, atol=1e-6)
    npz, csv = load_motion(tmp_path / "l.npz"), load_motion(tmp_path / "l.csv")
    np.testing.assert_allclose(csv.positions, npz.positions, atol=1e-6)
    assert npz.contacts is not None and (csv.contacts == npz.contacts).all()
    feet = [npz.names.index(n) for n in ("left_ankle", "right_ankle")]
    share = npz.contacts[:, feet].mean(0)
    print("planted share of frames per ankle", share)
    assert (share > 0.2).all() and not npz.contacts[:, [j for j in range(len(npz.names)) if j not in feet]].any()
    assert main(["lift", str(tmp_path / "k.npz"), "-o", str(tmp_path / "off.npz"), *size, "--contacts", "off", "-q"]) == 0
    assert load_motion(tmp_path / "off.npz").contacts is None
