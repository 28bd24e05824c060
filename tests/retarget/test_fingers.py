"""Finger bones: both hands' 21 points (synthetic hands on real motion, 4 cameras, triangulated and refined) retargeted
to each rig's 15 finger bones per hand, written as BVH, imported by Blender's own importer and read back."""
import numpy as np
import pytest

from conftest import FILE_TO_BLENDER, ROOT, blender_joint_positions
from mocap.cli.main import main
from mocap.core.skeletons import COCO_17_HANDS
from mocap.io.bvh import write_bvh
from mocap.io.motion import load_motion, read_trc
from mocap.retarget.rigs import FINGER_BONES, FINGERS, RIGS
from mocap.retarget.solve import FINGER_POINTS, retarget
from mocap.core.hands import flexion_angles
from mocap.testing.hands import write_session

CLIP = ROOT / "tests" / "data" / "mocap" / "cmu_131" / "scaled_131_01.bvh"


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """The truth ``(T, 59, 3)`` (Z-up) and what `mocap triangulate --smooth` made of its 4 views (a TRC)."""
    root = tmp_path_factory.mktemp("fingers")
    folders, X = write_session(root, CLIP)
    assert main(["triangulate", "--calib", str(root / "calib.toml"), "--keypoints", *map(str, folders), "--fps", "60",
                 "-o", str(root / "hands.trc"), "-q", "--smooth"]) == 0
    return root, X


def finger_positions(P, names, side):
    """``(T, 20, 3)`` a hand's finger joints and tips from a rig motion's positions (names without a prefix)."""
    S = side.title()
    cols = [names.index(f"{S}Hand{f.title()}{k}" if k < 4 else f"{S}Hand{f.title()}3_End")
            for f in FINGERS for k in (1, 2, 3, 4)]
    return P[:, cols]


def truth_fingers(X, side):
    return X[:, [COCO_17_HANDS.index(f"{side}_{n}") for f in FINGERS for n in FINGER_POINTS[f]]]


def test_bvh_fingers_read_back_where_the_hand_was(captured, tmp_path):
    root, X = captured
    assert main(["convert", str(root / "hands.trc"), str(tmp_path / "hands.bvh"), "--rig", "mixamo"]) == 0
    assert main(["convert", str(tmp_path / "hands.bvh"), str(tmp_path / "back.trc")]) == 0
    back = load_motion(tmp_path / "back.trc").to_up("z")
    names = [n.split(":")[-1] for n in back.names]
    assert sum(n.startswith("LeftHand") and not n.endswith("_End") for n in names) == 1 + 15
    rel, absolute, flex = [], [], []
    for side in ("left", "right"):
        wrist, true_wrist = back.positions[:, names.index(f"{side.title()}Hand")], X[:, COCO_17_HANDS.index(f"{side}_wrist")]
        got, true = finger_positions(back.positions, names, side), truth_fingers(X, side)
        rel.append(np.linalg.norm((got - wrist[:, None]) - (true - true_wrist[:, None]), axis=-1))
        ground = np.nanmedian(wrist[:, 2] - true_wrist[:, 2])  # the rig stands on the floor: one vertical shift
        absolute.append(np.linalg.norm(got - true - [0, 0, ground], axis=-1))
        hand = np.concatenate([wrist[:, None], got], axis=1)  # HAND_21's order: wrist, then each finger base to tip
        flex.append(np.abs(flexion_angles(hand) - flexion_angles(X[:, COCO_17_HANDS.index(f"{side}_hand_wrist"):][:, :21])))
    rel, absolute, flex = np.concatenate(rel, 1), np.concatenate(absolute, 1), np.concatenate(flex, 1)
    print(f"40 finger joints from the BVH: relative to the wrist mean {1000 * rel.mean():.1f} mm, p95 "
          f"{1000 * np.percentile(rel, 95):.1f}, max {1000 * rel.max():.1f}; absolute mean {1000 * absolute.mean():.1f} "
          f"mm, p95 {1000 * np.percentile(absolute, 95):.1f}; flexion error median {np.median(flex):.1f} deg, p95 "
          f"{np.percentile(flex, 95):.1f}")
    assert rel.shape[1] == 40 and rel.mean() <= 0.005 and rel.max() <= 0.015
    assert np.median(flex) <= 10.0


@pytest.mark.bpy
@pytest.mark.parametrize("rig", sorted(RIGS))
def test_blender_imports_the_finger_bones(captured, rig, tmp_path):
    root, _ = captured
    r = retarget(read_trc(root / "hands.trc"), rig)
    assert r.hands and not r.notes
    path = tmp_path / f"{rig}.bvh"
    write_bvh(r.to_bvh("cm"), path)
    _, P = r.global_transforms()
    frames = np.linspace(0, len(P) - 1, 8).astype(int)
    ref, fps, n = blender_joint_positions(path, 0.01, frames)
    assert n == len(P) and abs(fps - 60) < 0.5
    fingers = [(j, r.rig.names[role]) for j, role in enumerate(r.roles) if role in FINGER_BONES]
    assert len(fingers) == 30 and all(name in ref for _, name in fingers)
    worst = max(np.abs(P[frames, j] @ FILE_TO_BLENDER.T - ref[name]).max() for j, name in fingers)
    print(f"{rig}: Blender's finger joints vs ours worst {1000 * worst:.4f} mm")
    assert worst < 1e-4
