"""A person leaving the picture: the root re-read from the joints still in it (mocap.lift.framing), on a real
held-out clip projected so the person walks out through the side of a 1920 x 1080 picture."""
import numpy as np

from conftest import LIFT_VALIDATION, need
from mocap.lift.data import load_clips, split
from mocap.lift.framing import anchor_in_picture, inside_picture, root_translation

F, W, H, FPS = 1500.0, 1920, 1080, 30.0
K = np.array([[F, 0, W / 2], [0, F, H / 2], [0, 0, 1.0]])


def leaving_scene():
    """Camera-frame truth ``(T, 15, 3)`` (5 m away, sliding right 0.4 m/s until well out of the picture) and its
    2D as a detector gives it: 2 px noise, joints beyond the edge guessed at low confidence, squeezed towards it."""
    _, val = split(load_clips(need(LIFT_VALIDATION)))
    J = next(c for c in val if c.name.startswith("cmu_iclone/007")).joints[:150]
    T = len(J)
    X = (J - J[:1, :1] * [1, 0, 1]) * [1, -1, -1] + [0, 1.0, 5.0]
    X[..., 0] += np.linspace(2.0, 2.0 + 0.4 * T / FPS, T)[:, None]
    uv = X[..., :2] / X[..., 2:] * F + K[:2, 2] + np.random.default_rng(1).normal(0, 2.0, X.shape[:-1] + (2,))
    out = uv[..., 0] > W
    kp = np.concatenate([uv, np.where(out, 0.1, 0.95)[..., None]], -1)
    kp[..., 0] = np.where(out, W + 0.3 * (uv[..., 0] - W), uv[..., 0])
    return X, kp


def test_root_follows_the_visible_part_when_the_lifter_depth_runs_away():
    X, kp = leaving_scene()
    inside = inside_picture(kp, (W, H), FPS)
    whole = inside.all(-1)
    n_in = inside.sum(-1)
    # what the lifter does with a cut body: the pose shrinks 20 % and the root runs off 40 % deeper
    cut = ~whole
    lifted = X.copy()
    rel = X - X[:, :1]
    bad_root = X[:, 0] * np.where(cut, 1.4, 1.0)[:, None]
    lifted[cut] = 0.8 * rel[cut] + bad_root[cut, None]
    fixed, flagged = anchor_in_picture(lifted, kp, K, (W, H), fps=FPS)
    assert (flagged == cut).all() and whole[:10].all() and cut.sum() > 20
    np.testing.assert_array_equal(fixed[whole], lifted[whole])  # whole-body frames untouched
    kept = cut & (n_in >= 8)
    err = np.linalg.norm(fixed[kept, 0] - X[kept, 0], axis=-1)
    print(f"{kept.sum()} cut frames kept: root error median {1000 * np.median(err):.0f} mm, max {1000 * err.max():.0f} mm "
          f"(lifter's {1000 * np.median(np.linalg.norm(lifted[kept, 0] - X[kept, 0], axis=-1)):.0f} mm)")
    assert np.median(err) < 0.06 and err.max() < 0.12  # 2 px noise on half a body: depth to a few cm
    speed = lambda P: np.nanmax(np.linalg.norm(np.diff(P[:, 0], axis=0), axis=-1)) * FPS  # noqa: E731
    print(f"fastest root: truth {speed(X):.1f} m/s, lifter {speed(lifted):.1f}, anchored {speed(fixed):.1f}")
    assert speed(lifted) > 30 and speed(fixed) < speed(X) + 2.0
    assert np.isnan(fixed[cut & (n_in < 8)]).all() and (cut & (n_in < 8)).any()  # mostly out: not seen


def test_nothing_to_calibrate_on_leaves_the_lifter_alone():
    X, kp = leaving_scene()
    inside = inside_picture(kp, (W, H), FPS)
    cut_only = ~inside.all(-1)
    fixed, flagged = anchor_in_picture(X[cut_only], kp[cut_only], K, (W, H), fps=FPS)
    assert flagged.all() and np.array_equal(fixed, X[cut_only])


def test_root_translation_is_exact_for_exact_data():
    rng = np.random.default_rng(0)
    rel = rng.normal(0, 0.3, (5, 15, 3))
    root = np.c_[rng.normal(0, 1, (5, 2)), rng.uniform(2, 9, 5)]
    P = rel + root[:, None]
    uv = P[..., :2] / P[..., 2:]
    w = np.ones((5, 15))
    w[0, 3:] = 0  # three joints still count
    w[1, 2:] = 0  # two do not
    got = root_translation(rel, uv, w)
    np.testing.assert_allclose(got[[0, 2, 3, 4]], root[[0, 2, 3, 4]], rtol=1e-9)
    assert np.isnan(got[1]).all()
