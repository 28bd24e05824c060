"""Monocular motions are stood upright: a camera's pitch is not mistaken for a lean."""

import numpy as np
from scipy.spatial.transform import Rotation

from conftest import MOCAP, need
from mocap.core.motion import Motion3D
from mocap.core.posture import body_up, upright

from mocap.testing.scenes import SKELETON, real_motion  # noqa: E402


def test_a_pitched_view_is_stood_upright_and_a_lying_person_is_left_alone():
    X = real_motion(need(MOCAP / "cmu_131" / "scaled_131_01.bvh"), 600)  # a walk, Z-up
    m = Motion3D(X, SKELETON, 60.0, up="z").to_up("y")
    u0 = body_up(m.positions, m.skeleton)
    R = Rotation.from_euler("x", 25, degrees=True).as_matrix()  # a camera pitched down by 25 degrees
    tilted = type(m)(**{**m.__dict__, "positions": m.positions @ R.T})
    fixed, angle = upright(tilted)
    u1 = body_up(fixed.positions, fixed.skeleton)
    assert abs(angle - np.degrees(np.arccos(body_up(tilted.positions, m.skeleton) @ [0, 1, 0]))) < 1e-6
    assert np.degrees(np.arccos(u1 @ [0, 1, 0])) < 0.5 and np.degrees(np.arccos(u0 @ [0, 1, 0])) < 10
    L = lambda P: np.linalg.norm(P[:, 1:] - P[:, :-1], axis=-1)  # noqa: E731 - shape kept (a rotation)
    np.testing.assert_allclose(L(fixed.positions), L(tilted.positions), atol=1e-9)
    lying = type(m)(**{**m.__dict__, "positions": m.positions @ Rotation.from_euler("x", 85, degrees=True).as_matrix().T})
    assert upright(lying)[1] == 0.0
