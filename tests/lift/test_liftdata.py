"""Training data for the monocular lifter: real motion, virtual cameras, augmentation."""
import numpy as np
import pytest

from conftest import LIFT_VALIDATION, MOCAP, SHARED, need, need_shared
from mocap.lift.data import (CANONICAL_BONES, CANONICAL_STATURE, LIFT_BONES, LIFT_JOINTS, VALIDATION, Sampler, bone_lengths,
                            joints_from_motion, load_clips, look_at, split)


@pytest.fixture(scope="module", params=["bundled", pytest.param("corpus", marks=pytest.mark.shared)])
def clips(request):
    """Every source, trimmed (tests/data/mocap), or the whole training corpus (../shared, opt-in)."""
    return load_clips(need(MOCAP) if request.param == "bundled" else need_shared(SHARED / "mocap"))


def test_sources_and_split(clips):
    """Every source loads in metres with an adult's legs (clips in other units, like animated_drawings'
    dab.bvh with 1.22 m legs, are rescaled at load); the split holds out whole subjects and clips."""
    sources = {c.source for c in clips}
    assert {"cmu_131", "cmu_iclone", "cmu_salsa", "deepmimic", "isaacgym_amp"} <= sources
    train, val = split(clips)
    assert val and train and not {c.name for c in val} & {c.name for c in train}
    assert all(c.name.startswith(VALIDATION) for c in val)
    for c in clips:  # joints are finite, metres, an adult's legs (crawls and rolls included)
        assert np.isfinite(c.joints).all()
        J = c.joints
        leg = np.median(np.linalg.norm(J[:, LIFT_JOINTS.index("left_hip")] - J[:, LIFT_JOINTS.index("left_knee")], axis=-1)
                        + np.linalg.norm(J[:, LIFT_JOINTS.index("left_knee")] - J[:, LIFT_JOINTS.index("left_ankle")], axis=-1))
        assert 0.6 < leg < 1.1, (c.name, leg)
        # the neck as detectors see it: the middle of the shoulders, in every source
        mid = (J[:, LIFT_JOINTS.index("left_shoulder")] + J[:, LIFT_JOINTS.index("right_shoulder")]) / 2
        np.testing.assert_allclose(J[:, LIFT_JOINTS.index("neck")], mid, atol=1e-9)
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
    A = s.augment(s.motion_windows(256), train=True)
    L = bone_lengths(A)  # (B, W, 14)
    limbs = [LIFT_BONES.index(b) for b in LIFT_BONES if b[0] != "pelvis" and b[0] != "neck"]  # rigid in every rig
    ratio = L[..., limbs] / CANONICAL_BONES[limbs]  # stature x per-bone factor
    # a canonical body of stature 1.50-1.95 m, each bone 0.75-1.3 of it (no own-rig share by default)
    assert 1.50 * 0.75 - 1e-6 <= ratio.min() and ratio.max() <= 1.95 * 1.3 + 1e-6
    np.testing.assert_allclose(L[..., limbs].std(1), 0, atol=1e-6)  # the same body over the whole window
    # left and right twins alike (bodies stay symmetric), also after mirroring
    twins = [LIFT_BONES.index(tuple(n.replace("left_", "right_") for n in b)) for b in LIFT_BONES]
    np.testing.assert_allclose(L[..., limbs], L[..., twins][..., limbs], rtol=1e-6)
    assert (ratio[:, 0].std(-1) / ratio[:, 0].mean(-1) > 0.02).mean() > 0.9  # proportions change, not just size
    # every rig's bone lengths, whatever its source, are replaced: the iClone dummy's shins (longer than
    # its thighs) and the salsa rig's narrow shoulders do not reach the network
    V = bone_lengths(Sampler(clips, seed=3).augment(Sampler(clips, seed=3).motion_windows(64), train=False))
    np.testing.assert_allclose(V[..., limbs], np.broadcast_to(CANONICAL_BONES[limbs] * CANONICAL_STATURE,
                                                              V[..., limbs].shape), rtol=1e-6)
    pelvis_hip = [LIFT_BONES.index(("pelvis", "left_hip")), LIFT_BONES.index(("pelvis", "right_hip"))]
    np.testing.assert_allclose(V[..., pelvis_hip], 0.055 * CANONICAL_STATURE, rtol=1e-6)


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
    from mocap.core.motion import Motion3D
    rng = np.random.default_rng(0)
    m = Motion3D(rng.normal(size=(5, 33, 3)), "mediapipe", 30, up="y")
    J = joints_from_motion(m)  # MediaPipe has no head joint: the head is the centre of the ears
    assert J.shape == (5, len(LIFT_JOINTS), 3)
    np.testing.assert_allclose(J[:, LIFT_JOINTS.index("head")], (m.positions[:, 7] + m.positions[:, 8]) / 2)
    np.testing.assert_allclose(J[:, 0], (m.positions[:, 23] + m.positions[:, 24]) / 2)  # pelvis


def test_new_poses_turn_rigid_parts_within_their_limits(clips):
    s = Sampler(clips, seed=4, pose_aug=0.5)
    X, _ = s.motion_windows(400)
    Y = s.new_poses(X.copy())
    changed = np.abs(Y - X).max(axis=(1, 2, 3)) > 1e-9
    assert 0.4 < changed.mean() < 0.6  # the share asked for
    np.testing.assert_allclose(bone_lengths(Y), bone_lengths(X), atol=1e-9)  # every bone keeps its length
    np.testing.assert_array_equal(Y[:, :, 0], X[:, :, 0])  # the pelvis stays

    def angle(A, a, b):
        i, j = LIFT_JOINTS.index(a), LIFT_JOINTS.index(b)
        return A[:, :, j] - A[:, :, i]

    def turned(a, b):
        u, v = angle(X, a, b), angle(Y, a, b)
        cos = (u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
        return np.degrees(np.arccos(np.clip(cos, -1, 1)))

    trunk = turned("pelvis", "neck")
    assert trunk.max() <= 20 + 1e-6 and trunk[changed].mean() > 3
    # the same lean over the whole window: one rotation maps every frame's trunk points onto the new ones
    pts = [LIFT_JOINTS.index(n) for n in ("neck", "head", "left_shoulder", "right_shoulder")]
    for b in np.flatnonzero(changed)[:20]:
        P = (X[b][:, pts] - X[b][:, :1]).reshape(-1, 3)
        Q = (Y[b][:, pts] - Y[b][:, :1]).reshape(-1, 3)
        U, _, Vt = np.linalg.svd(P.T @ Q)
        R = (U @ Vt).T
        assert np.abs(P @ R.T - Q).max() < 1e-9
    thigh = turned("left_hip", "left_knee")
    assert thigh.max() <= 25 + 1e-6 and thigh[changed].mean() > 3
    upper_arm = turned("right_shoulder", "right_elbow")
    assert upper_arm.max() <= 20 + 35 + 1e-6 and upper_arm[changed].mean() > 3


@pytest.mark.shared
def test_bundled_validation_clips_are_the_corpus_clips():
    """tests/data/lifter_validation.npz holds exactly what load_clips makes of the corpus' validation
    clips (float32: within 0.01 mm), so the card test on it measures the real validation set."""
    _, val = split(load_clips(need_shared(SHARED / "mocap")))
    stored = {c.name: c for c in load_clips(need(LIFT_VALIDATION))}
    assert sorted(stored) == sorted(c.name for c in val)
    for c in val:
        assert stored[c.name].joints.shape == c.joints.shape
        assert np.abs(stored[c.name].joints - c.joints).max() < 1e-5


def test_windows_answer_for_several_frames(clips):
    """outputs = K: a window of 27 + K - 1 frames whose targets are the K frames the receptive field
    slides over (centres for the offline model, ends for the causal one); K = 1 gives the single frame."""
    K = 8
    for causal, first in ((False, 13), (True, 26)):
        s = Sampler(clips, seed=6, causal=causal, outputs=K, focal=1000.0)
        inp, tgt, depth = s.batch(16, train=False, noise_px=0.0)
        assert inp.shape == (16, 27 + K - 1, len(LIFT_JOINTS), 3) and tgt.shape == (16, K, len(LIFT_JOINTS), 3)
        np.testing.assert_allclose(depth, tgt[:, :, 0, 2])
        # noise-free 2D: each target frame projects to the input at its place in the window
        np.testing.assert_allclose(inp[:, first:first + K, :, :2], tgt[..., :2] / tgt[..., 2:], atol=1e-5)


def test_speed_augmentation_plays_the_motion_faster_or_slower(clips):
    """A playback speed s takes window frames s captured frames apart (linear between captured ones):
    once the first frame's place t0 in the clip is found, frame k is the clip at t0 + s k."""
    c = max(clips, key=lambda c: len(c.joints))
    J = c.joints

    def at(t):
        i = np.minimum(np.floor(t).astype(int), len(J) - 2)
        return J[i] + (t - i)[..., None, None] * (J[i + 1] - J[i])

    for speed in (0.6, 1.7):
        X, _ = Sampler([c], seed=7, speed=(speed, speed)).motion_windows(4)
        for x in X:
            d = (J[1:] - J[:-1]).reshape(len(J) - 1, -1)
            r = (x[0] - J[:-1]).reshape(len(J) - 1, -1)
            f = np.clip((d * r).sum(-1) / np.maximum((d * d).sum(-1), 1e-12), 0, 1)  # best place in each step
            i = np.argmin(np.linalg.norm(r - f[:, None] * d, axis=-1))
            np.testing.assert_allclose(x, at(i + f[i] + speed * np.arange(len(x))), atol=1e-6)


def test_constant_bones_hold_one_length_and_every_direction():
    from mocap.lift.joints import constant_bones
    rng = np.random.default_rng(8)
    c = load_clips(need(LIFT_VALIDATION))[0].joints[:60]
    noisy = c + rng.normal(0, 0.02, c.shape)
    out = constant_bones(noisy)
    L = bone_lengths(out)
    assert L.std(0).max() < 1e-9  # one length per bone
    from mocap.lift.joints import BONE_FLIP, BONE_INDEX
    np.testing.assert_allclose(L[0], L[0, BONE_FLIP])  # left = right
    d_in = noisy[:, BONE_INDEX[:, 1]] - noisy[:, BONE_INDEX[:, 0]]
    d_out = out[:, BONE_INDEX[:, 1]] - out[:, BONE_INDEX[:, 0]]
    cos = (d_in * d_out).sum(-1) / np.linalg.norm(d_in, axis=-1) / np.linalg.norm(d_out, axis=-1)
    assert cos.min() > 1 - 1e-9  # every bone keeps its direction
    np.testing.assert_array_equal(out[:, 0], noisy[:, 0])  # the pelvis stays
    # closer to the truth than the jittery lengths were
    assert np.abs(bone_lengths(out) - bone_lengths(c)).mean() < 0.5 * np.abs(bone_lengths(noisy) - bone_lengths(c)).mean()
