"""Long recordings refined in overlapping windows (bounded memory) give what one solve over everything gives: the same
bone lengths, floor and contacts, positions within a fraction of a millimetre at the seams, the same accuracy."""
import numpy as np
import pytest

from conftest import ROOT
from mocap.associate.tracks import select_person
from mocap.smooth.refine import Planting, refine
from mocap.smooth.windows import blend_weights, refine_in_windows, windows
from mocap.testing.scenes import SKELETON, real_motion, tail_scene
from mocap.triangulate import triangulate

MOCAP = ROOT / "tests" / "data" / "mocap"


@pytest.fixture(scope="module")
def walk():
    """A real walk (feet planted) seen by 4 cameras with detector-like errors, triangulated: truth, result, views."""
    X = real_motion(MOCAP / "cmu_131" / "scaled_131_01.bvh", 1200)
    rig, data, _ = tail_scene(X, 4, seed=11)
    kp, _ = select_person(data, rig, SKELETON, 60.0, camera_names=list(rig.names))
    res = triangulate(kp, rig)
    views = (rig.undistort(kp.xy), np.where(res.inliers, kp.confidence, 0.0), rig.extrinsics, rig.focals)
    return X, res, views


def test_windows_give_the_answer_of_one_solve(walk):
    X, res, views = walk
    bones, plant = SKELETON.rigid_bone_indices, Planting(tuple(res.motion.foot_joints), (0.0, 0.0, 1.0))
    one = refine(res.motion.positions, bones, 60.0, views=views, plant=plant)
    many = refine_in_windows(res.motion.positions, bones, 60.0, views=views, plant=plant, window=400, overlap=128)
    assert len(windows(1200, 400, 128)) == 4
    np.testing.assert_array_equal(np.isfinite(many.positions), np.isfinite(one.positions))
    d = np.linalg.norm(many.positions - one.positions, axis=-1) * 1000
    print(f"windows vs one solve: mean {np.nanmean(d):.2e} mm, p99 {np.nanpercentile(d, 99):.2e}, "
          f"p99.9 {np.nanpercentile(d, 99.9):.2e}, max {np.nanmax(d):.2e}; planted {one.contacts.mean():.2f}")
    assert np.nanmean(d) < 0.1 and np.nanpercentile(d, 99) < 1.0 and np.nanmax(d) < 10.0
    np.testing.assert_allclose(many.bone_lengths, one.bone_lengths, atol=1e-9)
    assert one.contacts.any() and (many.contacts == one.contacts).mean() > 0.995
    np.testing.assert_allclose(many.floor[1], one.floor[1], atol=1e-3)
    e1, e2 = (np.linalg.norm(r.positions - X, axis=-1) * 1000 for r in (one, many))
    assert np.nanmean(e2) <= np.nanmean(e1) + 0.05
    assert np.nanpercentile(e2, 99.9) <= np.nanpercentile(e1, 99.9) + 1.0


def test_pieces_cover_every_frame_once():
    for T, window, overlap in [(1000, 400, 128), (4097, 4096, 128), (10_000, 4096, 128), (300, 400, 128)]:
        pieces = windows(T, window, overlap)
        weights = blend_weights(pieces, T)
        total = np.zeros(T)
        for p, w in zip(pieces, weights):
            assert p.stop - p.start >= min(T, overlap)
            total[p] += w
        np.testing.assert_allclose(total, 1.0)
        assert pieces[0].start == 0 and pieces[-1].stop == T
        for a, b in zip(pieces, pieces[1:]):
            assert a.stop - b.start == overlap
