"""Picking the person of interest across calibrated views when some views hold a second, false
detection, with outlier joints at normal confidence anywhere in the image (what real detectors give)."""
import numpy as np
import pytest

from conftest import MOCAP, need
from mocap.core.robust import weighted_median
from mocap.associate.tracks import select_person
from mocap.testing.scenes import SKELETON, real_motion, ring_rig
from mocap.triangulate import triangulate


def test_weighted_median():
    v = np.array([[1.0, 2.0, 3.0, 100.0], [5.0, 1.0, 1.0, 1.0]])
    w = np.array([[1.0, 1.0, 1.0, 1.0], [10.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(weighted_median(v, w), [2.0, 5.0])
    assert np.isnan(weighted_median(v, np.zeros_like(w))).all()


@pytest.fixture(scope="module")
def scene():
    """A CMU walk in 4 ring cameras: sigma 2 px, 10 % of joints replaced by uniform outliers (confidence
    0.6-1 like the rest), 5 % missing, a false person-shaped detection in 20 % of the views (each
    camera's false detections are a body somewhere else, so the views do not agree on them: a poster,
    a reflection, a mis-detection), and the slot holding the true person shuffled."""
    X = real_motion(need(MOCAP / "cmu_131" / "scaled_131_01.bvh"), 400)
    rig = ring_rig(4)
    rng = np.random.default_rng(0)
    C, T, J = len(rig), len(X), X.shape[1]
    uv = rig.project(X) + rng.normal(0, 2, (C, T, J, 2))
    conf = rng.uniform(0.6, 1, (C, T, J))
    out = rng.random((C, T, J)) < 0.10
    uv[out] = rng.uniform([0, 0], [1920, 1080], (int(out.sum()), 2))
    miss = rng.random((C, T, J)) < 0.05
    conf[miss], uv[miss] = 0, np.nan
    data = np.full((C, T, 2, J, 3), np.nan)
    data[..., 2] = 0
    data[:, :, 0, :, :2], data[:, :, 0, :, 2] = uv, conf
    false = rng.random((C, T)) < 0.2
    shift = np.concatenate([rng.uniform(-2, 2, (C, 2)), np.zeros((C, 1))], -1)  # metres, one per camera
    uv_false = np.stack([rig[c].project(X + shift[c]) for c in range(C)]) + rng.normal(0, 2, (C, T, J, 2))
    data[:, :, 1, :, :2] = np.where(false[..., None, None], uv_false, np.nan)
    data[:, :, 1, :, 2] = np.where(false[..., None], rng.uniform(0.6, 1, (C, T, J)), 0)
    swap = rng.random((C, T)) < 0.5
    data[swap] = data[swap][:, ::-1]
    truth_slot = swap.astype(int)  # where the true person sits
    return X, rig, data, truth_slot


def test_outlier_joints_do_not_lose_the_person(scene):
    X, rig, data, truth_slot = scene
    kp, rep = select_person(data, rig, SKELETON, 60.0, camera_names=rig.names)
    chosen = rep["chosen"]
    right = (chosen == truth_slot).mean()
    res = triangulate(kp, rig)
    oracle_kp = np.take_along_axis(data, truth_slot[:, :, None, None, None], axis=2)[:, :, 0]
    oracle = triangulate(type(kp)(oracle_kp, SKELETON, 60.0, rig.names), rig)
    ok, ok_o = np.isfinite(res.motion.positions).all(-1), np.isfinite(oracle.motion.positions).all(-1)
    mpjpe = 1000 * np.linalg.norm(res.motion.positions - X, axis=-1)[ok].mean()
    mpjpe_o = 1000 * np.linalg.norm(oracle.motion.positions - X, axis=-1)[ok_o].mean()
    print(f"right person in {100 * right:.1f} % of views, {rep['dropped']} views dropped; points "
          f"{100 * ok.mean():.1f} % (oracle {100 * ok_o.mean():.1f} %); MPJPE {mpjpe:.1f} mm (oracle {mpjpe_o:.1f})")
    assert right >= 0.99 and rep["dropped"] <= 0.01 * chosen.size
    assert ok.mean() >= ok_o.mean() - 0.01
    assert mpjpe <= 1.15 * mpjpe_o
