"""A long motion retargeted in pieces of time on worker processes (mocap.retarget.pieces) gives the answer of one pass:
the first piece exactly, the others within the last digits (the feet's roll forgets its start over the warm-up)."""
import numpy as np
import pytest

from conftest import available
from mocap.core.motion import Motion3D
from mocap.io.bvh import read_bvh, write_bvh
from mocap.retarget import pieces
from mocap.retarget.solve import retarget
from mocap.workers import processes

PIECE = 700  # frames: the clip below makes 5 pieces


@pytest.fixture(scope="module")
def walk():
    """A real walk (iClone CMU 07_01, 60 fps) played forward and back (2512 frames), the right ankle and toe missing
    for 30 frames across the second seam (held from the frame before, as in one pass)."""
    m = read_bvh(available("cmu_iclone/007/007_01.bvh")).to_motion(0.01, include_end_sites=True)
    order = np.concatenate([np.arange(m.n_frames), np.arange(m.n_frames)[::-1]] * 8)[:3000]
    X = m.positions[order]
    X[1390:1420, [m.names.index(n) for n in m.names if n.lower().startswith(("cc_base_r_foot", "cc_base_r_toe"))]] = np.nan
    return Motion3D(X, m.skeleton, m.fps, up=m.up, joint_names=m.names)


@pytest.fixture(scope="module")
def pool():
    with processes(2) as ex:
        yield ex


@pytest.mark.parametrize("rig,face", [("mixamo", False), ("smpl", True)])
def test_pieces_give_the_answer_of_one_pass(walk, pool, monkeypatch, rig, face, tmp_path):
    monkeypatch.setattr(pieces, "PIECE", PIECE)
    one = retarget(walk, rig, face_forward=face)
    split = retarget(walk, rig, face_forward=face, executor=pool)
    assert split.local.shape == one.local.shape and split.notes == one.notes
    assert np.array_equal(split.local[:PIECE], one.local[:PIECE])  # the first piece has nothing before it
    assert np.array_equal(split.kept, one.kept)
    assert np.abs(split.root - one.root).max() < 1e-9  # metres: the floor from the feet's (rolled) heights
    assert np.abs(split.local - one.local).max() < 1e-7
    _, P1 = one.global_transforms()
    _, P2 = split.global_transforms()
    assert np.abs(P1 - P2).max() * 1000 < 1e-6  # mm
    a, b = one.to_bvh(), split.to_bvh()
    assert np.abs(a.values - b.values).max() < 1e-5  # degrees (and cm)
    write_bvh(b, tmp_path / "serial.bvh")
    write_bvh(b, tmp_path / "split.bvh", executor=pool)
    assert (tmp_path / "split.bvh").read_text() == (tmp_path / "serial.bvh").read_text()
    back = read_bvh(tmp_path / "split.bvh")
    assert back.n_frames == walk.n_frames and np.abs(back.values - a.values).max() < 2e-5


def test_spans_cover_every_frame_once():
    for T in (1, 699, 700, 701, 1049, 1050, 3000):
        got = pieces.spans(T, 700, 120)
        kept = np.concatenate([np.arange(s.start + drop, s.stop) for s, drop in got])
        assert np.array_equal(kept, np.arange(T))
        assert all(drop == (120 if s.start + drop > 0 else 0) or s.start == 0 for s, drop in got)
