"""The feet's roll carried over time (:func:`mocap.retarget.transport_roll`): the answer of stepping frame by frame
on a short clip, and rotations that stay rotations over a long recording (stepping compounded round-off there: a
50 000-frame retarget failed with a 'non-positive determinant' of size 1e88)."""
import numpy as np
from scipy.spatial.transform import Rotation

from mocap.core.rotations import axis_angle, swing
from mocap.retarget import transport_roll

REST = np.array([0.0, 0.0, 1.0])


def stepped(G, rest_dir, fps, roll_time=0.5):
    """The definition, one frame at a time (what transport_roll computed before it was a scan)."""
    out, alpha = G.copy(), 1.0 - np.exp(-1.0 / (fps * roll_time))
    d = np.einsum("tij,j->ti", G, rest_dir)
    ok = np.isfinite(G).all(axis=(1, 2))
    for t in range(1, len(G)):
        if ok[t] and ok[t - 1]:
            moved = swing(out[t - 1] @ rest_dir, d[t]) @ out[t - 1]
            diff = G[t] @ moved.T
            vee = np.array([diff[2, 1] - diff[1, 2], diff[0, 2] - diff[2, 0], diff[1, 0] - diff[0, 1]])
            out[t] = axis_angle(d[t], alpha * np.arctan2(0.5 * vee @ d[t], 0.5 * (np.trace(diff) - 1.0))) @ moved
    return out


def wandering(T: int, seed: int = 0) -> np.ndarray:
    """``(T, 3, 3)`` rotations turning a few degrees per frame in random directions (a foot spinning freely)."""
    rv = np.cumsum(np.random.default_rng(seed).normal(0, 0.05, (T, 3)), 0)
    return Rotation.from_rotvec(rv).as_matrix()


def test_equals_stepping_frame_by_frame_with_gaps():
    G = wandering(2000)
    G[500:510] = np.nan
    G[1200] = np.nan
    ours = transport_roll(G, REST, 60.0)
    assert np.isnan(ours[500:510]).all() and np.isnan(ours[1200]).all()
    assert np.nanmax(np.abs(ours - stepped(G, REST, 60.0))) < 1e-12
    # the roll is a preference: the bone's direction is G's exactly
    assert np.nanmax(np.abs(ours @ REST - G @ REST)) < 1e-12


def test_long_recording_stays_orthonormal():
    G = wandering(60000, seed=1)
    out = transport_roll(G, REST, 60.0)
    assert np.abs(out @ np.swapaxes(out, 1, 2) - np.eye(3)).max() < 1e-11
    assert np.abs(np.linalg.det(out) - 1).max() < 1e-11
    assert np.abs(out @ REST - G @ REST).max() < 1e-11
