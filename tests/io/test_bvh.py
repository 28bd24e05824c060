"""BVH reader/writer against Blender's own importer (bpy), on real clips from several sources (tests/data/mocap)."""
import numpy as np
import pytest

from conftest import CLIPS, FILE_TO_BLENDER, available, blender_joint_positions
from mocap.io.bvh import read_bvh, write_bvh
from mocap.errors import MocapError

pytestmark = pytest.mark.bpy

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
