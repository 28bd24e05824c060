from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from mocap.testing.scenes import ring_rig  # noqa: F401 (shared by the tests)

ROOT = Path(__file__).resolve().parents[1]
# Everything `make test` reads is in the repository (tests/data, see its README for sources and licences).
DATA = ROOT / "tests" / "data"
P2S = DATA / "pose2sim"                               # the Pose2Sim demo session, files the tests use
TRIAL = P2S / "trial"                                 # S00_P00_T01_BalancingTrial
CALIB = P2S / "calibration" / "Calib_qualisys.toml"
INTRINSICS = P2S / "calibration" / "intrinsics"       # 28 checkerboard photos
MOCAP = DATA / "mocap"                                # trimmed BVH / DeepMimic / AMP clips, same layout as shared
LIFT_VALIDATION = DATA / "lifter_validation.npz"      # the lifter's validation clips, prepared
# ../shared/data: training data and long experiments, only for tests marked `shared` (make test-shared)
SHARED = ROOT.parent / "shared" / "data"


def need(path: Path) -> Path:
    """A bundled data file: missing means a broken checkout, so the test fails (never skips)."""
    if not path.exists():
        pytest.fail(f"bundled test data missing: {path} (rebuild with tests/data/build.py)")
    return path


def need_shared(path: Path) -> Path:
    """A file under ../shared/data, for tests marked ``shared`` (opt-in: ``make test-shared``)."""
    if not path.exists():
        pytest.skip(f"shared data not found: {path}")
    return path


# BVH clips of several sources and rigs, read by our reader and by Blender's importer
CLIPS = [  # (file, metres per file unit): cgspeed CMU (m, CMU units = 1/0.45 in), DAZ-style salsa, iClone CC_Base (cm, incl. RL_BoneRoot)
    ("cmu_131/scaled_131_01.bvh", 1.0), ("cmu_131/scaled_131_03.bvh", 1.0), ("cmu_131/131_01.bvh", 0.0254 / 0.45),
    ("cmu_salsa/60_01_scaled.bvh", 1.0), ("cmu_salsa/61_01_scaled.bvh", 1.0),
    ("cmu_iclone/001/001_01.bvh", 0.01), ("cmu_iclone/002/002_01.bvh", 0.01), ("cmu_iclone/003/003_01.bvh", 0.01),
    ("cmu_iclone/005/005_01.bvh", 0.01), ("cmu_iclone/007/007_01.bvh", 0.01),
]
# Blender's importer with axis_forward='-Z', axis_up='Y': file (x, y, z) -> Blender (x, -z, y).
FILE_TO_BLENDER = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])


def blender_joint_positions(path, scale, frames):
    """World positions (Blender axes, metres) of every imported bone head at the given 0-based frames,
    as Blender's own BVH importer (bpy) reads the file."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_anim.bvh(filepath=str(path), global_scale=scale, axis_forward="-Z", axis_up="Y",
                            rotate_mode="NATIVE", update_scene_fps=True)
    return bone_heads(bpy, frames)


def bone_heads(bpy, frames):
    """The imported armature's bone heads (world, Blender axes) at the given 0-based frames of its action, by bone
    name; the scene's frame rate; the action's number of frames."""
    arm = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    scene = bpy.context.scene
    first, last = arm.animation_data.action.frame_range
    out = {pb.name: np.zeros((len(frames), 3)) for pb in arm.pose.bones}
    for k, f in enumerate(frames):
        scene.frame_set(int(round(first)) + int(f))
        for pb in arm.pose.bones:
            out[pb.name][k] = np.array(arm.matrix_world @ pb.head)
    return out, scene.render.fps / scene.render.fps_base, int(round(last - first)) + 1


def blender_animation_positions(path, fps, frames):
    """World positions (Blender axes, metres) of every bone head at the given 0-based frames, as Blender's own glTF
    or FBX importer (bpy) reads ``path``; the scene at ``fps`` before importing (glTF keeps seconds). Returns the
    positions by bone name, the scene's frame rate and the number of frames of the imported action."""
    import bpy
    from mocap.io.fbx import blender_import_gltf

    bpy.ops.wm.read_factory_settings(use_empty=True)
    if str(path).lower().endswith(".fbx"):
        bpy.ops.import_scene.fbx(filepath=str(path))
    else:
        blender_import_gltf(bpy, path, fps)
    return bone_heads(bpy, frames)


def available(rel):
    return need(MOCAP / rel)


@contextmanager
def local_ray(cpus: int = 2):
    """A local Ray of ``cpus`` CPUs while the block runs (the test is skipped where Ray is not installed)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=cpus, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def spawned_children(pid: int) -> list[int]:
    """Processes that ``pid`` started with multiprocessing's spawn (a process pool's workers; not its resource
    tracker)."""
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid
                        and b"spawn_main" in (d / "cmdline").read_bytes()):
                    kids.append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return kids


@contextmanager
def killing_first(find, delay: float):
    """While the block runs, a thread kills (SIGKILL) the first process ``find()`` lists ``delay`` s after one first
    appears (the first still alive then); yields the list of what was killed (empty if nothing appeared)."""
    import os
    import signal
    import threading
    import time

    killed, stop = [], threading.Event()

    def killer():
        while not stop.is_set() and not killed:
            if find():
                time.sleep(delay)
                for pid in find():  # those still there after the delay (a short-lived one may have gone)
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        continue
                    killed.append(pid)
                    break
            time.sleep(0.05)

    th = threading.Thread(target=killer)
    th.start()
    try:
        yield killed
    finally:
        stop.set()
        th.join()
