"""One long trial on every worker (mocap.batch.split): the same files as one worker writes, on the local pool and on
a local Ray; short trials and ``split_frames = 0`` stay on one worker.

The trial: the bundled Pose2Sim recording (4 cameras, 100 frames) played forward and back 21 times (2100 frames,
continuous), in one keypoints NPZ of every camera; ``split_frames = 1000`` makes it long. It has 4 blocks of frames
to triangulate and 3 windows to smooth, so each worker gets several pieces; its retargeting is one piece of time
(:data:`mocap.retarget.pieces.PIECE`; ``tests/retarget/test_pieces.py`` splits one), its TRC and BVH lines are
formatted by the workers.
"""
import os
import shutil

import numpy as np
import pytest

from conftest import CALIB, TRIAL, killing_first, local_ray, need, spawned_children
from mocap.batch.engine import BatchOptions, run_session
from mocap.batch.session import read_session
from mocap.errors import MocapError
from mocap.core.keypoints import Keypoints2D
from mocap.io.keypoints import keypoints_extent, read_views, write_keypoints
from mocap.io.motion import read_trc
from mocap.workers import ordered_map

REPEATS = 21


def long_session(root, split_frames: int = 1000, late: int = 0):
    """``root/calibration/Calib.toml`` and ``root/T01/pose/kp.npz`` (2100 frames of 4 cameras; the second camera
    ``late`` frames behind the others)."""
    multi = read_views([need(TRIAL / "pose-associated")])  # one person per view
    kp = multi.single()
    order = np.concatenate([np.arange(kp.n_frames) if k % 2 == 0 else np.arange(kp.n_frames)[::-1] for k in range(REPEATS)])
    data = kp.data[:, order]
    data[1] = np.roll(data[1], late, axis=0)
    long = Keypoints2D(data, kp.skeleton, 60.0, kp.camera_names, np.arange(len(order)))
    (root / "calibration").mkdir(parents=True)
    shutil.copy(need(CALIB), root / "calibration" / "Calib.toml")
    (root / "T01" / "pose").mkdir(parents=True)
    write_keypoints(long, root / "T01" / "pose" / "kp.npz")
    (root / "mocap.toml").write_text(f'[batch]\nstages = ["triangulate", "retarget"]\nsplit_frames = {split_frames}\n')
    return root


def files(root) -> dict[str, bytes]:
    out = root / "T01" / "mocap"
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def workers(res) -> dict[str, int]:
    return {t.stage: t.record["workers"] for t in res.tasks}


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    root = long_session(tmp_path_factory.mktemp("one"))
    res = run_session(read_session(root), BatchOptions(jobs=1))
    assert [t.status for t in res.tasks] == ["done", "done"], [t.error for t in res.tasks]
    assert workers(res) == {"triangulate": 1, "retarget": 1}
    return root


def test_the_trial_is_seen_whole_without_reading_it(one_worker):
    trial = read_session(one_worker).trials[0]
    assert trial.cameras == 4  # one NPZ of every camera is a multi-camera trial, not a one-camera lift
    assert keypoints_extent(trial.keypoints) == (4, 100 * REPEATS)


def test_two_local_workers_write_the_same_files(one_worker, tmp_path):
    root = long_session(tmp_path / "two")
    res = run_session(read_session(root), BatchOptions(jobs=2))
    assert workers(res) == {"triangulate": 2, "retarget": 2}
    got, want = files(root), files(one_worker)
    assert sorted(got) == sorted(want) == ["T01.bvh", "T01.trc", "T01_quality.png"]
    assert got["T01.trc"] == want["T01.trc"] and got["T01.bvh"] == want["T01.bvh"]
    motion = read_trc(root / "T01" / "mocap" / "T01.trc")
    assert motion.n_frames == 100 * REPEATS and np.isfinite(motion.positions).all(-1).mean() > 0.9


def test_a_killed_piece_process_reruns_the_task(one_worker, tmp_path):
    root = long_session(tmp_path / "killed")
    def pieces():  # the processes of the split task's own pool: grandchildren of this one
        return [g for w in spawned_children(os.getpid()) for g in spawned_children(w)]

    with killing_first(pieces, delay=1.0) as killed:
        res = run_session(read_session(root), BatchOptions(jobs=2))
    assert killed
    tri = next(t for t in res.tasks if t.stage == "triangulate")
    assert tri.status == "done" and tri.attempts == 2, (tri.status, tri.attempts, tri.error)
    assert files(root)["T01.trc"] == files(one_worker)["T01.trc"]


def test_below_split_frames_or_with_zero_one_worker_each(tmp_path):
    for name, split in (("short", 5000), ("never", 0)):
        res = run_session(read_session(long_session(tmp_path / name, split)), BatchOptions(jobs=2))
        assert workers(res) == {"triangulate": 1, "retarget": 1}, name


@pytest.mark.slow
def test_ray_workers_write_the_same_files(one_worker, tmp_path):
    with local_ray(2):
        root = long_session(tmp_path / "ray")
        res = run_session(read_session(root), BatchOptions(jobs=2, ray="local"))
    assert workers(res) == {"triangulate": 2, "retarget": 2}
    assert files(root)["T01.trc"] == files(one_worker)["T01.trc"]
    assert files(root)["T01.bvh"] == files(one_worker)["T01.bvh"]


def test_ordered_map_keeps_order_and_bounds_what_is_pending():
    from concurrent.futures import ThreadPoolExecutor

    submitted = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn, *args):
            submitted.append(args[0])
            return super().submit(fn, *args)

    seen = []
    with Counting(2) as pool:
        for x in ordered_map(lambda v: v * v, range(50), pool, ahead=3):
            seen.append(x)
            assert len(submitted) - len(seen) <= 3  # never more than `ahead` pieces waiting
    assert seen == [v * v for v in range(50)]
    assert list(ordered_map(str, range(5))) == ["0", "1", "2", "3", "4"]


def test_a_bad_split_frames_is_the_trials_error(tmp_path):
    root = long_session(tmp_path / "bad", split_frames=1000)
    (root / "mocap.toml").write_text('[batch]\nsplit_frames = -5\n')
    trial = read_session(root).trials[0]
    assert trial.error and "batch.split_frames must be a whole number of frames >= 0" in trial.error


def test_the_command_spreads_a_long_recording_over_processes_with_the_same_answer(tmp_path):
    """``mocap triangulate --workers N`` (default 0: every core from 10 000 frames): the same file as one process."""
    from mocap.pipelines.multiview import run_triangulation
    from mocap.pipelines.options import TriangulationJob

    root = long_session(tmp_path / "cli", late=3)
    calib, kp = root / "calibration" / "Calib.toml", root / "T01" / "pose" / "kp.npz"
    notes = {n: run_triangulation(TriangulationJob(calib, [kp], tmp_path / f"w{n}.trc", smooth=True, workers=n)).notes
             for n in (1, 2)}
    assert (tmp_path / "w1.trc").read_bytes().split(b"\n", 1)[1] == (tmp_path / "w2.trc").read_bytes().split(b"\n", 1)[1]
    # the timing check (run beside the windows' refinement when they go to processes): the same notes, in order
    assert notes[1] == notes[2]
    late = [n for n in notes[1] if "out of step" in n]
    assert len(late) == 1 and late[0].startswith("cam_02"), notes[1]
    with pytest.raises(MocapError, match="workers"):
        TriangulationJob(calib, [kp], workers=-1)
