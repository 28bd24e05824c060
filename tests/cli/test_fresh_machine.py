"""What a new user sees first: `mocap demo` prints no third-party log lines, its preview's 3D panel
shows the person large (rendered, or drawn when no renderer runs), open3d imports without a system
libusb, and `--verbose` brings the hidden lines back."""
import os
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import ROOT, need

DEMO = ROOT / "mocap" / "data" / "demo"
# TF Lite ("INFO: Created TensorFlow Lite XNNPACK delegate"), absl/glog ("W0000 00:00:... file.cc:114]",
# "WARNING: All log messages before absl::InitializeLog()"), Open3D/GLFW, Python warnings
NOISE = re.compile(r"TensorFlow Lite|XNNPACK|absl|^[IWEF]\d{4} |\.cc:\d+\]|GLFW|\[Open3D|XDG_RUNTIME_DIR|"
                   r"Warning:|DeprecationWarning|UserWarning", re.M)
pytestmark = [pytest.mark.video, pytest.mark.view, pytest.mark.slow]
PANEL = 540  # px, the preview's 3D panel is the right-hand PANEL x PANEL square


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "mocap.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=600)


def skeleton_pixels(panel: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool: coloured (left blue / right red) or bright (midline) pixels of a BGR panel; the
    background (~30 grey) and the floor grid (<= 90 grey) are neither."""
    p = panel.astype(int)
    return (p.max(-1) - p.min(-1) > 40) | (p.max(-1) > 110)


def panel_stats(video):
    """Per frame: share of the 3D panel covered by the skeleton, its box height / panel and its box
    centre's horizontal offset from the panel centre / panel."""
    cap = cv2.VideoCapture(str(video))
    cover, height, offset = [], [], []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        m = skeleton_pixels(frame[:, -PANEL:])
        ys, xs = np.nonzero(m)
        cover.append(m.mean())
        height.append((ys.max() - ys.min()) / PANEL if len(ys) else 0.0)
        offset.append(abs((xs.max() + xs.min()) / 2 - PANEL / 2) / PANEL if len(xs) else 1.0)
    return np.array(cover), np.array(height), np.array(offset)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    r = run_cli("demo", "-o", out)
    return r, out


def test_demo_prints_no_third_party_lines(demo_run):
    r, out = demo_run
    assert r.returncode == 0, r.stderr
    noise = NOISE.findall(r.stdout + r.stderr)
    assert not noise, (noise, r.stderr)
    assert "wrote" in r.stdout and all((out / f).exists() for f in ("out.bvh", "demo.bvh", "demo.glb"))


def test_demo_preview_shows_the_rendered_skeleton_large_in_every_frame(demo_run):
    _, out = demo_run
    cover, height, offset = panel_stats(out / "preview.mp4")
    print(f"3D panel: skeleton covers {100 * cover.min():.1f}-{100 * cover.max():.1f} % of the pixels, "
          f"box height >= {100 * height.min():.0f} %, centre offset <= {100 * offset.max():.0f} %")
    assert len(cover) == 100
    assert cover.min() >= 0.05
    assert height.min() >= 0.5 and offset.max() <= 0.15
    cap = cv2.VideoCapture(str(out / "preview.mp4"))
    _, frame = cap.read()
    # rendered by open3d (its bluish background, a shaded floor grid), not the drawn fallback (flat 30 grey)
    corner = frame[5:25, -25:-5].reshape(-1, 3).mean(0)
    assert corner[0] > corner[2] + 2, corner


def test_drawn_fallback_panel_follows_the_pelvis(tmp_path):
    """Without a renderer the drawn panel keeps the person large and centred even when they walk
    far across the room (the panel follows the pelvis; it does not fit the whole trajectory)."""
    from mocap.io.motion import load_motion
    from mocap.viz.preview import write_preview
    from mocap.retarget.solve import retarget

    m = load_motion(need(ROOT / "tests" / "data" / "mocap" / "cmu_131" / "scaled_131_01.bvh"))
    anim = retarget(m, "mixamo")
    _, P = anim.global_transforms()
    P = P[::4]  # 30 fps: start, walk several metres, stop
    assert np.ptp(P[:, 0, [0, 2]], axis=0).max() > 2.0
    kp = np.full((len(P), 33, 3), np.nan)
    from mocap.core.skeletons import MEDIAPIPE_33
    video = tmp_path / "v.mp4"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    for _ in range(len(P)):
        w.write(np.full((240, 320, 3), 60, np.uint8))
    w.release()
    write_preview(video, tmp_path / "p.mp4", kp, MEDIAPIPE_33, P3d=P, sk3d=anim.to_motion().skeleton, fps=30.0, solid=False)
    cover, height, offset = panel_stats(tmp_path / "p.mp4")
    print(f"drawn panel: cover >= {100 * cover.min():.1f} %, height {100 * height.min():.0f}-{100 * height.max():.0f} % "
          f"(median {100 * np.median(height):.0f} %), offset <= {100 * offset.max():.0f} %")
    assert len(cover) == len(P)
    # this subject is 1.5 m tall and crouches to hop: the box is >= 40 % of the panel even then
    assert cover.min() >= 0.035 and np.median(height) >= 0.6 and height.min() >= 0.4 and offset.max() <= 0.15


def test_verbose_shows_the_hidden_lines(tmp_path):
    quiet = run_cli("detect", DEMO / "cam01.mp4", "-o", tmp_path / "k.npz", "-q")
    loud = run_cli("detect", DEMO / "cam01.mp4", "-o", tmp_path / "k2.npz", "-q", "--verbose")
    assert quiet.returncode == 0 and loud.returncode == 0
    assert not NOISE.search(quiet.stderr) and "XNNPACK" in loud.stderr


def test_open3d_loads_with_the_wheel_libusb():
    """open3d links libusb-1.0, absent on a fresh Debian: mocap.runtime provides it from the
    libusb-package wheel when the system has none, and a headless render works."""
    code = ("import mocap.runtime as r; p = r.preload_libusb(); o3d = r.import_open3d(); print(p)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(("libusb-1.0.so", "libusb-1.0.so.0"))
    assert not NOISE.search(r.stdout + r.stderr)
