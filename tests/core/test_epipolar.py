"""Two-view geometry (:mod:`mocap.core.epipolar`) on a calibrated ring of cameras."""
import numpy as np

from mocap.core.epipolar import epipolar_px, essential_matrices, signed_epipolar
from mocap.testing.scenes import ring_rig


def _views(rig, X):
    Rt = rig.extrinsics
    x = np.einsum("cij,nj->cni", Rt[:, :, :3], X) + Rt[:, None, :, 3]
    return x[..., :2] / x[..., 2:]


def test_essential_matrices_hold_every_pair_of_views():
    """Projections of the same points lie on each other's epipolar lines in every pair (distance under 1e-9 px),
    ``E[b, a] == E[a, b]^T`` and the diagonal is zero; a point moved 5 px across its line is 5 px off."""
    rig = ring_rig(5)
    Rt = rig.extrinsics
    E = essential_matrices(Rt[:, :, :3], Rt[:, :, 3])
    X = np.random.default_rng(0).normal(0, 0.5, (200, 3)) + [0.0, 0.0, 1.0]
    x = _views(rig, X)
    f = rig.focals
    C = len(rig)
    for a in range(C):
        assert not E[a, a].any()
        for b in range(C):
            if a != b:
                np.testing.assert_allclose(E[b, a], E[a, b].T, atol=1e-12)
                assert epipolar_px(x[a], x[b], E[a, b], f[a], fb=f[b]).max() < 1e-9
    d, normal = signed_epipolar(x[0], x[1], E[0, 1])
    moved = x[1] + normal * (5.0 / f[1])
    d5, _ = signed_epipolar(x[0], moved, E[0, 1])
    np.testing.assert_allclose((d5 - d) * f[1], 5.0, atol=1e-9)
