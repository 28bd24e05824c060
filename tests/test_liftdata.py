"""Training data for the monocular lifter: real motion, virtual cameras, augmentation."""
import numpy as np
import pytest

from conftest import SHARED, need
from mocap.liftdata import FLIP, LIFT_BONES, LIFT_JOINTS, Sampler, joints_from_motion, load_clips, look_at, split


@pytest.fixture(scope="module")
def clips():
    return load_clips(need(SHARED / "mocap"))


def test_sources_and_split(clips):
    sources = {c.source for c in clips}
    assert {"cmu_131", "cmu_iclone", "cmu_salsa", "deepmimic", "isaacgym_amp"} <= sources
    train, val = split(clips)
    assert val and train and not {c.name for c in val} & {c.name for c in train}
    assert all(c.name.startswith(("cmu_iclone/007/", "cmu_salsa/61_")) for c in val)
    for c in clips:  # joints are finite, metres, an adult's legs (crawls and rolls included)
        assert np.isfinite(c.joints).all()
        J = c.joints
        leg = np.median(np.linalg.norm(J[:, LIFT_JOINTS.index("left_hip")] - J[:, LIFT_JOINTS.index("left_knee")], axis=-1)
                        + np.linalg.norm(J[:, LIFT_JOINTS.index("left_knee")] - J[:, LIFT_JOINTS.index("left_ankle")], axis=-1))
        assert 0.6 < leg < 1.1, (c.name, leg)
    standing = [c for c in clips if c.name.endswith(("d3d_walk.txt", "humanoid_walk.npy")) or c.source == "cmu_131"]
    assert len(standing) >= 3
    for c in standing:  # Y-up: the head is 1.1-1.9 m above the lowest joint (an ankle) while walking
        h = np.median(c.joints[:, LIFT_JOINTS.index("head"), 1] - c.joints[:, :, 1].min(1))
        assert 1.1 < h < 1.9, (c.name, h)


def test_projections_match_the_cameras(clips):
    s = Sampler(clips, seed=1, focal=1000.0)
    X = s.augment(s.motion_windows(64), train=False)
    R, t, f = s.cameras(64)
    Xc = np.einsum("bij,bwkj->bwki", R, X) + t[:, None, None]
    uv = Xc[..., :2] / Xc[..., 2:3] * 1000.0
    # the same projection through OpenCV, camera by camera
    import cv2
    for b in range(0, 64, 7):
        K = np.array([[1000.0, 0, 0], [0, 1000.0, 0], [0, 0, 1]])
        p, _ = cv2.projectPoints(X[b].reshape(-1, 3), cv2.Rodrigues(R[b])[0], t[b], K, None)
        assert np.abs(p.reshape(uv[b].shape) - uv[b]).max() < 1e-6
    assert (Xc[..., 2] > 0.5).all()  # everyone in front of the camera
    # look_at: the target projects to the image centre
    Rl = look_at(np.array([[0.0, 1.0, 5.0]]), np.array([[0.0, 1.0, 0.0]]), np.zeros(1))
    tgt = Rl[0] @ (np.array([0.0, 1.0, 0.0]) - [0.0, 1.0, 5.0])
    assert np.allclose(tgt[:2], 0) and tgt[2] > 0


def test_augmentation_keeps_bone_ratios_valid(clips):
    s = Sampler(clips, seed=2)
    X = s.motion_windows(256)
    A = s.augment(X.copy(), train=True)
    idx = np.array([[LIFT_JOINTS.index(a), LIFT_JOINTS.index(b)] for a, b in LIFT_BONES])

    def lengths(Y):
        return np.linalg.norm(Y[..., idx[:, 1], :] - Y[..., idx[:, 0], :], axis=-1)

    # body scale 0.85-1.15 times per-bone proportions 0.9-1.1, the same for a left bone and its
    # right twin (bodies stay symmetric); mirroring swaps left and right bones
    pairs = [[j for j, (a, b) in enumerate(LIFT_BONES) if (a, b) == (LIFT_JOINTS[FLIP[LIFT_JOINTS.index(
        LIFT_BONES[i][0])]], LIFT_JOINTS[FLIP[LIFT_JOINTS.index(LIFT_BONES[i][1])]])][0] for i in range(len(LIFT_BONES))]
    L0, L1 = lengths(X), lengths(A)
    f_same, f_swap = L1 / L0, L1 / L0[..., pairs]
    sym = lambda f: np.isclose(f, f[..., pairs], rtol=1e-9).all(-1)  # noqa: E731
    ok = sym(f_same) | sym(f_swap)
    assert ok.all()
    f = np.where(sym(f_same)[..., None], f_same, f_swap)
    assert 0.85 * 0.9 - 1e-9 <= f.min() and f.max() <= 1.15 * 1.1 + 1e-9
    assert (f.std(-1) > 1e-3).mean() > 0.9  # proportions really change, not only the size
    assert np.allclose(f.std(1), 0)  # the same body over the whole window


def test_batches_are_deterministic_and_shaped(clips):
    a = Sampler(clips, seed=5).batch(32)
    b = Sampler(clips, seed=5).batch(32)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    inp, tgt, depth = a
    assert inp.shape == (32, 27, len(LIFT_JOINTS), 3) and tgt.shape == (32, len(LIFT_JOINTS), 3)
    assert np.allclose(depth, tgt[:, 0, 2]) and (depth > 1).all()
    dropped = inp[..., 2] == 0
    assert 0.02 < dropped.mean() < 0.09 and (inp[dropped][:, :2] == 0).all()


def test_keypoint_layouts_map_to_the_lift_joints():
    from mocap.motion import Motion3D
    rng = np.random.default_rng(0)
    m = Motion3D(rng.normal(size=(5, 33, 3)), "mediapipe", 30, up="y")
    J = joints_from_motion(m)  # MediaPipe has no head joint: the head is the centre of the ears
    assert J.shape == (5, len(LIFT_JOINTS), 3)
    np.testing.assert_allclose(J[:, LIFT_JOINTS.index("head")], (m.positions[:, 7] + m.positions[:, 8]) / 2)
    np.testing.assert_allclose(J[:, 0], (m.positions[:, 23] + m.positions[:, 24]) / 2)  # pelvis
