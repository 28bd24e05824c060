"""Viewer, headless renders and GLB export (open3d offscreen through Mesa's software EGL)."""
from dataclasses import replace

import cv2
import numpy as np
import pytest

from conftest import CALIB, TRIAL, need

from mocap.runtime import import_open3d  # noqa: E402

import_open3d()  # a test dependency: fails loudly (not a skip) when it cannot load, e.g. a missing libusb
pytestmark = pytest.mark.view

from mocap.cli.main import main  # noqa: E402
from mocap.io.motion import load_motion  # noqa: E402
from mocap.io.calibration import read_calibration  # noqa: E402
from mocap.viz.render import BACKGROUND, render_frames  # noqa: E402
from mocap.viz.viewer import Playback, view  # noqa: E402

TRC = TRIAL / "pose-3d" / "S00_P00_T01_BalancingTrial_0-100_filt_butterworth.trc"


@pytest.fixture(scope="module")
def motion():
    return load_motion(need(TRC))


def half_camera(cam):
    """The calibrated camera at half resolution, without distortion (the renderer is a pinhole)."""
    K = cam.K.copy()
    K[:2] *= 0.5
    return replace(cam, K=K, dist=np.zeros(4), size=(cam.size[0] // 2, cam.size[1] // 2))


def test_rendered_joints_land_where_the_camera_projects_them(motion):
    cam = half_camera(read_calibration(CALIB)[0])
    f = 40
    img = next(render_frames([motion], cam, [f], floor=False, lit=False)).astype(int)
    P = motion.to_up("z").positions[f]
    uv = cam.project(P)
    bg = np.round(np.array(BACKGROUND) * 255)
    hits = 0
    for j, (u, v) in enumerate(uv):
        patch = img[int(round(v)) - 2:int(round(v)) + 3, int(round(u)) - 2:int(round(u)) + 3].reshape(-1, 3)
        far_from_bg = np.abs(patch - img[0, 0]).sum(-1) > 60
        assert far_from_bg.all(), motion.skeleton.joints[j]  # skeleton all over the projected joint (+-2 px)
        r, _, b = patch[far_from_bg].mean(0)
        side = motion.skeleton.side(j)
        assert (side < 0 and b > r + 40) or (side > 0 and r > b + 40) or (side == 0 and abs(r - b) < 40), \
            (motion.skeleton.joints[j], r, b)
        hits += 1
    print(f"{hits} joints checked; background {img[0, 0]} (expected about {bg})")
    # background everywhere more than 30 px away from every joint and bone
    mask = np.zeros(img.shape[:2], np.uint8)
    for a, b in motion.skeleton.bone_indices:
        cv2.line(mask, tuple(np.round(uv[a]).astype(int)), tuple(np.round(uv[b]).astype(int)), 255, 60)
    for p in uv:
        cv2.circle(mask, tuple(np.round(p).astype(int)), 30, 255, -1)
    far = img[mask == 0]
    assert (np.abs(far - bg).sum(-1) <= 3).mean() > 0.999


def test_rendered_video_has_every_frame(motion, tmp_path):
    short = replace(motion, positions=motion.positions[:12], confidence=motion.confidence[:12])
    from mocap.io.motion import write_motion
    write_motion(short, tmp_path / "short.trc")
    out = tmp_path / "short.mp4"
    assert main(["render", str(tmp_path / "short.trc"), "-o", str(out), "--size", "320", "240", "-q"]) == 0
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 12 and cap.get(cv2.CAP_PROP_FRAME_WIDTH) == 320


def test_png_through_a_calibrated_camera_and_bad_output(motion, tmp_path, capsys):
    out = tmp_path / "cam.png"
    assert main(["render", str(TRC), "--calib", str(CALIB), "--camera", "cam_02", "--frame", "5", "-o", str(out), "-q"]) == 0
    img = cv2.imread(str(out))
    assert img.shape == (1920, 1088, 3) and (np.abs(img.astype(int) - img[0, 0]).sum(-1) > 60).mean() > 0.002
    assert main(["render", str(TRC), "-o", str(tmp_path / "x.gif"), "-q"]) == 2
    assert "must be .png, .mp4 or .glb" in capsys.readouterr().err
    assert main(["render", str(TRC), "--calib", str(CALIB), "--camera", "nope", "-o", str(out), "-q"]) == 2


def test_glb_holds_the_skeleton(motion, tmp_path):
    import trimesh

    out = tmp_path / "pose.glb"
    assert main(["render", str(TRC), "--frame", "20", "-o", str(out), "-q"]) == 0
    mesh = trimesh.load(out, force="mesh")
    P = motion.positions[20]  # Y-up metres, as glTF
    lo, hi = mesh.bounds
    assert np.all(lo <= P.min(0) + 1e-6) and np.all(hi >= P.max(0) - 1e-6)
    assert np.all(hi - lo < (P.max(0) - P.min(0)) + 0.07)  # no stray geometry beyond the joint radius
    colors = np.unique(mesh.visual.vertex_colors[:, :3], axis=0)
    assert len(colors) >= 3  # left, right, midline


def test_playback_state():
    pb = Playback(10, 10.0)
    assert pb.advance(0.35) and pb.frame == 3
    pb.faster()
    pb.advance(0.25)
    assert pb.frame == 8
    pb.advance(0.2)
    assert pb.frame == 2  # looped
    pb.loop = False
    pb.step(20)
    assert pb.frame == 9 and not pb.playing
    pb.step(-3)
    assert pb.frame == 6 and not pb.advance(1.0)
    assert "frame 7/10" in pb.readout and "paused" in pb.readout


def test_viewer_opens_draws_plays_and_closes(motion):
    lines = []
    pb = view([motion, motion], visible=False, max_updates=25, log=lines.append)
    assert pb.frame > 0 and lines and lines[-1].startswith("frame ")


def test_people_render_with_their_ids(motion, tmp_path, capsys):
    """A multi-person NPZ renders everyone; each ID is written above its person, in its tint."""
    from mocap.io.motion import write_people_npz
    from mocap.viz.scene import TINTS

    other = replace(motion, positions=motion.positions + [0.0, 0.0, 1.2])  # a second person, 1.2 m aside (Y-up)
    write_people_npz([motion, other], [1, 2], tmp_path / "two.npz")
    from mocap.viz.render import auto_camera

    cam = auto_camera([m.to_up("z") for m in (motion, other)])  # frames both
    img = next(render_frames([motion, other], cam, [40], floor=False, lit=False, labels=["p1", "p2"])).astype(int)
    for i, m in enumerate([motion, other]):
        P = m.to_up("z").positions[40]
        top = P[np.nanargmax(P[:, 2])] + [0, 0, 0.15]
        u, v = cam.project(top[None], distort=False)[0]
        box = img[int(v) - 25:int(v) + 5, int(u) - 30:int(u) + 30]
        tint = np.clip(TINTS[i] * 255, 0, 255)
        near = (np.abs(box - tint).max(-1) < 40).sum()
        print(f"p{i + 1}: {near} label pixels in its tint above the head")
        assert near >= 20
    assert main(["render", str(tmp_path / "two.npz"), "-o", str(tmp_path / "two.png"), "-q"]) == 0
    assert cv2.imread(str(tmp_path / "two.png")) is not None
