"""One camera's 2D hand points -> finger shapes (mocap.lift.hands): a hand model fitted to them. Synthetic hands
(mocap.testing.hands) turned every way and seen by one camera; then through `mocap lift` on a keypoint file with hand
arrays (one camera of the synthetic 4-camera session: 1 px noise, 3 % outliers, 8 % missing)."""
import numpy as np
import pytest

from conftest import ROOT
from mocap.cli.main import main
from mocap.core.hands import HINGE_LIMITS_DEG, flexion_angles, signed_flexion
from mocap.core.rotations import axis_angle
from mocap.core.skeletons import COCO_17_HANDS
from mocap.io.calibration import read_calibration
from mocap.io.motion import load_motion
from mocap.lift.hands import fit_hands
from mocap.retarget.rigs import FINGERS
from mocap.testing.hands import hand_pose, write_session

CLIP = ROOT / "tests" / "data" / "mocap" / "cmu_131" / "scaled_131_01.bvh"
K = np.array([[1500.0, 0, 960], [0, 1500, 540], [0, 0, 1]])


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_fitted_hand_bends_its_fingers_as_the_hand_did(side):
    rng = np.random.default_rng(0)
    N = 200
    H = hand_pose(0.5 - 0.5 * np.cos(rng.uniform(0, 2 * np.pi, (N, 5))), side)  # fists to flat hands
    axes = rng.normal(size=(N, 3))
    R = axis_angle(axes / np.linalg.norm(axes, axis=1, keepdims=True), rng.uniform(0, np.pi, N))  # turned every way
    X = np.einsum("nij,nkj->nki", R, H) + [0.1, 0.0, 2.5]  # 2.5 m away: the hand about 110 px long
    uv = np.einsum("ij,nkj->nki", K, X)
    kp = np.concatenate([uv[..., :2] / uv[..., 2:] + rng.normal(0, 1.0, (N, 21, 2)), np.ones((N, 21, 1))], -1)
    P, rms = fit_hands(kp, K, side)
    err = np.abs(flexion_angles(P) - flexion_angles(H))
    print(f"{side}: reprojection RMS median {np.median(rms):.2f} px; flexion error median {np.median(err):.1f} deg, "
          f"p75 {np.percentile(err, 75):.1f}")
    assert np.isfinite(P).all() and np.median(rms) < 2.5 and np.median(err) <= 10.0
    f = signed_flexion(P, side)
    for k, (lo, hi) in HINGE_LIMITS_DEG.items():  # never past a hand's range
        assert f[..., k].min() >= lo - 1e-6 and f[..., k].max() <= hi + 1e-6
    few = kp.copy()
    few[:, 8:, 2] = 0.0  # 7 finger points left: not enough to tell a hand's shape
    assert np.isnan(fit_hands(few, K, side)[0]).all()


def test_mocap_lift_of_a_keypoint_file_with_hands_has_fingers_within_fifteen_degrees(tmp_path, capsys):
    folders, X = write_session(tmp_path, CLIP, frames=300)
    cam = read_calibration(tmp_path / "calib.toml")[0]
    out = tmp_path / "hands.bvh"
    assert main(["lift", str(folders[0]), "-o", str(out), "--fps", "60", "--focal", str(cam.K[0, 0]),
                 "--width", str(cam.size[0]), "--height", str(cam.size[1])]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "fingers from a hand model fitted to the file's 2D hand points" in text
    back = load_motion(out)
    names = [n.split(":")[-1] for n in back.names]
    assert sum(n.startswith("LeftHand") and n[-1] in "123" for n in names) == 15
    errors = []
    for side in ("left", "right"):
        S = side.title()
        cols = [names.index(f"{S}Hand")] + [names.index(f"{S}Hand{f.title()}{k}" if k < 4 else f"{S}Hand{f.title()}3_End")
                                             for f in FINGERS for k in (1, 2, 3, 4)]
        got = flexion_angles(back.positions[:, cols])
        true = flexion_angles(X[:, COCO_17_HANDS.index(f"{side}_hand_wrist"):][:, :21])
        errors.append(np.abs(got - true))
    e = np.concatenate(errors, 1)
    print(f"mocap lift, one camera: finger flexion error median {np.median(e):.1f} deg, p75 "
          f"{np.percentile(e, 75):.1f}, p95 {np.percentile(e, 95):.1f} (thumb median {np.median(e[:, [0, 5]]):.1f})")
    assert np.median(e) <= 15.0
