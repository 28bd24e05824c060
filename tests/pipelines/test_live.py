"""`mocap live` against a real OSC server on loopback: every processed frame is sent, what arrives rebuilds the
recorded BVH, SIGTERM keeps the recording, bad sources and absent receivers are said clearly."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from conftest import ROOT, TRIAL, need
from mocap.cli.main import main

pytest.importorskip("ai_edge_litert")
pytest.importorskip("torch")
pytest.importorskip("pythonosc")
pytestmark = [pytest.mark.video, pytest.mark.lift, pytest.mark.slow]
DEMO = ROOT / "mocap" / "data" / "demo" / "cam01.mp4"  # 100 frames, 60 fps, 1088 x 1920


class Receiver:
    """python-osc's UDP server on 127.0.0.1 (a free port) in a thread; VMC frames collected as they come
    (a frame ends with its /VMC/Ext/T)."""

    def __init__(self):
        from pythonosc.dispatcher import Dispatcher
        from pythonosc.osc_server import BlockingOSCUDPServer

        self.frames, self._bones, self.addresses = [], {}, set()
        d = Dispatcher()
        d.set_default_handler(self._on)
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), d)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def _on(self, address, *args):
        self.addresses.add(address)
        if address == "/VMC/Ext/Bone/Pos":
            self._bones[args[0]] = np.array(args[1:8], float)
        elif address == "/VMC/Ext/T":
            self.frames.append((float(args[0]), self._bones))
            self._bones = {}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def rebuild(frames, bvh, hands: bool = False):
    """Received frames -> joint positions ``(N, J, 3)`` m: the decoded local rotations and hips position put
    on the rig the recording describes (its rest offsets; finger bones with ``hands``), forward kinematics; and each
    frame's BVH index."""
    from mocap.io.vmc import HUMAN_BODY_BONES, from_unity_quaternions, to_unity_positions
    from mocap.retarget.rigs import get_rig, roles as rig_roles
    from mocap.retarget.solve import Retargeted

    roles = [r for r, _ in rig_roles(hands)]
    offsets = bvh.offsets / 100.0  # cm -> m, ROLES order (end sites included)
    local = np.tile(np.eye(3), (len(frames), len(roles), 1, 1))
    root = np.zeros((len(frames), 3))
    for k, (_, bones) in enumerate(frames):
        for j, r in enumerate(roles):
            if r in HUMAN_BODY_BONES:
                v = bones[HUMAN_BODY_BONES[r]]
                local[k, j] = from_unity_quaternions(v[3:])
                if r == "pelvis":
                    root[k] = to_unity_positions(v[:3]) - offsets[j]
    anim = Retargeted(get_rig("mixamo"), local, root, offsets, bvh.fps, None, np.zeros(local.shape[:2], bool))
    t = np.array([f[0] for f in frames])
    return anim.global_transforms()[1], np.round((t - t.min()) * bvh.fps).astype(int)


def test_every_frame_sent_and_the_stream_rebuilds_the_recording(receiver, tmp_path, capsys):
    from mocap.io.bvh import read_bvh
    from mocap.io.vmc import HUMAN_BODY_BONES
    from mocap.retarget.rigs import ROLES

    out = tmp_path / "live.bvh"
    rc = main(["live", str(need(DEMO)), "--vmc", f"127.0.0.1:{receiver.port}", "--record", str(out), "--as-fast"])
    text = capsys.readouterr().out
    print(text)
    assert rc == 0
    time.sleep(0.3)
    frames = receiver.frames
    assert len(frames) == 100 and "100 processed, 0 dropped, 100 packets sent" in " ".join(text.split())
    assert receiver.addresses == {"/VMC/Ext/Root/Pos", "/VMC/Ext/Bone/Pos", "/VMC/Ext/OK", "/VMC/Ext/T"}
    body = {HUMAN_BODY_BONES[r] for r, _ in ROLES if r in HUMAN_BODY_BONES}  # no finger bones without --hands
    assert len(body) == 22 and all(set(b) == body for _, b in frames)
    bvh = read_bvh(out)
    assert bvh.n_frames == 100 and abs(bvh.fps - 60) < 0.01
    P, idx = rebuild(frames, bvh)
    _, G = bvh.global_transforms()
    err = np.linalg.norm(P - G[idx] / 100.0, axis=-1)
    print(f"received vs recorded: worst {1000 * err.max():.4f} mm over {len(frames)} frames")
    assert err.max() < 1e-3
    assert not [p for p in tmp_path.iterdir() if p.name != "live.bvh"]
    # the skeleton moves like a person: bones of the recording constant, the hips within a few metres
    assert np.ptp(G[:, 0] / 100.0, axis=0).max() < 3.0


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """12 s at 30 fps, 1280 x 720: one person (the Pose2Sim subject, played back and forth)."""
    from mocap.testing.composite import SUBJECT_STRIPS, Strip, make_clip
    path = tmp_path_factory.mktemp("live") / "walk720.mp4"
    return make_clip(path, [Strip(need(TRIAL / "videos" / "cam01.mp4"), *SUBJECT_STRIPS[1])],
                     np.full((360, 1), 460.0), size=(1280, 720), fps=30.0).path


def test_sigterm_mid_stream_keeps_the_recording_up_to_the_last_frame_sent(receiver, long_clip, tmp_path):
    from mocap.io.bvh import read_bvh

    out = tmp_path / "rec.bvh"
    proc = subprocess.Popen([sys.executable, "-m", "mocap.cli.main", "live", str(long_clip), "--vmc",
                             f"127.0.0.1:{receiver.port}", "--record", str(out), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.time() + 60
    while len(receiver.frames) < 45 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    time.sleep(0.2)
    print(stdout, stderr)
    assert proc.returncode == 0 and "Traceback" not in stderr
    bvh = read_bvh(out)
    t = np.array([f[0] for f in receiver.frames])
    assert 45 <= len(t) < 360
    assert bvh.n_frames == int(round((t.max() - t.min()) * 30)) + 1  # every frame up to the last one sent
    P, idx = rebuild(receiver.frames, bvh)
    _, G = bvh.global_transforms()
    assert np.linalg.norm(P - G[idx] / 100.0, axis=-1).max() < 1e-3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.bvh"]  # no temporary file left


def test_realtime_source_drops_rather_than_lags(long_clip, tmp_path, capsys):
    """At the clip's own 30 fps nothing piles up: frames the machine cannot take are dropped and counted, and
    captured = processed + dropped + those still in the chain when it stopped: at most one per stage (the newest in
    the source's slot, one under detection, one detected and waiting for the pose stage)."""
    from mocap.pipelines.options import LiveOptions
    from mocap.pipelines.live import run_live

    res = run_live(LiveOptions(long_clip, vmc=None, max_seconds=6.0))
    s = res.latency_summary()
    print(f"captured {res.captured}, processed {res.processed}, dropped {res.dropped}; latency median "
          f"{s['total'][0]:.0f} ms, p95 {s['total'][1]:.0f} ms; stages " +
          ", ".join(f"{k} {m:.1f}" for k, (m, _) in s.items() if k != "total"))
    assert res.processed > 0 and 0 <= res.captured - res.processed - res.dropped <= 3
    assert s["total"][0] < 1000.0  # a backlog would grow to seconds


def test_bad_sources_and_an_absent_receiver(tmp_path, capsys):
    bad = tmp_path / "not_a_video.mp4"
    bad.write_text("hello")
    cases = [([str(tmp_path / "missing.mp4")], "no such file"), ([str(bad)], "cannot open"),
             ([str(DEMO), "--vmc", "localhost:port"], "HOST:PORT"), ([str(DEMO), "--record", "x.trc"], ".bvh")]
    for argv, cause in cases:
        try:
            rc = main(["live"] + argv + ["-q"])
        except SystemExit as e:  # the options checked by the parser, as every command's
            rc = e.code
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and err[0].startswith("error: ") and cause in err[0], err
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc = main(["live", str(DEMO), "--vmc", f"127.0.0.1:{port}", "--frames", "20", "--as-fast"])
    out = " ".join(capsys.readouterr().out.split())
    print(out)
    assert rc == 0 and "nothing is listening at 127.0.0.1" in out


def test_blender_addon_zip(tmp_path, capsys):
    import zipfile
    assert main(["blender-addon", "-o", str(tmp_path / "mocap_vmc.zip"), "-q"]) == 0
    with zipfile.ZipFile(tmp_path / "mocap_vmc.zip") as z:
        assert z.namelist() == ["mocap_vmc/__init__.py"]
        assert "bl_info" in z.read("mocap_vmc/__init__.py").decode()
    assert main(["blender-addon", "-o", str(tmp_path / "addon.txt"), "-q"]) == 2
    assert not (tmp_path / "addon.txt").exists()
    if os.name == "posix":
        assert (tmp_path / "mocap_vmc.zip").stat().st_size > 1000


@pytest.mark.bpy
def test_live_into_the_blender_addon(tmp_path):
    """`mocap live` streaming into the Blender add-on's receiver (loaded in bpy): the armature, imported from the
    rig the run recorded, takes the last pose sent, bone heads within 1 cm of the recording's last frame."""
    import importlib.util

    bpy = pytest.importorskip("bpy")
    from conftest import FILE_TO_BLENDER
    from mocap.cli.live import ADDON
    from mocap.io.bvh import read_bvh
    from mocap.pipelines.options import LiveOptions
    from mocap.pipelines.live import run_live

    spec = importlib.util.spec_from_file_location("mocap_vmc_live", ADDON / "__init__.py")
    addon = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(addon)
    rx = addon.Receiver("127.0.0.1", 0)
    port = rx.sock.getsockname()[1]
    try:
        res = run_live(LiveOptions(need(DEMO), vmc=("127.0.0.1", port), record=tmp_path / "take.bvh", units="m",
                                   realtime=False, max_frames=12))
        assert res.sent == 12 and res.recorded_frames == 12
        time.sleep(0.2)
        bones = rx.poll()
        assert rx.frames == 12 and rx.errors == 0 and len(bones) == 22
    finally:
        rx.close()
    bvh = read_bvh(tmp_path / "take.bvh")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_anim.bvh(filepath=str(tmp_path / "take.bvh"), global_scale=1.0, axis_forward="-Z", axis_up="Y")
    arm = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    arm.animation_data_clear()
    for pb in arm.pose.bones:  # back to the rest pose (T-pose) before the stream poses it
        pb.rotation_mode = "QUATERNION"
        pb.rotation_quaternion, pb.location = (1, 0, 0, 0), (0, 0, 0)
    addon.apply_pose(arm, bones)
    bpy.context.view_layer.update()
    _, G = bvh.global_transforms()
    worst = max(float(np.linalg.norm(np.array(arm.matrix_world @ arm.pose.bones[name].head)
                                     - FILE_TO_BLENDER @ G[-1, j])) for j, name in enumerate(bvh.names)
                if name in arm.pose.bones)
    print(f"live -> Blender add-on: last pose within {1000 * worst:.3f} mm of the recording")
    assert worst < 0.01


def test_live_holds_planted_feet(long_clip, tmp_path):
    """`--contacts auto` (the default): after the first second, the causal foot lock takes a planted ankle's movement
    in depth out of the root. The same frames of the same clip with and without it: the recorded ankles slide at
    most 0.7 x as much where they are planted; the pose itself is not touched (the rig's local rotations equal)."""
    from mocap.io.motion import load_motion
    from mocap.io.bvh import read_bvh
    from mocap.lift.joints import joints_from_motion
    from mocap.pipelines.options import LiveOptions
    from mocap.pipelines.live import run_live
    from mocap.smooth.contacts import foot_slide

    runs = {}
    for contacts in (True, False):
        out = tmp_path / f"c{contacts}.bvh"
        res = run_live(LiveOptions(long_clip, vmc=None, record=out, realtime=False,
                                   contacts="auto" if contacts else "off"))
        runs[contacts] = (res, out)
    res = runs[True][0]
    assert res.planted and runs[False][0].planted == []
    frames = np.rint(np.array([t for t, _ in res.planted]) * 30.0).astype(int)
    planted = np.zeros((read_bvh(runs[True][1]).n_frames, 2), bool)
    planted[frames] = np.stack([p for _, p in res.planted])
    print("planted share", res.planted_pct)
    assert 20 <= min(res.planted_pct.values()) and max(res.planted_pct.values()) <= 90
    slide = {}
    for contacts, (_, out) in runs.items():
        J = joints_from_motion(load_motion(out))
        slide[contacts] = 1000 * np.nanmedian(foot_slide(J[:, [5, 6]], planted, (np.array([0.0, 1.0, 0.0]), 0.0)))
    print(f"live slide of planted ankles: {slide[False]:.1f} -> {slide[True]:.1f} mm per frame")
    assert slide[True] <= 0.7 * slide[False]
    np.testing.assert_allclose(read_bvh(runs[True][1]).values[:, 6:], read_bvh(runs[False][1]).values[:, 6:], atol=1e-6)


def test_live_records_glb_as_it_records_bvh(tmp_path):
    """``--record out.glb``: the same poses as the BVH recording of the same run, as glTF (one node per joint)."""
    import pygltflib
    from scipy.spatial.transform import Rotation

    from mocap.io.bvh import read_bvh

    for name in ("r.bvh", "r.glb"):
        assert main(["live", str(need(DEMO)), "--vmc", "none", "--record", str(tmp_path / name), "--as-fast",
                     "--frames", "20", "-q"]) == 0
    bvh, doc = read_bvh(tmp_path / "r.bvh"), pygltflib.GLTF2.load(str(tmp_path / "r.glb"))
    R, _ = bvh.local_transforms()
    blob = doc.binary_blob()
    nodes = [n.name for n in doc.nodes]
    for ch in doc.animations[0].channels[:5]:  # rotations of the first joints, every frame
        acc = doc.accessors[doc.animations[0].samplers[ch.sampler].output]
        q = np.frombuffer(blob, np.float32, acc.count * 4, doc.bufferViews[acc.bufferView].byteOffset + acc.byteOffset)
        got = Rotation.from_quat(q.reshape(-1, 4)).as_matrix()
        j = bvh.names.index(nodes[ch.target.node])
        assert len(got) == len(R) and np.abs(got - R[:, j]).max() < 1e-5


def test_live_hands_send_finger_bones_that_move(receiver, tmp_path, capsys):
    """``--hands``: the 30 finger bones go out with the body's in every frame, the recording equals what was sent,
    and the fingers move as the hand model sees them (the index finger's middle joint bends over a range)."""
    from mocap.io.bvh import read_bvh
    from mocap.io.vmc import HUMAN_BODY_BONES

    out = tmp_path / "hands.bvh"
    assert main(["live", str(need(DEMO)), "--vmc", f"127.0.0.1:{receiver.port}", "--record", str(out), "--as-fast",
                 "--hands"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    print(text[text.find("fingers from"):][:200])
    assert "fingers from the hand landmark model's own 3D points on the lifted wrists" in text
    time.sleep(0.3)
    frames = receiver.frames
    assert len(frames) == 100 and all(set(b) == set(HUMAN_BODY_BONES.values()) for _, b in frames)  # 22 + 30 bones
    bvh = read_bvh(out)
    assert sum(n.startswith("mixamorig:LeftHand") and n[-1] in "123" for n in bvh.names) == 15
    P, idx = rebuild(frames, bvh, hands=True)
    _, G = bvh.global_transforms()
    err = np.linalg.norm(P - G[idx] / 100.0, axis=-1)
    assert err.max() < 1e-3  # what was received is what was recorded, fingers included
    names = list(bvh.names)
    for side in ("Left", "Right"):
        a, b, c = (G[:, names.index(f"mixamorig:{side}HandIndex{k}")] for k in (1, 2, 3))
        u, v = b - a, c - b
        pip = np.degrees(np.arccos(np.clip((u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1),
                                           -1, 1)))
        length = np.linalg.norm(u, axis=-1).mean() / 100.0
        print(f"{side} index: proximal bone {100 * length:.1f} cm, middle joint {np.percentile(pip, 5):.0f}-"
              f"{np.percentile(pip, 95):.0f} deg (p5-p95)")
        assert 0.015 < length < 0.07 and np.percentile(pip, 95) - np.percentile(pip, 5) > 5.0
