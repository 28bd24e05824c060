"""BVH reader/writer against Blender's own importer (bpy), on real clips from several sources (tests/data/mocap)."""
import numpy as np
import pytest

from conftest import MOCAP, need
from mocap.io.bvh import read_bvh, write_bvh
from mocap.errors import MocapError

bpy = pytest.importorskip("bpy")

CLIPS = [  # (file, metres per file unit): cgspeed CMU (m, CMU units = 1/0.45 in), DAZ-style salsa, iClone CC_Base (cm, incl. RL_BoneRoot)
    ("cmu_131/scaled_131_01.bvh", 1.0), ("cmu_131/scaled_131_03.bvh", 1.0), ("cmu_131/131_01.bvh", 0.0254 / 0.45),
    ("cmu_salsa/60_01_scaled.bvh", 1.0), ("cmu_salsa/61_01_scaled.bvh", 1.0),
    ("cmu_iclone/001/001_01.bvh", 0.01), ("cmu_iclone/002/002_01.bvh", 0.01), ("cmu_iclone/003/003_01.bvh", 0.01),
    ("cmu_iclone/005/005_01.bvh", 0.01), ("cmu_iclone/007/007_01.bvh", 0.01),
]
# Blender's importer with axis_forward='-Z', axis_up='Y': file (x, y, z) -> Blender (x, -z, y).
FILE_TO_BLENDER = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])


def blender_joint_positions(path, scale, frames):
    """World positions (Blender axes, metres) of every imported bone head at the given 0-based frames."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_anim.bvh(filepath=str(path), global_scale=scale, axis_forward="-Z", axis_up="Y",
                            rotate_mode="NATIVE", update_scene_fps=True)
    arm = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    scene = bpy.context.scene
    first, last = arm.animation_data.action.frame_range
    out = {pb.name: np.zeros((len(frames), 3)) for pb in arm.pose.bones}
    for k, f in enumerate(frames):
        scene.frame_set(int(round(first)) + int(f))
        for pb in arm.pose.bones:
            out[pb.name][k] = np.array(arm.matrix_world @ pb.head)
    return out, scene.render.fps / scene.render.fps_base, int(round(last - first)) + 1


def available(rel):
    return need(MOCAP / rel)


@pytest.mark.parametrize("rel,scale", CLIPS, ids=[c[0].split("/")[-1] for c in CLIPS])
def test_reader_matches_blender(rel, scale):
    path = available(rel)
    bvh = read_bvh(path)
    motion = bvh.to_motion(scale)
    frames = np.linspace(0, bvh.n_frames - 1, 12).astype(int)
    ref, fps, n = blender_joint_positions(path, scale, frames)
    assert n == bvh.n_frames
    assert abs(fps - bvh.fps) < 0.5
    ours = motion.positions[frames] @ FILE_TO_BLENDER.T
    compared, worst = 0, 0.0
    for j, name in enumerate(motion.names):
        if name in ref:
            d = np.linalg.norm(ours[:, j] - ref[name], axis=-1).max()
            worst = max(worst, d)
            compared += 1
    print(f"{rel}: {compared} joints x {len(frames)} frames, worst {worst * 1000:.4f} mm")
    assert compared >= 0.9 * len(motion.names)
    assert worst < 1e-3  # 1 mm


def test_write_read_round_trip(tmp_path):
    path = available("cmu_131/scaled_131_02.bvh")
    bvh = read_bvh(path)
    write_bvh(bvh, tmp_path / "copy.bvh")
    back = read_bvh(tmp_path / "copy.bvh")
    assert back.names == bvh.names and back.channels == bvh.channels
    np.testing.assert_allclose(back.to_motion(1.0).positions, bvh.to_motion(1.0).positions, atol=1e-5)
    ref, _, n = blender_joint_positions(tmp_path / "copy.bvh", 1.0, [0, n_mid := bvh.n_frames // 2])
    assert n == bvh.n_frames
    ours = bvh.to_motion(1.0).positions[[0, n_mid]] @ FILE_TO_BLENDER.T
    for j, name in enumerate(bvh.to_motion(1.0).names):
        assert np.abs(ours[:, j] - ref[name]).max() < 1e-4


@pytest.mark.parametrize("text,line,cause", [
    ("HIERARCHY\nROOT A\n{\nOFFSET 0 0\n", 4, "OFFSET needs 3 numbers"),
    ("HIERARCHY\nROOT A\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Wrotation\n}\n", 5, "bad CHANNELS"),
    ("HIERARCHY\nROOT A\n{\nOFFSET 0 0 0\nCHANNELS 1 Xrotation\n}\nMOTION\nFrames: 2\nFrame Time: 0.1\n1\nx\n",
     11, "non-numeric"),
    ("HIERARCHY\nROOT A\n{\nOFFSET 0 0 0\nCHANNELS 1 Xrotation\n}\nMOTION\nFrames: 3\nFrame Time: 0.1\n1\n2\n",
     8, "only 2 frame lines"),
])
def test_malformed_bvh_names_the_line(tmp_path, text, line, cause):
    p = tmp_path / "bad.bvh"
    p.write_text(text)
    with pytest.raises(MocapError) as e:
        read_bvh(p)
    assert str(p) in str(e.value) and f"line {line}:" in str(e.value) and cause in str(e.value), str(e.value)
