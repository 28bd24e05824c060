"""Long recordings: the triangulation runs over blocks of frames (bounded memory), and the blocks give exactly the
answer of one pass over everything, checks included (each block sees the first pass's answers around it and the whole
recording's bone lengths)."""
import numpy as np

from conftest import ROOT
from mocap.associate.tracks import select_person
from mocap.testing.scenes import SKELETON, real_motion, tail_scene
from mocap.triangulate import robust, triangulate

KARATE = ROOT / "tests" / "data" / "mocap" / "extra" / "acrnn_cmu" / "martial" / "05.bvh"


def test_blocks_give_the_answer_of_one_pass(monkeypatch):
    X = real_motion(KARATE, 600, start=4)
    rig, data, _ = tail_scene(X, 4, seed=3, epipolar=0.02, leaks=0.02)
    kp, _ = select_person(data, rig, SKELETON, 60.0, camera_names=list(rig.names))
    one = triangulate(kp, rig)
    monkeypatch.setattr(robust, "CHUNK", 4 * 17 * 37)  # blocks of 37 frames: 17 blocks, seams everywhere
    many = triangulate(kp, rig)
    np.testing.assert_array_equal(np.isfinite(many.motion.positions), np.isfinite(one.motion.positions))
    np.testing.assert_allclose(many.motion.positions, one.motion.positions, atol=1e-9, equal_nan=True)
    np.testing.assert_array_equal(many.inliers, one.inliers)
    np.testing.assert_allclose(many.view_errors, one.view_errors, atol=1e-9, equal_nan=True)
    for k in ("retriangulated", "rejected", "lengths"):
        np.testing.assert_allclose(many.checks[k], one.checks[k], err_msg=k)
    # the checks did something here, so the seams were tested
    assert one.checks["retriangulated"].sum() + one.checks["rejected"].sum() > 10
    e = np.linalg.norm(many.motion.positions - X, axis=-1) * 1000
    assert np.nanpercentile(e, 99.9) < 60.0


def test_progress_counts_both_passes(monkeypatch):
    X = real_motion(KARATE, 120, start=4)
    rig, data, _ = tail_scene(X, 4, seed=1)
    kp, _ = select_person(data, rig, SKELETON, 60.0, camera_names=list(rig.names))
    monkeypatch.setattr(robust, "CHUNK", 4 * 17 * 25)
    seen = []
    triangulate(kp, rig, progress=lambda done, total: seen.append((done, total)))
    assert len(seen) == 2 * 5 and seen[-1] == (2 * 120 * 17, 2 * 120 * 17)
    assert all(a[0] < b[0] for a, b in zip(seen, seen[1:]))
