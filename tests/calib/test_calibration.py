"""Calibration: intrinsics from real checkerboard photos, board bundle adjustment on synthetic rigs,
extrinsics from a person on the Pose2Sim demo, boards round-trip, bad input."""
from dataclasses import replace

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from conftest import CALIB, INTRINSICS, P2S, TRIAL, need, ring_rig
from mocap.calib.board import Board, read_board
from mocap.calib.extrinsics import board_extrinsics
from mocap.calib.intrinsics import calibrate_intrinsics
from mocap.calib.views import Detections, View, detect
from mocap.core.camera import CameraRig
from mocap.cli.main import main
from mocap.errors import MocapError
from mocap.io.calibration import read_calibration

INTR = INTRINSICS


@pytest.fixture(scope="module")
def real_intrinsics():
    board = read_board(need(P2S / "Config.toml"))
    return board, [calibrate_intrinsics(board, detect(board, [INTR / f"int_cam0{c}_img"], f"cam0{c}"))
                   for c in range(1, 5)]


def test_intrinsics_from_real_checkerboard_photos(real_intrinsics):
    board, results = real_intrinsics
    assert board.inner == (4, 7) and board.square == pytest.approx(0.06)
    ref = read_calibration(CALIB)
    for r, cam in zip(results, ref):
        df = r.camera.K[0, 0] / cam.K[0, 0] - 1
        print(f"{r.camera.name}: {len(r.used)} views, RMS {r.rms:.3f} px, f {r.camera.K[0, 0]:.1f} vs {cam.K[0, 0]:.1f} "
              f"({100 * df:+.2f} %), skipped {list(r.rejected)}")
        assert r.rms < 0.5
        assert abs(df) < 0.02 and abs(r.camera.K[1, 1] / cam.K[1, 1] - 1) < 0.02
        assert r.camera.size == cam.size
    # the three photos where the board is cut off or edge-on are reported, not used
    skipped = {n for r in results for n, why in r.rejected.items() if why == "board not found"}
    assert skipped == {"cam02_06_int.jpg", "cam03_05_int.jpg", "cam04_04_int.jpg"}
    assert any("board not found in 1 of 7" in w for w in results[1].warnings)


def board_scene(n_cams, n_poses=120, noise=0.5, outliers=0.05, seed=0):
    """A ChArUco board (10 x 7 squares of 80 mm) waved through a ring of cameras: detections with
    sigma = ``noise`` px and a fraction of corners displaced by 5-40 px."""
    rng = np.random.default_rng(seed)
    rig = ring_rig(n_cams, seed=seed)
    board = Board("charuco", (10, 7), 0.08, 0.06)
    obj = board.object_points - board.object_points.mean(0)
    dets = [Detections(c.name, c.size) for c in rig]
    for f in range(n_poses):
        R = (Rotation.from_euler("z", rng.uniform(0, 2 * np.pi)) * Rotation.from_euler("x", np.pi / 2 + rng.normal(0, 0.35))
             * Rotation.from_euler("y", rng.normal(0, 0.35))).as_matrix()
        t = np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.6, 1.8)])
        X = obj @ R.T + t
        for c, cam in enumerate(rig):
            if np.dot(cam.center - t, -R[:, 2]) / np.linalg.norm(cam.center - t) < 0.3:  # printed side away
                continue
            uv = cam.project(X)
            ok = (uv > 0).all(1) & (uv[:, 0] < cam.size[0]) & (uv[:, 1] < cam.size[1])
            if ok.sum() < 10:
                continue
            uv = uv + rng.normal(0, noise, uv.shape)
            bad = rng.random(len(uv)) < outliers
            uv[bad] += rng.uniform(5, 40, (bad.sum(), 2)) * rng.choice([-1, 1], (bad.sum(), 2))
            ids = np.flatnonzero(ok)
            dets[c].views.append(View(f"f{f}", f, uv[ids], ids))
    return rig, board, dets


def pose_errors(truth: CameraRig, est: CameraRig, ref: int = 0):
    """Camera centre (mm) and orientation (deg) errors, truth expressed in the reference camera's frame."""
    out = []
    for a, b in zip(truth, est):
        R = a.R @ truth[ref].R.T
        t = a.t - R @ truth[ref].t
        out.append((np.linalg.norm(-R.T @ t - b.center) * 1000, np.degrees(Rotation.from_matrix(b.R @ R.T).magnitude())))
    return np.array(out)


@pytest.mark.parametrize("n_cams", [4, 6, 8])
def test_board_bundle_adjustment_synthetic(n_cams):
    rig, board, dets = board_scene(n_cams)
    intr = CameraRig([replace(c, R=np.eye(3), t=np.zeros(3)) for c in rig])
    res = board_extrinsics(board, intr, dets)
    err = pose_errors(rig, res.rig)
    print(f"{n_cams} cameras: centres max {err[:, 0].max():.2f} mm, orientation max {err[:, 1].max():.4f} deg, "
          f"RMS {np.round(list(res.errors.values()), 2).tolist()} px")
    assert err[:, 0].max() <= 5.0 and err[:, 1].max() <= 0.1
    assert all(0.5 < e < 1.0 for e in res.errors.values())  # inlier RMS ~ sqrt(2) x 0.5 px


def umeyama(A, B):
    """Similarity (s, R, t) with ``s R A + t ~ B`` for ``(N, 3)`` point sets."""
    ma, mb = A.mean(0), B.mean(0)
    U, S, Vt = np.linalg.svd((B - mb).T @ (A - ma))
    D = np.diag([1, 1, np.sign(np.linalg.det(U @ Vt))])
    R = U @ D @ Vt
    s = (S * np.diag(D)).sum() / ((A - ma) ** 2).sum()
    return s, R, mb - s * R @ ma


def test_extrinsics_from_a_person_on_the_pose2sim_demo(tmp_path):
    from mocap.triangulate import triangulate

    out = tmp_path / "people.toml"
    assert main(["calibrate", "extrinsics", "--intrinsics", str(need(CALIB)), "--keypoints", str(TRIAL / "pose"),
                 "--height", "1.7", "-o", str(out), "--report", str(tmp_path / "people.png"), "-q"]) == 0
    ours, ref = read_calibration(out), read_calibration(CALIB)
    s, R, t = umeyama(ours.centers, ref.centers)
    d = np.linalg.norm(s * ours.centers @ R.T + t - ref.centers, axis=1) * 1000
    from mocap.io.keypoints import read_openpose_folders
    kp = read_openpose_folders([TRIAL / "pose-associated" / f"cam0{c}_json" for c in range(1, 5)], None, 60.0).single()
    e_ours, e_ref = (float(np.nanmean(triangulate(kp, r).reprojection_error)) for r in (ours, ref))
    print(f"camera centres after similarity: {np.round(d, 1).tolist()} mm (scale {s:.3f}); "
          f"reprojection {e_ours:.2f} px vs reference calibration {e_ref:.2f} px")
    assert d.max() <= 100.0
    assert e_ours <= e_ref + 1.0
    assert abs(s - 1) < 0.1  # metric scale from the stated height
    assert (ours.centers[:, 2] > 0.5).all()  # Z-up world, cameras above the floor
    assert (tmp_path / "people.png").stat().st_size > 10_000


@pytest.mark.parametrize("kind", ["charuco", "checkerboard"])
def test_rendered_board_is_detected_and_printed_to_scale(tmp_path, kind):
    board = Board(kind, (8, 5), 0.04, 0.03)
    img = board.image(px_per_mm=4)
    found = board.detect(cv2.GaussianBlur(img, (3, 3), 0))
    assert found is not None and len(found[1]) == 28
    assert board.detect(cv2.rotate(img, cv2.ROTATE_180))[0][0] @ [1, 1] > 1000  # corner 0 follows the board
    corners, ids = found
    expect = (board.object_points[ids, :2] + 0.04) * 4000 + 40  # 4 px/mm, 10 mm margin, first inner corner one square in
    assert np.abs(corners - expect).max() < 1.0
    assert main(["board", "--kind", kind, "--squares", "8", "5", "--square-mm", "40", "--marker-mm", "30",
                 "-o", str(tmp_path / "b.pdf"), "-q"]) == 0
    pdf = (tmp_path / "b.pdf").read_bytes()
    box = [float(v) for v in pdf.split(b"/MediaBox [")[1].split(b"]")[0].split()]
    assert abs((box[2] - box[0]) / 72 * 25.4 - 340) < 1 and abs((box[3] - box[1]) / 72 * 25.4 - 220) < 1  # mm


def test_bad_calibration_input_is_explained_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "intr.toml"
    # wrong board dimensions: never found -> the cause is named, nothing is written
    args = ["calibrate", "intrinsics", "--kind", "checkerboard", "--squares", "6", "9", "--square-mm", "60",
            "--images", str(need(INTR / "int_cam01_img")), "-o", str(out), "-q"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "board not found in any of 7 images" in err and "inner corners 5x8" in err and not out.exists()
    # images without any board (frames of the trial's video: the room, a person, no board)
    scene = tmp_path / "scene"
    scene.mkdir()
    from mocap.io.video import frames
    for i, img in frames(need(TRIAL / "videos" / "cam01.mp4"), stride=40):
        cv2.imwrite(str(scene / f"frame{i:03d}.png"), img)
    assert main(["calibrate", "intrinsics", "--board", str(P2S / "Config.toml"), "--images",
                 str(scene), "-o", str(out), "-q"]) == 2
    assert "board not found" in capsys.readouterr().err and not out.exists()
    # a camera that never sees the board cannot be placed
    rig, board, dets = board_scene(4, n_poses=30)
    dets[2] = Detections(dets[2].camera, dets[2].size, [], {"a.png": "board not found"})
    with pytest.raises(MocapError, match="camera cam3 never saw the board"):
        board_extrinsics(board, CameraRig([replace(c, R=np.eye(3), t=np.zeros(3)) for c in rig]), dets)
