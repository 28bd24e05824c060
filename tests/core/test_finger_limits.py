"""Finger joint limits (mocap.core.hands) on articulated hands (mocap.testing.hands) of both sides: the sign of a
bend, hands within range untouched, fingers bent backwards or in too far turned back to the range, bones kept."""
import numpy as np
import pytest

from mocap.core.hands import (FINGER_CHAINS, HINGE_LIMITS_DEG, flexion_angles, limit_fingers, limit_hands, signed_flexion,
                              undo_depth_flip)
from mocap.core.rotations import axis_angle
from mocap.core.skeletons import hand_joints
from mocap.testing.hands import hand_pose

OPENNESS = np.random.default_rng(0).uniform(0, 1, (500, 5))


def turned(P):
    """The hands turned and moved anywhere (limits do not depend on where a hand is or how it is held)."""
    rng = np.random.default_rng(1)
    axes = rng.normal(size=(len(P), 3))
    R = axis_angle(axes / np.linalg.norm(axes, axis=-1, keepdims=True), rng.uniform(0, np.pi, len(P)))
    return np.einsum("tij,tkj->tki", R, P) + rng.normal(size=(len(P), 1, 3))


def bone_lengths(P):
    return np.linalg.norm(np.diff(P[..., FINGER_CHAINS, :], axis=-2), axis=-1)


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_hand_closing_bends_its_fingers_in(side):
    P = turned(hand_pose(OPENNESS, side))
    f = signed_flexion(P, side)
    np.testing.assert_allclose(f, flexion_angles(P)[..., 1:, :], atol=1e-9)  # all in: positive, same size
    assert f[..., 1].max() > 90  # the synthetic fists bend their middle joints 100 deg
    Q, moved = limit_fingers(P, side)
    assert np.array_equal(Q, P) and not moved.any()


@pytest.mark.parametrize("side", ["left", "right"])
def test_fingers_past_their_range_are_turned_back_bones_kept(side):
    back, fist = turned(hand_pose(-0.6 * OPENNESS, side)), turned(hand_pose(1.0 + 0.4 * OPENNESS, side))
    for P in (back, fist):
        f = signed_flexion(P, side)
        Q, moved = limit_fingers(P, side)
        g = signed_flexion(Q, side)
        for k, (lo, hi) in HINGE_LIMITS_DEG.items():
            assert g[..., k].min() >= lo - 1e-6 and g[..., k].max() <= hi + 1e-6
            inside = (f[..., k] >= lo) & (f[..., k] <= hi)
            np.testing.assert_allclose(g[..., k][inside], f[..., k][inside], atol=1e-6)  # the others as they were
        assert (np.abs(moved[..., 1:]) > 0).mean() > 0.3 and not moved[..., 0].any()
        np.testing.assert_allclose(g[..., 0], f[..., 0], atol=1e-9)  # the base joints are not hinges: left alone
        np.testing.assert_allclose(bone_lengths(Q), bone_lengths(P), atol=1e-12)
        np.testing.assert_array_equal(Q[..., :5, :], P[..., :5, :])  # the wrist and thumb too


def test_limit_hands_finds_both_hands_by_name_and_says_what_it_turned():
    names = ["nose"] + list(hand_joints("left")) + list(hand_joints("right"))
    T = len(OPENNESS)
    X = np.concatenate([np.zeros((T, 1, 3)), turned(hand_pose(OPENNESS, "left")),
                        turned(hand_pose(-0.6 * OPENNESS, "right"))], axis=1)
    X[:10, 1:] = np.nan  # frames without hands stay empty
    Y, note = limit_hands(X, names)
    assert np.array_equal(Y[:, :22], X[:, :22], equal_nan=True)  # the left hand was within range
    assert np.isnan(Y[:10, 1:]).all() and "right " in note and "left " not in note
    assert signed_flexion(Y[10:, 22:], "right")[..., 1].min() >= -10 - 1e-6
    assert limit_hands(X[:, :1], names[:1])[1] is None  # no hands: nothing to say


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_hand_mirrored_in_depth_is_turned_back(side):
    """One view cannot tell a hand from its mirror image in depth; the mirror image is the other hand's shape, its
    fingers bent backwards: :func:`undo_depth_flip` mirrors it back, and leaves real hands and missing ones alone."""
    P = turned(hand_pose(0.1 + 0.9 * OPENNESS, side)) + [0.0, 0.0, 2.0]
    mirrored = P.copy()
    mirrored[..., 2] = 2 * mirrored[..., :1, 2] - mirrored[..., 2]
    assert np.median(signed_flexion(mirrored, side)) < -10
    back, flipped = undo_depth_flip(mirrored, side)
    assert flipped.all() and np.allclose(back, P)
    same, none = undo_depth_flip(P, side)
    assert not none.any() and np.array_equal(same, P)
    empty = np.full((3, 21, 3), np.nan)
    out, flags = undo_depth_flip(empty, side)
    assert not flags.any() and np.isnan(out).all()
