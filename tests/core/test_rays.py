"""mocap.core.camera.toward_rays: joints pulled toward the rays through their 2D, depth kept."""
import numpy as np

from mocap.core.camera import toward_rays


def test_toward_rays_keeps_depth_and_lands_on_the_ray():
    rng = np.random.default_rng(0)
    X = rng.normal(0, 0.5, (4, 15, 3)) + [0, 0, 5.0]  # (T, J, 3) camera frame, m
    xy = X[..., :2] / X[..., 2:] + rng.normal(0, 0.01, X.shape[:-1] + (2,))  # the 2D seen, a little off
    on = toward_rays(X, xy, 1.0)
    assert np.allclose(on[..., 2], X[..., 2]) and np.allclose(on[..., :2] / on[..., 2:], xy)
    assert np.allclose(toward_rays(X, xy, 0.0), X)
    w = np.zeros(X.shape[:-1])
    w[:, 3] = 0.5  # one joint half-way, the others untouched (nothing seen)
    half = toward_rays(X, xy, w)
    assert np.allclose(np.delete(half, 3, 1), np.delete(X, 3, 1))
    assert np.allclose(half[:, 3], 0.5 * (X[:, 3] + on[:, 3]))
    # the reprojection error halves: mm of image-plane offset at 5 m, against the 2D
    err = lambda Y: np.linalg.norm(Y[..., :2] / Y[..., 2:] - xy, axis=-1)[:, 3]
    assert np.allclose(err(half), 0.5 * err(X), rtol=1e-6)


def test_lift_rejects_a_ray_weight_outside_0_1():
    import pytest

    pytest.importorskip("torch")
    from mocap.errors import MocapError
    from mocap.lift.model import ray_weight

    assert ray_weight(None, 0.3) == 0.3 and ray_weight(None) == 0.75
    with pytest.raises(MocapError, match="0 to 1"):
        ray_weight(None, 1.5)
