"""Many cameras (8-32): the robust triangulation tries a constant number of hypotheses per point, and gives the
answer the search over every camera pair gives.

The scenes are :func:`mocap.testing.scenes.tail_scene` (real karate motion, sigma 2 px, 10 % of joints anywhere in
the image, 5 % missing, a false person in 20 % of the views, points on epipolar lines and leaking joints) in rings of
8, 16 and 32 distorted 1080p cameras. The reference is the same code with every pair searched (``seeds`` large and no
refit shortcut): what the triangulation did before it was made linear in cameras.
"""
import numpy as np
import pytest

from conftest import ROOT
from mocap.associate.tracks import select_person
from mocap.testing.scenes import SKELETON, real_motion, tail_scene
from mocap.triangulate import dlt, robust, triangulate
from mocap.triangulate.dlt import errors_function, pair_search, ranked_views, solve_normal, summed_normal, view_coefficients

KARATE = ROOT / "tests" / "data" / "mocap" / "extra" / "acrnn_cmu" / "martial" / "05.bvh"


@pytest.fixture(scope="module")
def motion():
    return real_motion(KARATE, 300, start=4)


def exhaustive_triangulate(kp, rig, monkeypatch):
    """``triangulate`` as it was: every camera pair for every suspicious point."""
    with monkeypatch.context() as m:
        m.setitem(dlt.pair_search.__kwdefaults__, "seeds", 64)
        m.setitem(robust.triangulate_robust.__kwdefaults__, "refits", 0)
        return triangulate(kp, rig)


@pytest.mark.parametrize("cams", [8, 16, 32])
def test_same_answer_as_every_pair(motion, cams, monkeypatch):
    rig, data, _ = tail_scene(motion, cams, seed=cams, epipolar=0.02, leaks=0.02)
    kp, _ = select_person(data, rig, SKELETON, 60.0, camera_names=list(rig.names))
    e = np.linalg.norm(triangulate(kp, rig).motion.positions - motion, axis=-1) * 1000
    ref = np.linalg.norm(exhaustive_triangulate(kp, rig, monkeypatch).motion.positions - motion, axis=-1) * 1000
    print(f"{cams} cams: MPJPE {np.nanmean(e):.2f} mm (every pair {np.nanmean(ref):.2f}), p99.9 "
          f"{np.nanpercentile(e, 99.9):.1f} ({np.nanpercentile(ref, 99.9):.1f}), {100 * np.isfinite(e).mean():.2f} % "
          f"of points ({100 * np.isfinite(ref).mean():.2f})")
    assert np.isfinite(e).mean() >= np.isfinite(ref).mean() - 0.001
    assert np.nanmean(e) <= np.nanmean(ref) + 0.05
    assert np.nanpercentile(e, 99.9) <= np.nanpercentile(ref, 99.9) + 0.5
    assert np.nanpercentile(e, 95) <= np.nanpercentile(ref, 95) + 0.2
    # the same points, nearly everywhere
    both = np.isfinite(e) & np.isfinite(ref)
    assert (np.abs(e - ref)[both] < 1.0).mean() >= 0.99


def outlier_points(cams, n=4000, seed=0):
    """``n`` points in a ring of ``cams`` cameras, sigma 1 px, 10 % of views 50-300 px off: undistorted normalised
    coordinates, weights, the rig and the truth."""
    from mocap.testing.scenes import ring_rig
    rng = np.random.default_rng(seed)
    rig = ring_rig(cams, seed=seed)
    X = rng.normal(0, 0.5, (n, 3)) + [0, 0, 1.0]
    uv = rig.project(X) + rng.normal(0, 1.0, (cams, n, 2))
    out = rng.random((cams, n)) < 0.10
    uv[out] += rng.uniform(50, 300, (int(out.sum()), 2)) * rng.choice([-1, 1], (int(out.sum()), 2))
    return rig.undistort(uv), rng.uniform(0.5, 1, (cams, n)), rig, X


@pytest.mark.parametrize("cams", [8, 32])
def test_hypotheses_per_point_do_not_grow_with_cameras(cams):
    """The pair search scores ``SEEDS (SEEDS - 1) / 2`` pairs (and the refits) per point, not ``C (C - 1) / 2``: counted
    as points x views scored, divided by points x cameras."""
    xy, w, rig, X = outlier_points(cams)
    valid = w > 0
    coef, basis = view_coefficients(rig.extrinsics, xy, w)
    inner = errors_function(rig.extrinsics, xy, valid, rig.focals)
    scored = []

    def errors_of(P, idx=None):
        scored.append(len(P))
        return inner(P, idx)
    X0 = solve_normal(summed_normal(coef, basis))
    thr = np.full((cams, 1), 15.0)
    Xs, inl, _ = pair_search(coef, basis, valid, errors_of, thr=thr, iterations=1, X0=X0, e0=errors_of(X0))
    per_point = sum(scored) / xy.shape[1]
    print(f"{cams} cameras: {per_point:.1f} hypotheses scored per point ({cams * (cams - 1) // 2} pairs)")
    assert per_point <= dlt.SEEDS * (dlt.SEEDS - 1) / 2 + 4
    e = np.linalg.norm(Xs - X, axis=-1) * 1000
    assert np.nanpercentile(e, 99.9) < 20.0 and np.isfinite(e).all()


def test_ranked_views_put_the_agreeing_views_first():
    e = np.array([[5.0, np.nan], [1.0, 2.0], [300.0, 1.0], [2.0, 0.5]])
    valid = np.array([[True, True], [True, False], [True, True], [True, True]])
    np.testing.assert_array_equal(ranked_views(e, valid, 2), [[1, 3], [3, 2]])
