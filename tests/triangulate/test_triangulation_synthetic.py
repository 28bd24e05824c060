"""Synthetic scenes from real 3D motion: distortion, noise, missing views, gross outliers."""
import numpy as np
import pytest

from conftest import TRIAL, need, ring_rig
from mocap.io.motion import read_trc
from mocap.core.keypoints import Keypoints2D
from mocap.core.skeletons import skeleton_from_names
from mocap.triangulate import triangulate


def scene(n_cams, noise=0.0, missing=0.0, outliers=0.0, seed=1):
    ref = read_trc(need(TRIAL / "pose-3d" / "S00_P00_T01_BalancingTrial_0-100_filt_butterworth.trc")).to_up("z")
    X = ref.positions - np.nanmean(ref.positions, axis=(0, 1)) + [0, 0, 1.0]
    rng = np.random.default_rng(seed)
    X = np.concatenate([X, X + rng.normal(0, 0.5, (1, 1, 3)) * [1, 1, 0]], axis=0)  # two passes: more poses
    rig = ring_rig(n_cams, seed=seed)
    uv = rig.project(X)  # (C, T, J, 2), distorted
    uv = uv + rng.normal(0, noise, uv.shape)
    conf = rng.uniform(0.5, 1.0, uv.shape[:-1])
    is_out = rng.random(conf.shape) < outliers
    off = rng.uniform(40, 300, conf.shape)[..., None] * np.stack([np.cos(a := rng.uniform(0, 2 * np.pi, conf.shape)),
                                                                    np.sin(a)], -1)
    uv = np.where(is_out[..., None], uv + off, uv)
    conf[rng.random(conf.shape) < missing] = 0
    kp = Keypoints2D(np.concatenate([uv, conf[..., None]], -1), skeleton_from_names(ref.names), 60)
    return rig, kp, X, is_out, conf > 0


def mpjpe_mm(res, X):
    return np.linalg.norm(res.motion.positions - X, axis=-1) * 1000


@pytest.mark.parametrize("n_cams", [4, 8])
def test_clean(n_cams):
    rig, kp, X, _, _ = scene(n_cams)
    e = mpjpe_mm(triangulate(kp, rig), X)
    assert np.isfinite(e).all()
    assert e.mean() < 0.1, e.mean()


@pytest.mark.parametrize("n_cams", [4, 6, 8])
def test_noise_and_missing(n_cams):
    rig, kp, X, _, _ = scene(n_cams, noise=2.0, missing=0.05)
    e = mpjpe_mm(triangulate(kp, rig), X)
    print(n_cams, "cams, sigma 2 px, 5 % missing: MPJPE mm", np.nanmean(e))
    assert np.nanmean(e) <= 7.0


@pytest.mark.parametrize("n_cams", [4, 6, 8])
def test_outliers(n_cams):
    rig, kp, X, is_out, seen = scene(n_cams, noise=2.0, missing=0.05, outliers=0.10)
    # The outlier threshold set for this simulated detector (sigma = 2 px): 5 sigma, as a user would.
    res = triangulate(kp, rig, threshold_px=10.0)
    e = mpjpe_mm(res, X)
    print(n_cams, "cams, + 10 % outliers: MPJPE mm", np.nanmean(e), "max", np.nanmax(e))
    assert np.nanmean(e) <= 8.0
    good_views = (seen & ~is_out).sum(axis=0)
    # no silent drops: points seen by >= 2 inlier views come back (the skeleton check may leave a two-view point
    # whose bone to a well-seen neighbour breaks empty: at most 1 in 1000)
    assert np.isfinite(res.motion.positions).all(-1)[good_views >= 2].mean() >= 0.999
    # outliers were recognised as such
    flagged = res.inliers[is_out & seen]
    assert flagged.mean() < 0.02
    # the default threshold (1.5 % of the image, tuned for real detectors' ~10 px errors) stays close
    e_default = mpjpe_mm(triangulate(kp, rig), X)
    assert np.nanmean(e_default) <= (9.5 if n_cams == 4 else 8.0)


def test_temporal_recheck_removes_chance_agreements():
    rig, kp, X, is_out, seen = scene(4, noise=2.0, missing=0.05, outliers=0.10)
    with_t = mpjpe_mm(triangulate(kp, rig, threshold_px=10.0), X)
    without = mpjpe_mm(triangulate(kp, rig, threshold_px=10.0, temporal=False), X)
    assert (with_t > 100).sum() < (without > 100).sum()
    assert np.nanmean(with_t) < np.nanmean(without)


def test_refine_does_not_hurt_and_handles_distortion():
    rig, kp, X, _, _ = scene(4, noise=2.0, missing=0.05, outliers=0.10)
    plain = np.nanmean(mpjpe_mm(triangulate(kp, rig), X))
    refined = np.nanmean(mpjpe_mm(triangulate(kp, rig, refine=True), X))
    assert refined <= plain * 1.05
