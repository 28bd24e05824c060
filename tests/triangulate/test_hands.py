"""Hands through several cameras: synthetic hands (mocap.testing.hands: fingers opening and closing at 0.3-0.9 Hz,
wrists turning) on real motion capture, seen by 4 cameras with 1 px noise, 3 % outliers and 8 % missing, written as
OpenPose JSON with hand arrays and triangulated by `mocap triangulate` (the same robust machinery as the body)."""
import numpy as np
import pytest

from conftest import ROOT
from mocap.cli.main import main
from mocap.core.skeletons import COCO_17_HANDS, HAND_21
from mocap.io.motion import read_trc, write_motion
from mocap.core.hands import flexion_angles
from mocap.testing.hands import write_session

CLIP = ROOT / "tests" / "data" / "mocap" / "cmu_131" / "scaled_131_01.bvh"
FINGERS = [COCO_17_HANDS.index(f"{s}_{n}") for s in ("left", "right") for n in HAND_21[1:]]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A 4-camera session: calibration, OpenPose folders with hands, and the truth ``(T, 59, 3)``."""
    root = tmp_path_factory.mktemp("hands")
    folders, X = write_session(root, CLIP)
    return root, folders, X


def run(root, folders, name, extra=()):
    out = root / f"{name}.trc"
    assert main(["triangulate", "--calib", str(root / "calib.toml"), "--keypoints", *map(str, folders),
                 "--fps", "60", "-o", str(out), "-q", *extra]) == 0
    m = read_trc(out)
    assert m.skeleton.name == COCO_17_HANDS.name
    return m.to_up("z").positions


def finger_errors(P, X):
    return np.linalg.norm(P[:, FINGERS] - X[:, FINGERS], axis=-1)


@pytest.mark.parametrize("smooth", [False, True])
def test_forty_finger_points_within_ten_mm(session, smooth):
    root, folders, X = session
    P = run(root, folders, f"smooth{smooth}", ["--smooth"] if smooth else [])
    e = finger_errors(P, X)
    assert len(FINGERS) == 40
    present, mean, p95 = np.isfinite(e).mean(), np.nanmean(e), np.nanpercentile(e, 95)
    print(f"smooth={smooth}: {100 * present:.2f} % present, mean {1000 * mean:.2f} mm, p95 {1000 * p95:.2f} mm, "
          f"p99.9 {1000 * np.nanpercentile(e, 99.9):.1f} mm")
    assert present >= 0.95 and mean <= 0.010 and p95 <= 0.012
    flex_err = np.abs(flexion_angles(P[:, 17:38]) - flexion_angles(X[:, 17:38]))
    assert np.nanmedian(flex_err) <= 10.0


def test_finger_bones_keep_their_length_after_refinement(session):
    root, folders, X = session
    bones = np.array([b for b in COCO_17_HANDS.rigid_bone_indices if COCO_17_HANDS.joints[b[1]] in
                      {COCO_17_HANDS.joints[i] for i in FINGERS}])
    assert len(bones) == 46  # 20 along the fingers + 3 across the knuckles, per hand

    def cv(P):
        L = np.linalg.norm(P[:, bones[:, 0]] - P[:, bones[:, 1]], axis=-1)
        return np.nanstd(L, 0) / np.nanmean(L, 0)

    raw, refined = cv(run(root, folders, "raw")), cv(run(root, folders, "refined", ["--smooth"]))
    print(f"finger bone length CV: raw median {100 * np.median(raw):.1f} % max {100 * raw.max():.1f} %; "
          f"refined median {100 * np.median(refined):.2f} % max {100 * refined.max():.2f} %")
    assert refined.max() <= 0.02 and np.median(refined) < np.median(raw) / 3


def test_a_hand_never_seen_is_said(session, capsys):
    root, folders, _ = session
    m = read_trc(root / "smoothFalse.trc") if (root / "smoothFalse.trc").exists() else None
    if m is None:
        run(root, folders, "smoothFalse")
        m = read_trc(root / "smoothFalse.trc")
    right = [i for i, n in enumerate(m.skeleton.joints) if n.startswith("right_") and n[6:] in HAND_21[1:]]
    m.positions[:, right] = np.nan
    write_motion(m, root / "one_hand.trc")
    assert main(["convert", str(root / "one_hand.trc"), str(root / "one_hand.bvh")]) == 0
    out = capsys.readouterr().out
    assert "the right hand's fingers were never seen: its finger bones keep the rest pose" in out
    assert "LeftHandIndex3" in (root / "one_hand.bvh").read_text()
