"""2D cleaning before lifting: outlier joints at normal confidence rejected relative to the person's size,
short gaps filled, long ones left empty; the same on whole sequences and on training batches."""
import numpy as np
import pytest

from conftest import LIFT_VALIDATION, need
from mocap.lift.clean import clean_keypoints, fill_keypoint_gaps, person_size
from mocap.lift.data import load_clips, split
from mocap.lift.joints import head_input, lift_inputs
from mocap.core.skeletons import get_skeleton


@pytest.fixture(scope="module")
def fast_clips():
    """Held-out clips with fast limbs (karate, dance, jump, soccer, salsa) projected at 30 fps, f = 1000 px, 5 m."""
    _, val = split(load_clips(need(LIFT_VALIDATION)))
    out = []
    for c in val:
        if "007_" in c.name:
            continue
        X = c.joints - c.joints[:, :1].mean(0) * [1, 0, 1]
        Xc = X * [1, -1, -1] + [0, 1.2, 5.0]
        out.append((c.name, Xc[..., :2] / Xc[..., 2:] * 1000 + [640, 360]))
    return out


@pytest.mark.parametrize("rate", [0.02, 0.10])
def test_outliers_anywhere_at_normal_confidence_are_rejected(fast_clips, rate):
    rng = np.random.default_rng(0)
    caught, false, err = [], [], []
    for name, uv in fast_clips:
        kp = np.concatenate([uv + rng.normal(0, 3, uv.shape), rng.uniform(0.6, 1, uv.shape[:-1] + (1,))], -1)
        out = rng.random(uv.shape[:-1]) < rate
        kp[out, :2] = rng.uniform([0, 0], [1280, 720], (int(out.sum()), 2))
        far = np.linalg.norm(kp[..., :2] - uv, axis=-1) > 40  # an "outlier" that lands on its joint is not one
        clean, rep = clean_keypoints(kp, 30.0)
        kept = clean[..., 2] > 0
        e = np.linalg.norm(clean[..., :2] - uv, axis=-1)
        caught.append((~kept | (e < 40))[out & far])
        false.append(~kept[~out])
        err.append(e[kept])
    caught, false, err = (np.concatenate(x) for x in (caught, false, err))
    print(f"{100 * rate:.0f} % outliers: {100 * caught.mean():.2f} % rejected or replaced; good joints lost "
          f"{100 * false.mean():.3f} %; kept points: median {np.median(err):.1f} px, 99th pct {np.percentile(err, 99):.1f} px")
    assert caught.mean() >= 0.99 and false.mean() <= 0.005 and np.percentile(err, 99) < 25


def test_gaps_are_filled_up_to_half_a_second_and_batches_match_sequences():
    T = 90
    xy = np.stack([np.linspace(0, 89, T), np.full(T, 5.0)], -1)[:, None].repeat(2, 1)  # (T, 2, 2)
    conf = np.ones((T, 2))
    conf[10:25, 0] = 0  # 0.5 s at 30 fps: filled
    conf[40:70, 1] = 0  # 1 s: left empty
    out, c, filled = fill_keypoint_gaps(np.where(conf[..., None] > 0, xy, np.nan), conf, 15)
    assert filled[10:25, 0].all() and not filled[40:70, 1].any()
    np.testing.assert_allclose(out[10:25, 0], xy[10:25, 0])
    assert np.allclose(c[10:25, 0], 0.5) and (c[40:70, 1] == 0).all()
    rng = np.random.default_rng(1)
    kp = np.concatenate([rng.normal(0, 50, (3, 40, 15, 2)) + 500, rng.uniform(0.5, 1, (3, 40, 15, 1))], -1)
    batch, _ = clean_keypoints(kp, 30.0)
    for b in range(3):
        one, _ = clean_keypoints(kp[b], 30.0)
        np.testing.assert_array_equal(np.isnan(one), np.isnan(batch[b]))
        np.testing.assert_allclose(np.nan_to_num(one), np.nan_to_num(batch[b]))
    size = person_size(kp[..., :2], kp[..., 2] > 0, 30.0)
    assert size.shape == (3, 40) and np.isfinite(size).all()


def test_head_from_the_best_cue_of_each_frame():
    """Ears, then one ear, eyes, nose, and BODY_25B's upper neck + head top: one rule, confidence scaled down."""
    sk = get_skeleton("body_25b")
    kp = np.zeros((6, len(sk), 3))
    kp[..., :2] = np.arange(len(sk))[None, :, None] * 10.0
    kp[..., 2] = 0.9
    ears, eyes = [sk.index("left_ear"), sk.index("right_ear")], [sk.index("left_eye"), sk.index("right_eye")]
    kp[1, ears[0], 2] = 0
    kp[2, ears, 2] = 0
    kp[3, ears + eyes, 2] = 0
    kp[4, ears + eyes + [sk.index("nose")], 2] = 0
    kp[5, ears + eyes + [sk.index("nose"), sk.index("neck")], 2] = 0
    h = head_input(kp, sk)
    np.testing.assert_allclose(h[:, 2], [0.9, 0.81, 0.72, 0.63, 0.54, 0.0])
    np.testing.assert_allclose(h[0, 0], 10 * np.mean(ears))
    np.testing.assert_allclose(h[4, 0], 10 * np.mean([sk.index("neck"), sk.index("head_top")]))
    assert lift_inputs(kp, sk).shape == (6, 15, 3)
