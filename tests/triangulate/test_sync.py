"""Unsynchronised cameras: offsets found from the people in view (Pose2Sim trial with known shifts, a synthetic
multi-person scene), applied before triangulating, written and read as TOML, and refused where they cannot be told."""
import numpy as np
import pytest

from conftest import CALIB, TRIAL, need
from mocap.cli.main import main
from mocap.io.calibration import read_calibration
from mocap.io.keypoints import keypoint_folders, read_openpose_folders
from mocap.triangulate.sync import apply_offsets, geometric_offsets, motion_offsets, synchronise


def shifted(d: np.ndarray, s: float, pad: int = 30) -> np.ndarray:
    """Camera data ``(T, P, J, 3)`` as if the camera had started ``s`` frames later: frame ``u`` of the result shows
    what frame ``u - pad + s`` showed (linear between frames for a fractional ``s``), in a clip ``2 * pad`` frames
    longer whose ends show nobody. Every camera keeps all it saw, so the trial's own timing is the same in every
    draw; its offset to an unshifted camera becomes ``-s``."""
    T = len(d)
    u = np.arange(T + 2 * pad) - pad + s
    i0 = np.floor(u).astype(int)
    f = (u - i0)[:, None, None, None]
    ok = ((i0 >= 0) & (i0 + 1 < T)) | ((i0 == T - 1) & (f[:, 0, 0, 0] == 0))
    a, b = d[np.clip(i0, 0, T - 1)], d[np.clip(i0 + 1, 0, T - 1)]
    out = np.where(f == 0, a, (1 - f) * a + f * b)
    out[~ok] = np.nan
    out[~ok, ..., 2] = 0.0
    return out


@pytest.fixture(scope="module")
def trial():
    rig = read_calibration(need(CALIB))
    single = read_openpose_folders(keypoint_folders([need(TRIAL / "pose-associated")]), fps=60)
    base = np.array(geometric_offsets([shifted(d, 0) for d in single.data], rig, [60.0] * 4).offsets_frames, float)
    return rig, single, base


INTEGER = [(0, 21, 8, 1), (0, 0, 7, 29), (0, -6, 22, 3), (0, -26, -12, -1), (0, -30, 30, 17)]


def test_pose2sim_integer_shifts(trial):
    """The trial (100 frames at 60 fps, one person balancing) with whole-frame shifts of up to 30 frames per camera:
    every shift recovered exactly (offset against the unshifted trial's own, rounded) on every camera."""
    rig, single, base = trial
    print("unshifted trial's own offsets (frames):", np.round(base, 2))
    for s in INTEGER:
        got = np.array(geometric_offsets([shifted(single.data[c], s[c]) for c in range(4)], rig, [60.0] * 4)
                       .offsets_frames, float) - base
        print(f"shifts {s}: recovered {np.round(-got, 2)}, error {np.round(got + np.array(s), 3)} frames")
        assert (np.floor(got + 0.5) == -np.array(s)).all()


def test_pose2sim_fractional_shifts_and_triangulation(trial):
    """Fractional shifts made by interpolating the 2D tracks: recovered within 0.15 frame on every camera;
    triangulating the shifted views after re-synchronising gives the unshifted trial's (synchronised the same way)
    within 1 mm median."""
    from mocap.core.keypoints import Keypoints2D
    from mocap.triangulate import triangulate
    from mocap.triangulate.sync import SyncResult

    rig, single, base = trial
    rng = np.random.default_rng(3)
    worst = 0.0
    for _ in range(4):
        s = np.r_[0, rng.uniform(-30, 30, 3)]
        res = geometric_offsets([shifted(single.data[c], s[c]) for c in range(4)], rig, [60.0] * 4)
        err = np.array(res.offsets_frames, float) - base + s
        print(f"shifts {np.round(s, 2)}: error {np.round(err, 3)} frames")
        worst = max(worst, float(np.abs(err).max()))
    assert worst < 0.15
    s = (0, 5, -12, 30)
    data = [shifted(single.data[c], s[c]) for c in range(4)]
    res = geometric_offsets(data, rig, [60.0] * 4)
    own = SyncResult(rig.names, "cam_01", [60.0] * 4, list(base / 60.0), [1.0] * 4, "geometric")
    unshifted = [shifted(d, 0) for d in single.data]

    def tri(views, offsets):
        return triangulate(Keypoints2D(apply_offsets(views, offsets)[:, :, 0], single.skeleton, 60), rig).motion.positions

    X0, X1 = tri(unshifted, own), tri(data, res)
    both = np.isfinite(X0).all(-1) & np.isfinite(X1).all(-1)
    d = np.linalg.norm(X1 - X0, axis=-1)[both]
    print(f"triangulated after sync vs unshifted: median {1000 * np.median(d):.3f} mm over {both.sum()} points")
    assert both.sum() > 1000 and np.median(d) < 1e-3


def test_several_people_outliers_and_false_detections():
    """A synthetic scene from real motion (the salsa couple and a walker, 3 people), 4 cameras, 10 % outlier
    joints, false detections, random sub-frame offsets of up to 30 frames: every offset within 0.2 frame.
    The motion method (one dominant person assumed, like Pose2Sim's) is printed beside it."""
    from mocap.testing.scenes import crowd, ring_rig, unsynchronised

    X = crowd(frames=300, fps=60.0, walkers=1)
    rig = ring_rig(4)
    true = np.r_[0, np.random.default_rng(2).uniform(-30, 30, 3)]
    views = unsynchronised(rig, X, true / 60.0, [60.0] * 4, seed=10, outliers=0.10)
    geo = np.array(synchronise(views, rig, [60.0] * 4).offsets_frames, float) - true
    mot = motion_offsets(views, [60.0] * 4, rig.names)
    print(f"true offsets {np.round(true, 2)}; geometric error {np.round(geo, 3)} frames; motion method: "
          f"{[None if o is None else round(o - t, 1) for o, t in zip(mot.offsets_frames, true)]}")
    assert np.abs(geo).max() < 0.2


def test_a_camera_without_motion_or_a_short_clip_gets_no_offset(trial):
    rig, single, _ = trial
    data = [single.data[c].copy() for c in range(4)]
    data[2] = np.repeat(data[2][40:41], len(data[2]), 0)  # cam_03 sees a frozen body
    res = geometric_offsets(data, rig, [60.0] * 4)
    print(res.warnings)
    assert res.offsets_s[2] is None and any(w.startswith("cam_03:") for w in res.warnings)
    assert all(o is not None for c, o in enumerate(res.offsets_s) if c != 2)
    short = geometric_offsets([d[:12] for d in single.data], rig, [60.0] * 4)
    assert short.offsets_s[1:] == [None] * 3 and len(short.warnings) == 3
    assert np.isnan(apply_offsets(data, res)[2, ..., 0]).all()  # left out, never triangulated unsynchronised


def test_cli_sync_writes_offsets_and_triangulate_uses_them(tmp_path, capsys):
    calib = tmp_path / "Calib.toml"
    calib.write_bytes(need(CALIB).read_bytes())
    pose = need(TRIAL / "pose")
    assert main(["sync", "--calib", str(calib), "--keypoints", str(pose), "--fps", "60", "-q"]) == 0
    off = tmp_path / "Calib_offsets.toml"
    from mocap.io.offsets import read_offsets
    doc = read_offsets(off)
    assert [c["name"] for c in doc["cameras"]] == ["cam_01", "cam_02", "cam_03", "cam_04"]
    assert doc["cameras"][0]["offset_s"] == 0.0 and abs(doc["cameras"][1]["offset_s"] * 60) < 0.5
    out = tmp_path / "out.trc"
    assert main(["triangulate", "--calib", str(calib), "--keypoints", str(pose), "--fps", "60", "-o", str(out),
                 "--sync", str(off)]) == 0
    assert "time offsets" in capsys.readouterr().out and out.exists()
    bad = tmp_path / "bad.toml"
    bad.write_text("[sync]\nreference = 3\n")
    rc = main(["triangulate", "--calib", str(calib), "--keypoints", str(pose), "--fps", "60", "-o",
               str(tmp_path / "x.trc"), "--sync", str(bad), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "bad.toml" in err[0] and not (tmp_path / "x.trc").exists()


def test_a_30_fps_camera_beside_60_fps_ones():
    """Three cameras at 60 fps and one at 30 fps (every other moment, its own offset): all offsets found within
    0.2 frame of each camera's own rate."""
    from mocap.testing.scenes import crowd, ring_rig, unsynchronised

    X = crowd(frames=300, fps=60.0, walkers=1)[:2]  # the couple
    rig = ring_rig(4)
    fps = [60.0, 60.0, 60.0, 30.0]
    true_s = np.array([0.0, 0.13, -0.21, 0.27])  # seconds
    views = unsynchronised(rig, X, true_s, fps, seed=20, outliers=0.10)
    res = synchronise(views, rig, fps)
    err = (np.array(res.offsets_s, float) - true_s) * np.array(fps)
    print(f"errors (frames of each camera): {np.round(err, 3)}; confidence {np.round(res.confidence, 2)}")
    assert np.abs(err).max() < 0.2


def test_triangulate_says_when_a_camera_looks_out_of_step(trial, tmp_path):
    """Triangulating with one camera 4 frames late: a note names that camera and suggests `mocap sync`; the
    trial as recorded gets no such note."""
    from mocap.core.keypoints import Keypoints2D
    from mocap.pipelines.options import TriangulationJob
    from mocap.pipelines.multiview import triangulate_job

    rig, single, _ = trial
    job = TriangulationJob(CALIB, [], None, fps=60)
    for s, named in [((0, 0, 0, 0), []), ((0, 0, 0, -4), ["cam_04"])]:
        data = np.stack([shifted(single.data[c], s[c])[:, 0] for c in range(4)])
        notes = [n for n in triangulate_job(Keypoints2D(data, single.skeleton, 60), rig, job).notes if "mocap sync" in n]
        print(s, notes)
        assert [n.split(":")[0] for n in notes] == named


def test_eight_cameras_two_people():
    """The salsa couple (close contact) seen by 8 cameras with 10 % outlier joints and false detections, offsets
    of up to 30 frames: every camera within 0.2 frame."""
    from mocap.testing.scenes import crowd, ring_rig, unsynchronised

    X = crowd(frames=240, fps=60.0, walkers=0)
    rig = ring_rig(8)
    true = np.r_[0, np.random.default_rng(5).uniform(-30, 30, 7)]
    views = unsynchronised(rig, X, true / 60.0, [60.0] * 8, seed=30, outliers=0.10)
    res = synchronise(views, rig, [60.0] * 8, max_offset_s=0.75)
    err = np.array(res.offsets_frames, float) - true
    print(f"8 cameras, 2 people: errors {np.round(err, 3)} frames; {res.warnings}")
    assert np.abs(err).max() < 0.2 and not res.warnings


@pytest.mark.video
@pytest.mark.slow
def test_sync_from_the_videos(tmp_path, capsys):
    """`mocap sync --videos` on the trial's four videos (everyone detected by our detector, MediaPipe's 33 points):
    cam_02 and cam_04 within 0.1 frame of cam_01, as from Pose2Sim's OpenPose JSONs; the container's frame times
    show no dropped frame."""
    from mocap.io.offsets import read_offsets
    from mocap.io.video import dropped_frames, frame_times

    videos = [str(need(TRIAL / "videos" / f"cam0{i}.mp4")) for i in range(1, 5)]
    out = tmp_path / "off.toml"
    assert main(["sync", "--calib", str(need(CALIB)), "--videos", *videos, "-o", str(out), "-q"]) == 0
    off = [c["offset_s"] * c["fps"] for c in read_offsets(out)["cameras"]]
    print("offsets from the videos (frames):", np.round(off, 2))
    assert abs(off[1]) < 0.1 and abs(off[3]) < 0.1
    t = frame_times(videos[0])
    assert len(t) == 100 and np.allclose(np.diff(t), 1 / 60, atol=1e-3) and dropped_frames(t, 60.0) == []
    assert dropped_frames(np.r_[np.arange(10), np.arange(13, 20)] / 30.0, 30.0) == [(10, 3)]  # frames 10-12 lost
