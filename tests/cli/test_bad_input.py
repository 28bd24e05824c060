"""Bad input: one clear error line naming the file and the cause, exit code != 0, no partial output."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from mocap.cli.main import main
from mocap.core.keypoints import Keypoints2D

DEMO = ROOT / "mocap" / "data" / "demo"


@pytest.fixture
def demo(tmp_path):
    shutil.copytree(DEMO / "pose", tmp_path / "pose")
    shutil.copy(DEMO / "calib.toml", tmp_path / "calib.toml")
    return tmp_path


def run(args, capsys):
    rc = main(args)
    err = capsys.readouterr().err.strip().splitlines()
    return rc, err


def tri(demo, out, calib=None, kps=None):
    return ["triangulate", "--calib", str(calib or demo / "calib.toml"), "--keypoints",
            *[str(k) for k in (kps or [demo / "pose"])], "-o", str(out), "-q"]


def check_fails(demo, capsys, args, *words):
    out = demo / "out.trc"
    rc, err = run(args, capsys)
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("error: "), err
    for w in words:
        assert w in err[0], err[0]
    assert not out.exists()
    assert not list(demo.glob(".out*"))  # no temp file left behind either
    return err[0]


def test_good_run_writes_output(demo, capsys):
    rc, err = run(tri(demo, demo / "out.trc"), capsys)
    assert rc == 0 and (demo / "out.trc").exists()
    rc, err = run(tri(demo, demo / "out.bvh"), capsys)  # any 3D format, BVH retargeted (Mixamo by default)
    from mocap.io.bvh import read_bvh
    assert rc == 0 and read_bvh(demo / "out.bvh").n_frames == 40 and "mixamorig:Hips" in read_bvh(demo / "out.bvh").names


def test_missing_folder(demo, capsys):
    check_fails(demo, capsys, tri(demo, demo / "out.trc", kps=[demo / "nope"]), "nope", "not found")


def test_empty_folder(demo, capsys):
    for c in (demo / "pose").iterdir():
        shutil.rmtree(c)
    (demo / "pose" / "cam01_json").mkdir()
    check_fails(demo, capsys, tri(demo, demo / "out.trc"), "cam01_json", "no .json")


def test_garbage_json(demo, capsys):
    bad = demo / "pose" / "cam02_json" / "cam02.0005.json"
    bad.write_text("{not json")
    check_fails(demo, capsys, tri(demo, demo / "out.trc"), "cam02.0005.json", "not valid JSON")


def test_camera_count_mismatch(demo, capsys):
    shutil.rmtree(demo / "pose" / "cam04_json")
    check_fails(demo, capsys, tri(demo, demo / "out.trc"), "calib.toml", "3 cameras of keypoints", "4 cameras")


def test_different_frame_counts(demo, capsys):
    (demo / "pose" / "cam03_json" / "cam03.0039.json").unlink()
    check_fails(demo, capsys, tri(demo, demo / "out.trc"), "cam03_json", "different frame counts")


def test_singular_camera_matrix(demo, capsys):
    text = (demo / "calib.toml").read_text().replace("1681.244873046875", "0.0", 1)
    (demo / "calib.toml").write_text(text)
    check_fails(demo, capsys, tri(demo, demo / "out.trc"), "calib.toml", "cam_01", "singular")


def test_missing_calibration(demo, capsys):
    check_fails(demo, capsys, tri(demo, demo / "out.trc", calib=demo / "none.toml"), "none.toml", "not found")


def test_garbage_calibration(demo, capsys):
    (demo / "calib.toml").write_text("[cam_01]\nmatrix = 3\n")
    check_fails(demo, capsys, tri(demo, demo / "out.trc"), "calib.toml")


def test_nan_inf_negative_confidences_are_missing(demo, capsys):
    f = demo / "pose" / "cam01_json" / "cam01.0003.json"
    doc = json.loads(f.read_text())
    kp = doc["people"][0]["pose_keypoints_2d"]
    kp[2], kp[5], kp[8] = -0.5, 1e400, 0.7  # negative, inf confidence
    kp[9] = float("nan")
    f.write_text(json.dumps(doc).replace("Infinity", "1e400"))
    rc, err = run(tri(demo, demo / "out.trc"), capsys)
    assert rc == 0, err
    data = np.array([[1.0, 2.0, -1.0], [np.nan, 1.0, 0.9], [1.0, 2.0, np.inf], [3.0, 4.0, 0.8]])
    k = Keypoints2D(np.tile(data, (1, 1, 17 // 4 + 1, 1))[:, :, :17], "coco")
    assert (k.confidence[0, 0, :3] == 0).all() and np.isnan(k.xy[0, 0, :3]).all() and k.confidence[0, 0, 3] == 0.8


def test_cli_subprocess_exit_code(demo):
    r = subprocess.run([sys.executable, "-m", "mocap.cli", *tri(demo, demo / "out.trc", kps=[demo / "x"])],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_info_and_demo(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path), "-q"]) == 0  # the demo's own output: tests/test_fresh_machine.py
    from mocap.io.bvh import read_bvh
    bvh = read_bvh(tmp_path / "demo.bvh")
    assert bvh.n_frames == 40 and "mixamorig:Hips" in bvh.names
    assert read_bvh(tmp_path / "out.bvh").n_frames == 100 and (tmp_path / "preview.mp4").stat().st_size > 10000
    assert main(["info", str(tmp_path / "demo.trc"), str(DEMO / "calib.toml"), str(DEMO / "pose")]) == 0
    out = capsys.readouterr().out
    assert "3D motion, 40 frames at 60 fps" in out and "4 cameras" in out and "OpenPose keypoints, 4 camera(s)" in out
    assert main(["info", str(tmp_path / "demo.bvh")]) == 0
    assert "BVH, 40 frames at 60 fps" in capsys.readouterr().out


def test_smooth_command(tmp_path, capsys):
    from conftest import TRIAL, need
    trc = need(TRIAL / "pose-3d" / "S00_P00_T01_BalancingTrial_0-100.trc")
    assert main(["smooth", str(trc), "-o", str(tmp_path / "s.trc"), "--param", "cutoff=6"]) == 0
    out = capsys.readouterr().out
    assert "jitter" in out and "bone length CV" in out and (tmp_path / "s.trc").exists()
    from mocap.io.motion import read_trc
    from mocap.smooth.metrics import jitter
    raw, smooth = read_trc(trc), read_trc(tmp_path / "s.trc")
    assert jitter(smooth.positions, 60) < 0.2 * jitter(raw.positions, 60)
    with pytest.raises(SystemExit) as e:  # checked with the options: one line naming the known filters
        main(["smooth", str(trc), "-o", str(tmp_path / "x.trc"), "--filter", "wavelet"])
    assert e.value.code == 2 and "--filter: must be one of butterworth" in capsys.readouterr().err
    assert main(["smooth", str(trc), "-o", str(tmp_path / "x.trc"), "--param", "cutoff=40"]) == 2
    assert not (tmp_path / "x.trc").exists()


def test_triangulate_smooth_prints_quality(demo, capsys):
    rc, _ = run(tri(demo, demo / "s.trc")[:-1] + ["--fps", "60", "--smooth"], capsys)
    assert rc == 0 and (demo / "s.trc").exists()
    from mocap.io.motion import read_trc
    m = read_trc(demo / "s.trc")
    from mocap.smooth.metrics import bone_length_cv
    assert np.nanmean(bone_length_cv(m.positions, m.skeleton.rigid_bone_indices)) < 0.01


def test_smooth_with_a_joint_never_detected_completes_and_reports_it(demo, capsys):
    """A detector that never gives one joint of the layout (here BODY_25B's left eye, zeroed in every
    file of every camera): `triangulate --smooth` refines the others, leaves that joint empty and says so."""
    from mocap.io.motion import read_trc

    assert main(tri(demo, demo / "full.trc") + ["--fps", "60", "--smooth"]) == 0
    capsys.readouterr()
    for f in (demo / "pose").rglob("*.json"):
        doc = json.loads(f.read_text())
        for person in doc["people"]:
            person["pose_keypoints_2d"][3:6] = [0.0, 0.0, 0.0]  # joint 1 = LEye
        f.write_text(json.dumps(doc))
    args = tri(demo, demo / "out.trc") + ["--fps", "60", "--smooth"]
    args.remove("-q")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "left empty: LEye" in out
    full, got = read_trc(demo / "full.trc"), read_trc(demo / "out.trc")
    eye = got.names.index("LEye")
    assert np.isnan(got.positions[:, eye]).all()
    others = [j for j in range(len(got.names)) if j != eye]
    d = np.linalg.norm(got.positions[:, others] - full.positions[:, others], axis=-1) * 1000
    print(f"other joints vs the run with the eye: median {np.median(d):.3f} mm, max {d.max():.2f} mm")
    assert np.isfinite(d).all() and np.median(d) < 1.0 and d.max() < 20.0


def test_a_signal_that_broke_a_lock_still_exits_as_terminated(monkeypatch, tmp_path, capsys):
    """SIGTERM's exception raised inside threading's lock code makes that code fail ("release unlocked lock"); the
    command still ends as terminated (exit 143), not with a traceback and exit 1."""
    from mocap import runtime
    from mocap.cli import motion

    def broken(args):
        try:
            raise runtime.Terminated(15)
        except runtime.Terminated:
            raise RuntimeError("release unlocked lock")

    monkeypatch.setattr(motion, "cmd_info", broken)
    assert main(["info", str(tmp_path / "x.trc")]) == 143
    assert "terminated (SIGTERM)" in capsys.readouterr().err

    def other(args):
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(motion, "cmd_info", other)
    with pytest.raises(RuntimeError, match="a bug of ours"):
        main(["info", str(tmp_path / "x.trc")])
