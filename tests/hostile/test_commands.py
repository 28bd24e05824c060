"""Hostile runs of the commands: each gives a correct result or one ``error:`` line with exit code 2 and no
file; nothing writes an empty or meaningless output with exit 0; an input is never overwritten; SIGTERM
leaves no temporary file and the exit code says the run was terminated."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import CALIB, TRIAL, need
from mocap.cli.main import main
from mocap.core.motion import resample
from mocap.errors import MocapError
from mocap.io.motion import read_trc, write_trc

TRC = TRIAL / "pose-3d" / "S00_P00_T01_BalancingTrial_0-100.trc"  # Pose2Sim's own output, 100 frames at 60 fps


def run(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse: a bad option value
        code = e.code
    out = capsys.readouterr()
    return code, out.err.strip()


def one_error(code, err, *words):
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 0 and "Traceback" not in err, err
    for w in words:
        assert w in err, err


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if ".tmp" in p.name]


@pytest.mark.parametrize("fps,frames", [(100, 166), (29.97, 50), (59.94, 99), (25, 42), (120, 199)])
def test_convert_resamples_to_any_rate(fps, frames, tmp_path, capsys):
    out = tmp_path / "out.trc"
    code, err = run(["convert", need(TRC), out, "--fps", fps], capsys)
    assert code == 0, err
    m, src = read_trc(out), read_trc(TRC)
    assert m.n_frames == frames and abs(m.fps - fps) < 1e-9
    assert m.times[-1] <= src.times[-1] + 1e-9  # never past the last sample
    np.testing.assert_allclose(m.positions[0], src.positions[0], atol=1e-9)


def test_absurd_resampling_is_refused(capsys, tmp_path):
    one_error(*run(["convert", TRC, tmp_path / "o.trc", "--fps", "1e9"], capsys), "--fps")
    with pytest.raises(MocapError, match="would make 1650000001 frames"):
        resample(read_trc(TRC), 1e9)
    assert not list(tmp_path.iterdir())


def test_convert_never_overwrites_its_input(tmp_path, capsys):
    bvh = tmp_path / "x.bvh"
    assert run(["convert", TRC, bvh], capsys)[0] == 0
    before = bvh.read_bytes()
    one_error(*run(["convert", bvh, bvh], capsys), "output is the input")
    (tmp_path / "link.bvh").symlink_to(bvh)
    one_error(*run(["convert", bvh, tmp_path / "link.bvh"], capsys), "output is the input")
    assert bvh.read_bytes() == before
    one_error(*run(["smooth", TRC, "-o", TRC], capsys), "output is the input")


def test_bad_outputs(tmp_path, capsys):
    one_error(*run(["convert", TRC, tmp_path], capsys), "is a folder")
    (tmp_path / "file").write_text("x")
    one_error(*run(["convert", TRC, tmp_path / "file" / "o.trc"], capsys), "is a file, not a folder")
    one_error(*run(["convert", TRC, tmp_path / "o.bvh", "--height", "nan"], capsys), "--height")
    one_error(*run(["convert", TRC, tmp_path / "o.xyz"], capsys))
    assert not temporaries(tmp_path)


def _pose(tmp_path: Path, edit) -> Path:
    """The bundled trial's keypoint folders with every person's values passed through ``edit(flat list)``."""
    dst = tmp_path / "pose"
    shutil.copytree(TRIAL / "pose", dst)
    for f in dst.rglob("*.json"):
        doc = json.loads(f.read_text())
        for p in doc["people"]:
            p["pose_keypoints_2d"] = edit(p["pose_keypoints_2d"])
        f.write_text(json.dumps(doc))
    return dst


def _calib(tmp_path: Path, edit) -> Path:
    path = tmp_path / "calib.toml"
    path.write_text(edit(need(CALIB).read_text()))
    return path


@pytest.mark.parametrize("case", ["zero", "negative", "min-confidence", "one-camera", "same-camera", "size-zero"])
def test_triangulation_that_cannot_give_points_writes_nothing(case, tmp_path, capsys):
    pose, calib, extra = TRIAL / "pose", CALIB, []
    if case == "zero":
        pose = _pose(tmp_path, lambda v: [0.0] * len(v))
    elif case == "negative":
        pose = _pose(tmp_path, lambda v: [x if i % 3 != 2 else -abs(x) for i, x in enumerate(v)])
    elif case == "min-confidence":
        extra = ["--min-confidence", "0.9999"]
    elif case == "one-camera":
        calib = _calib(tmp_path, lambda t: t.split("[cam_02]")[0])
    elif case == "same-camera":
        calib = _calib(tmp_path, lambda t: re.sub(r"(rotation|translation) = .*", lambda m: {
            "rotation": "rotation = [ 1.0, 0.5, 0.2]", "translation": "translation = [ 0.1, 0.2, 3.0]"}[m.group(1)], t))
    else:
        calib = _calib(tmp_path, lambda t: re.sub(r"size = \[[^\]]*\]", "size = [ 0.0, 0.0]", t))
    out = tmp_path / "out.trc"
    code, err = run(["triangulate", "--calib", calib, "--keypoints", pose, "-o", out, "--fps", 60, *extra], capsys)
    words = {"zero": "no point could be triangulated", "negative": "no point could be triangulated",
             "min-confidence": "no point could be triangulated", "one-camera": "cameras",
             "same-camera": "same place", "size-zero": "image size"}[case]
    one_error(code, err, words)
    assert not out.exists() and not temporaries(tmp_path)


def test_filter_parameters_and_board_names_are_checked(tmp_path, capsys):
    one_error(*run(["smooth", TRC, "-o", tmp_path / "s.trc", "--param", "foo=1"], capsys), "no parameter 'foo'")
    one_error(*run(["smooth", TRC, "-o", tmp_path / "s.trc", "--param", "cutoff=nan"], capsys), "cutoff")
    one_error(*run(["smooth", TRC, "-o", tmp_path / "s.trc", "--filter", "gaussian", "--param", "sigma=0"], capsys),
              "sigma")
    one_error(*run(["board", "-o", tmp_path / "b.png", "--squares", 5, 7, "--square-mm", 40, "--marker-mm", 30,
                    "--dictionary", "BOGUS"], capsys), "unknown ArUco dictionary")
    one_error(*run(["detect", "v.mp4", "-o", "x.npz", "--resize", "-10"], capsys), "--resize")
    assert not list(tmp_path.iterdir())


def test_camera_names_with_quotes_round_trip(tmp_path):
    from mocap.io.calibration import read_calibration, write_calibration

    rig = read_calibration(CALIB)
    for c in rig:
        c.name = c.name + ' "left" \\ cam'
    write_calibration(rig, tmp_path / "c.toml")
    assert [c.name for c in read_calibration(tmp_path / "c.toml")] == [c.name for c in rig]
    with pytest.raises(MocapError, match="OpenCV YAML keys"):
        write_calibration(rig, tmp_path / "intri.yml")


def _terminated(argv: list, out_dir: Path, after_s: float):
    """Start ``mocap argv``, send SIGTERM ``after_s`` seconds later; returns (exit code, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "mocap.cli", *map(str, argv)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(after_s)
    assert proc.poll() is None, "finished before the signal: make the input longer"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.mark.slow
def test_sigterm_during_convert(tmp_path):
    m = read_trc(TRC)
    long = m.__class__(np.tile(m.positions, (400, 1, 1)), m.skeleton, m.fps, up=m.up, joint_names=m.names)
    write_trc(long, tmp_path / "long.trc")  # 40 000 frames
    code, err = _terminated(["convert", tmp_path / "long.trc", tmp_path / "out.bvh", "--fps", 120], tmp_path, 4.0)
    assert code == 128 + signal.SIGTERM and "terminated" in err, err
    assert not (tmp_path / "out.bvh").exists() and not temporaries(tmp_path)


@pytest.mark.slow
def test_sigterm_during_triangulate(tmp_path):
    pose = tmp_path / "pose"
    for cam in sorted((TRIAL / "pose").iterdir()):  # 1 000 frames: the trial 10 times
        (pose / cam.name).mkdir(parents=True)
        files = sorted(cam.glob("*.json"))
        for t in range(1000):
            shutil.copy(files[t % 100], pose / cam.name / f"{cam.name[:-5]}.{t:04d}.json")
    out = tmp_path / "out.trc"
    code, err = _terminated(["triangulate", "--calib", CALIB, "--keypoints", pose, "-o", out, "--fps", 60, "--smooth"],
                            tmp_path, 4.0)
    assert code == 128 + signal.SIGTERM and "terminated" in err, err
    assert not out.exists() and not temporaries(tmp_path)


@pytest.mark.slow
@pytest.mark.video
def test_sigterm_during_video2bvh(tmp_path):
    out = tmp_path / "out.bvh"
    code, err = _terminated(["video2bvh", TRIAL / "videos" / "cam03.mp4", "-o", out, "--preview", tmp_path / "p.mp4"],
                            tmp_path, 5.0)
    assert code == 128 + signal.SIGTERM and "terminated" in err, err
    assert not out.exists() and not temporaries(tmp_path)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_full_disk_is_reported_and_leaves_nothing(tmp_path):
    """A real write failure: the process may write files of at most 20 kB (RLIMIT_FSIZE; writes past it fail with
    EFBIG as on a full disk)."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / "out.bvh"
    proc = subprocess.run([sys.executable, "-m", "mocap.cli", "convert", str(TRC), str(out)], capture_output=True,
                          text=True, preexec_fn=limit, timeout=120)
    err = proc.stderr.strip()
    assert proc.returncode == 2 and err.startswith("error: ") and err.count("\n") == 0, err
    assert "cannot write" in err and str(out) in err
    assert not out.exists() and not temporaries(tmp_path)
