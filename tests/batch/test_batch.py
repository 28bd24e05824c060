"""``mocap batch``: a session of Pose2Sim trials (the bundled trial copied 6 times, one corrupted) gives the same
files as the single-trial commands, reports the bad trial, resumes by input hashes, survives a killed worker in
the local pool and on a real local Ray, and stops cleanly on SIGTERM."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import CALIB, P2S, TRIAL, killing_first, local_ray, need, spawned_children
from mocap.batch.engine import BatchOptions, run_session
from mocap.batch.session import read_session
from mocap.cli import main
from mocap.io.bvh import read_bvh
from mocap.io.motion import read_trc
from mocap.testing.sessions import pose2sim_session

GOOD = ["T01", "T02", "T03", "T04", "T05"]
BAD = "T06"


def make_session(root: Path, n: int = 6, corrupt: str | None = BAD) -> Path:
    """Pose2Sim's layout: Config.toml (frame_rate 60), calibration/, trials with pose/camNN_json folders."""
    return pose2sim_session(need(P2S), root, n, corrupt)


def outputs(root: Path, trial: str) -> dict[str, bytes]:
    out = root / trial / "mocap"
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def statuses(result) -> dict[str, str]:
    return {t.id: t.status for t in result.tasks}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The single-trial commands: triangulate (Config.toml's 60 fps and thresholds, --smooth as the batch
    default) and convert to BVH."""
    out = tmp_path_factory.mktemp("single")
    trc, bvh = out / "T01.trc", out / "T01.bvh"
    assert main(["triangulate", "--calib", str(CALIB), "--keypoints", str(TRIAL / "pose"), "-o", str(trc),
                 "--fps", "60", "--min-confidence", "0.3", "--smooth", "-q"]) == 0
    assert main(["convert", str(trc), str(bvh), "--rig", "mixamo", "-q"]) == 0
    return trc, bvh


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    root = make_session(tmp_path_factory.mktemp("local") / "session")
    t0 = time.perf_counter()
    code = main(["batch", str(root), "-j", "2", "-q"])
    return root, code, time.perf_counter() - t0


def test_good_trials_equal_the_single_commands_and_the_bad_one_is_reported(local_run, reference, capsys):
    root, code, seconds = local_run
    assert code == 1  # a trial failed: the exit code says so, the others are done
    trc, bvh = reference
    ref = read_trc(trc)
    for trial in GOOD:
        files = outputs(root, trial)
        assert set(files) == {f"{trial}.trc", f"{trial}.bvh", f"{trial}_quality.png"}
        got = read_trc(root / trial / "mocap" / f"{trial}.trc")
        # the same numbers: batch workers use 1 math thread per task, this process 2 (sums round differently
        # in the last bit, ~1e-16 m, which can flip a printed digit)
        np.testing.assert_allclose(got.positions, ref.positions, rtol=0, atol=1e-9)
        a, b = read_bvh(root / trial / "mocap" / f"{trial}.bvh"), read_bvh(bvh)
        assert a.names == b.names
        np.testing.assert_allclose(a.offsets, b.offsets, rtol=0, atol=1e-5)
        np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-5)  # BVH prints 6 decimals
    assert not (root / BAD / "mocap" / f"{BAD}.trc").exists()
    summary = (root / "mocap_batch" / "summary.csv").read_text().splitlines()
    rows = {line.split(",")[0]: line for line in summary[1:]}
    assert all(rows[t].split(",")[1] == "ok" for t in GOOD)
    assert rows[BAD].split(",")[1] == "failed" and "cam02.0042.json" in rows[BAD] and "not valid JSON" in rows[BAD]
    assert ",100,100.0," in rows["T01"]  # frames, % of points triangulated
    report = (root / "mocap_batch" / "report.md").read_text()
    assert "5 of 6 trials ok" in report and "![T01](../T01/mocap/T01_quality.png)" in report
    print(f"\n6 trials with 2 workers: {seconds:.1f} s")


def test_rerun_does_nothing_and_a_changed_input_reruns_only_its_trial(local_run, tmp_path):
    root = tmp_path / "moved"
    shutil.copytree(local_run[0], root, copy_function=shutil.copy2)  # a session moved elsewhere is still done
    session = read_session(root)
    before = {t: {p.name: p.stat().st_mtime_ns for p in (root / t / "mocap").iterdir() if p.is_file()} for t in GOOD}
    res = run_session(session, BatchOptions(jobs=2))
    st = statuses(res)
    assert all(st[f"{t}:{s}"] == "up to date" for t in GOOD for s in ("triangulate", "retarget"))
    assert st[f"{BAD}:triangulate"] == "failed" and st[f"{BAD}:retarget"] == "not run"  # still broken: tried again
    after = {t: {p.name: p.stat().st_mtime_ns for p in (root / t / "mocap").iterdir() if p.is_file()} for t in GOOD}
    assert after == before
    # touching a file (same bytes) changes nothing; changing one detection reruns that trial only
    f = root / "T03" / "pose" / "cam01_json" / "cam01.0010.json"
    os.utime(root / "T02" / "pose" / "cam01_json" / "cam01.0010.json")
    doc = json.loads(f.read_text())
    doc["people"][0]["pose_keypoints_2d"][0] += 5.0
    f.write_text(json.dumps(doc))
    st = statuses(run_session(read_session(root), BatchOptions(jobs=2)))
    ran = sorted(k for k, v in st.items() if v == "done")
    assert ran == ["T03:retarget", "T03:triangulate"], st
    assert run_session(read_session(root), BatchOptions(dry_run=True)).count("would run") == 2  # only the bad trial


def test_dry_run_lists_and_runs_nothing(tmp_path, capsys):
    root = make_session(tmp_path / "s", n=2, corrupt=None)
    assert main(["batch", str(root), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("would run") >= 4 and not (root / "T01" / "mocap").exists()


def test_local_pool_survives_a_killed_worker(tmp_path, local_run):
    root = make_session(tmp_path / "s")
    killed = []

    def on_event(kind, r):
        if kind == "start" and not killed:
            time.sleep(0.3)
            kids = spawned_children(os.getpid())
            if kids:
                os.kill(kids[0], signal.SIGKILL)
                killed.append(kids[0])

    res = run_session(read_session(root), BatchOptions(jobs=2), on_event)
    assert killed
    st = statuses(res)
    assert all(st[f"{t}:{s}"] == "done" for t in GOOD for s in ("triangulate", "retarget")), st
    assert max(t.attempts for t in res.tasks) >= 2  # the killed worker's task ran again
    for t in GOOD:
        assert outputs(root, t)[f"{t}.bvh"] == outputs(local_run[0], t)[f"{t}.bvh"]
    assert not list(root.rglob(".*.tmp*"))


def _ray_task_pids() -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "cmdline").read_bytes().startswith(b"ray::run_task"):
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


@pytest.mark.slow
def test_ray_gives_identical_outputs_and_survives_a_killed_worker(tmp_path, local_run):
    with local_ray(2):
        root = make_session(tmp_path / "s")
        with killing_first(_ray_task_pids, delay=0.2) as killed:  # the first worker seen running a task
            res = run_session(read_session(root), BatchOptions(jobs=2, ray="local"))
    assert killed
    st = statuses(res)
    assert all(st[f"{t}:{s}"] == "done" for t in GOOD for s in ("triangulate", "retarget")), st
    assert st[f"{BAD}:triangulate"] == "failed" and "not valid JSON" in next(t.error for t in res.tasks if t.trial == BAD)
    for t in GOOD:
        assert outputs(root, t) == outputs(local_run[0], t)  # TRC, BVH and picture, byte for byte
    assert not list(root.rglob(".*.tmp*"))


def test_manifest_and_levels_of_options(tmp_path):
    root = make_session(tmp_path / "s", n=3, corrupt=None)
    (root / "T02" / "mocap.toml").write_text("[triangulate]\nsmooth = false\n"       # this trial only
                                             '[retarget]\nformats = ["bvh", "glb"]\n')
    (root / "T03" / "mocap.toml").write_text("[triangulate]\nmin_confidence = 2\n")   # a bad value: this trial fails
    cfg = root / "Config.toml"
    cfg.write_text(cfg.read_text().replace("exclude_from_batch = []", "exclude_from_batch = ['T01']"))
    session = read_session(root)
    assert [t.name for t in session.trials] == ["T02", "T03"]
    assert "min_confidence must be in [0, 1)" in session.trials[1].error
    res = run_session(session, BatchOptions())
    assert statuses(res) == {"T02:triangulate": "done", "T02:retarget": "done"}
    assert "jitter_m_s2" not in res.tasks[0].record["quality"]  # not refined
    glb = (root / "T02" / "mocap" / "T02.glb").read_bytes()  # the same animation as the BVH, also as glTF
    assert glb[:4] == b"glTF" and f'"count":{read_bvh(root / "T02" / "mocap" / "T02.bvh").n_frames},'.encode() in glb
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"name,calib,keypoints,batch.fps,triangulate.smooth\n"
                        f"a,{CALIB},{TRIAL / 'pose'}/cam01_json;{TRIAL / 'pose'}/cam02_json;{TRIAL / 'pose'}/cam03_json;"
                        f"{TRIAL / 'pose'}/cam04_json,60,false\n")
    res = run_session(read_session(manifest), BatchOptions())
    assert statuses(res) == {"a:triangulate": "done", "a:retarget": "done"}
    ref = read_trc(root / "T02" / "mocap" / "T02.trc")
    np.testing.assert_array_equal(read_trc(tmp_path / "mocap_batch" / "a" / "a.trc").positions, ref.positions)


def test_bad_session_and_config_are_one_line_errors(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "nowhere")]) == 2
    assert "no such session folder" in capsys.readouterr().err
    root = make_session(tmp_path / "s", n=1, corrupt=None)
    cfg = tmp_path / "defaults.toml"
    cfg.write_text("[triangulate]\nsmoth = true\n")
    assert main(["batch", str(root), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "defaults.toml" in err and "unknown option triangulate.smoth" in err
    cfg.write_text('[retarget]\nformats = ["bvh", "obj"]\n')  # a bad value: each trial reported, nothing run
    assert main(["batch", str(root), "--config", str(cfg)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "T01: retarget.formats: '.obj' is not an animation format; known: .bvh, .glb, .gltf, .fbx" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["batch", str(empty)]) == 2
    assert "no trials found" in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_stops_cleanly_and_a_rerun_finishes(sig, tmp_path):
    """SIGTERM (or Ctrl-C) mid-session: exit 128 + the signal, no temporary file left, a rerun finishes the rest.
    (A handler that raised could land inside threading's lock code and exit 1 with 'release unlocked lock'.)"""
    root = make_session(tmp_path / "s", n=6, corrupt=None)
    proc = subprocess.Popen([sys.executable, "-m", "mocap.cli", "batch", str(root), "-q"], stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(root.glob("*/mocap/.mocap/triangulate.json")):
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert not list(root.rglob(".*.tmp*")) and not list(root.rglob(".pose.tmp*"))
    done = statuses(run_session(read_session(root), BatchOptions(jobs=2)))
    assert any(v == "up to date" for v in done.values()) and all(v in ("done", "up to date") for v in done.values())


@pytest.mark.video
@pytest.mark.lift
@pytest.mark.view
@pytest.mark.slow
def test_one_camera_trial_detects_lifts_retargets_and_previews_like_the_single_commands(tmp_path):
    """A trial with one video: detect -> lift -> retarget -> preview; the same files as ``mocap detect``,
    ``mocap lift`` (the video's size and rate) and ``mocap convert``."""
    from mocap.io.motion import load_motion

    video = TRIAL / "videos" / "cam01.mp4"
    root = tmp_path / "s"
    (root / "walk" / "videos").mkdir(parents=True)
    shutil.copy(video, root / "walk" / "videos" / "cam01.mp4")
    (root / "mocap.toml").write_text('[batch]\nstages = ["detect", "lift", "retarget", "preview"]\n')
    res = run_session(read_session(root), BatchOptions())
    assert statuses(res) == {f"walk:{s}": "done" for s in ("detect", "lift", "retarget", "preview")}, \
        [t.error for t in res.tasks]
    ref = tmp_path / "ref"
    assert main(["detect", str(video), "-o", str(ref / "cam01.npz"), "-q"]) == 0
    assert main(["lift", str(ref / "cam01.npz"), "-o", str(ref / "walk.trc"), "--width", "1080", "--height", "1920",
                 "-q"]) == 0
    out = root / "walk" / "mocap"
    a, b = load_motion(out / "walk.trc"), load_motion(ref / "walk.trc")
    assert a.n_frames == b.n_frames == 100 and a.fps == b.fps == 60
    np.testing.assert_allclose(a.positions, b.positions, rtol=0, atol=1e-5)  # metres: 0.01 mm (1 vs 2 threads, TRC rounding)
    assert read_bvh(out / "walk.bvh").n_frames == 100
    import cv2

    cap = cv2.VideoCapture(str(out / "walk_preview.mp4"))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, img = cap.read()
    cap.release()
    assert n == 100 and ok and img.std() > 5  # a picture, not a blank frame
