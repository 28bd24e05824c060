"""Hands from real video: `mocap detect --hands` on the four Pose2Sim videos (portrait 1080 x 1920, 60 fps), the hand
landmark model on the regions each person's arms predict, then `mocap triangulate --smooth` of the four views."""
import json

import numpy as np
import pytest

from conftest import CALIB, TRIAL, need
from mocap.cli.main import main
from mocap.core.hands import HINGE_LIMITS_DEG, signed_flexion
from mocap.core.skeletons import MEDIAPIPE_33_HANDS, hand_joints
from mocap.io.motion import read_trc

pytest.importorskip("ai_edge_litert")
pytestmark = [pytest.mark.video, pytest.mark.slow]
VIDEOS = [TRIAL / "videos" / f"cam0{i}.mp4" for i in range(1, 5)]
WRIST = {"left": 15, "right": 16}


@pytest.fixture(scope="module")
def detected(tmp_path_factory):
    from mocap.pipelines.detect import detect_cameras
    from mocap.pipelines.options import DetectOptions

    root = tmp_path_factory.mktemp("hands_video")
    folders, seen = detect_cameras([need(v) for v in VIDEOS], root / "pose", DetectOptions(hands=True))
    return root, folders, seen


def test_hands_are_found_on_their_own_side(detected):
    _, folders, seen = detected
    doc = json.loads(sorted(folders[0].iterdir())[0].read_text())
    assert len(doc["people"][0]["hand_left_keypoints_2d"]) == 63
    shares = []
    for s in seen:
        k = s.index(s.most_present())
        body, hands, (W, H) = s.keypoints[:, k], s.hands[:, k], s.size
        for j, side in enumerate(("left", "right")):
            wrist = body[:, WRIST[side]]
            in_picture = (wrist[:, 2] > 0.5) & (wrist[:, 0] >= 0) & (wrist[:, 0] < W) & (wrist[:, 1] >= 0) & (wrist[:, 1] < H)
            found = hands[:, 21 * j, 2] > 0
            shares.append(found[in_picture].mean())
            # never swapped: the hand's wrist is by its own side's wrist, not the other's
            other = body[:, WRIST["right" if side == "left" else "left"], :2]
            own_d = np.linalg.norm(hands[found, 21 * j, :2] - wrist[found, :2], axis=-1)
            other_d = np.linalg.norm(hands[found, 21 * j, :2] - other[found], axis=-1)
            assert (own_d < other_d).all(), (s.source, side)
    print("hand found where its wrist is in the picture (cam01..04, left/right): "
          + ", ".join(f"{100 * x:.0f} %" for x in shares))
    assert min(shares) >= 0.5 and np.mean(shares) >= 0.65


def test_triangulated_fingers_keep_their_length_and_range(detected, capsys):
    root, folders, _ = detected
    out = root / "hands.trc"
    assert main(["triangulate", "--calib", str(CALIB), "--keypoints", *map(str, folders), "-o", str(out),
                 "--smooth"]) == 0
    limited = [line for line in capsys.readouterr().out.splitlines() if "finger joints bent past their range" in line]
    print(limited[0].strip() if limited else "no finger joint past its range")
    m = read_trc(out)
    assert m.skeleton is MEDIAPIPE_33_HANDS
    sk = m.skeleton
    first_hand = sk.index("left_hand_wrist")  # the finger bones: both ends on a hand, not from its wrist point
    fingers = [b for b in sk.rigid_bone_indices if b[0] >= first_hand and not sk.joints[b[0]].endswith("hand_wrist")]
    L = np.linalg.norm(m.positions[:, [b[0] for b in fingers]] - m.positions[:, [b[1] for b in fingers]], axis=-1)
    seen = np.isfinite(L).mean(0)
    cv = np.nanstd(L, 0) / np.nanmean(L, 0)
    present = np.isfinite(m.positions[:, sk.index("left_hand_wrist"):]).all(-1).mean()
    print(f"hands in 3D: {100 * present:.0f} % of hand points present; finger bone length CV median "
          f"{100 * np.nanmedian(cv):.1f} %, max {100 * np.nanmax(cv):.1f} % ({len(fingers)} bones)")
    assert present >= 0.5 and np.nanmax(cv[seen > 0.2]) <= 0.10
    for side in ("left", "right"):  # no finger bent backwards or in past a hand's range (mocap.core.hands)
        P = m.positions[:, [sk.index(n) for n in hand_joints(side)]]
        f = signed_flexion(P, side)
        for k, (lo, hi) in HINGE_LIMITS_DEG.items():
            assert np.nanmin(f[..., k]) >= lo - 1e-6 and np.nanmax(f[..., k]) <= hi + 1e-6, (side, k)


def test_one_camera_hand_shapes_bend_as_the_four_views_see_them(detected):
    """The hand model's own 3D points of one camera (cam02), mirrored back where it picked the mirror image in depth
    (:func:`mocap.core.hands.undo_depth_flip`), against the four views' triangulated hands of the same frames: the
    fingers' joints bend the same way (signed flexion), not backwards."""
    root, folders, seen = detected
    out = root / "reference.trc"
    assert main(["triangulate", "--calib", str(CALIB), "--keypoints", *map(str, folders), "-o", str(out), "-q",
                 "--smooth"]) == 0
    ref = read_trc(out)
    cam = seen[1]
    k = cam.index(cam.most_present())
    for j, side in enumerate(("left", "right")):
        truth = signed_flexion(ref.positions[:, [ref.skeleton.index(n) for n in hand_joints(side)]], side)
        shapes = cam.hand_world[:, k, j]
        f = signed_flexion(shapes, side)
        e = np.abs(f - truth)
        ok = np.isfinite(e).all(axis=(1, 2))
        backwards = np.mean(f[ok][..., 1] < -10)
        print(f"cam02 {side} hand, {ok.sum()} frames: signed flexion against the 4 views median "
              f"{np.median(e[ok]):.1f} deg, p75 {np.percentile(e[ok], 75):.1f}; middle joints bent backwards "
              f"{100 * backwards:.0f} %")
        assert ok.sum() >= 40 and np.median(e[ok]) <= 20.0 and backwards <= 0.1


def test_video2bvh_with_hands_gives_moving_fingers_and_the_same_body(tmp_path, capsys):
    """One camera: the hand model's own 3D points on the lifted wrists -> 15 finger bones per hand; the body's
    joints are those of the body-only run."""
    from mocap.io.motion import load_motion

    video = need(VIDEOS[1])
    assert main(["video2bvh", str(video), "-o", str(tmp_path / "hands.bvh"), "--hands"]) == 0
    assert "fingers from the hand landmark model's own 3D points" in capsys.readouterr().out
    assert main(["video2bvh", str(video), "-o", str(tmp_path / "body.bvh"), "-q"]) == 0
    hands, body = load_motion(tmp_path / "hands.bvh"), load_motion(tmp_path / "body.bvh")
    names = [n.split(":")[-1] for n in hands.names]
    assert sum(n.startswith("LeftHand") and n[-1] in "123" for n in names) == 15
    shared = [n for n in body.names if not n.endswith("_End")]
    np.testing.assert_allclose(hands.positions[:, [hands.names.index(n) for n in shared]],
                               body.positions[:, [body.names.index(n) for n in shared]], atol=1e-6)
    P = hands.positions

    def length(a, b):
        return np.nanmedian(np.linalg.norm(P[:, names.index(a)] - P[:, names.index(b)], axis=-1))

    def flexion(a, b, c):
        u, v = P[:, names.index(b)] - P[:, names.index(a)], P[:, names.index(c)] - P[:, names.index(b)]
        return np.degrees(np.arccos(np.clip((u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1), -1, 1)))

    for side in ("Left", "Right"):
        middle = length(f"{side}HandMiddle1", f"{side}HandMiddle2") + length(f"{side}HandMiddle2", f"{side}HandMiddle3") \
            + length(f"{side}HandMiddle3", f"{side}HandMiddle3_End")
        pip = flexion(f"{side}HandIndex1", f"{side}HandIndex2", f"{side}HandIndex3")
        jitter = np.nanmedian(np.abs(np.diff(pip)))
        print(f"{side} hand: middle finger {100 * middle:.1f} cm, index PIP flexion p5/p95 "
              f"{np.percentile(pip, 5):.0f}/{np.percentile(pip, 95):.0f} deg, frame to frame {jitter:.2f} deg (median)")
        assert 0.05 <= middle <= 0.11 and np.percentile(pip, 95) - np.percentile(pip, 5) > 5.0
        assert np.nanmax(pip) < 120.0  # never bent further than a finger can
        assert jitter < 2.0  # the hand model's shapes low-passed (3.1 deg per frame on the left hand without)
