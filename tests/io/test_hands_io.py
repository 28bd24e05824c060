"""Layouts with hands (21 points per hand, left then right, after the body and face) and OpenPose's hand arrays."""
import json

import numpy as np
import pytest

from mocap.core.keypoints import Keypoints2D
from mocap.core.skeletons import (BODY_25B_HANDS, COCO_WHOLEBODY_133, HALPE_136, HAND_21, HAND_LAYOUTS, convert,
                                  get_skeleton, hand_joints)
from mocap.errors import MocapError
from mocap.io.keypoints import read_openpose_folders, read_views, write_keypoints, write_openpose_folders


def test_layouts_hold_21_points_per_hand_in_the_shared_order():
    assert HAND_21[:5] == ("hand_wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip")
    assert HAND_21[-4:] == ("pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip") and len(HAND_21) == 21
    sizes = {s.name: len(s) for s in HAND_LAYOUTS}
    assert sizes["halpe_136"] == 136 and sizes["coco_wholebody_133"] == 133 and sizes["body_25_hands"] == 67
    for s in HAND_LAYOUTS:
        assert s.joints[-42:] == hand_joints("left") + hand_joints("right")
        # each finger point hangs from the hand's wrist by a chain of rigid bones
        rigid = {tuple(sorted((s.joints[a], s.joints[b]))) for a, b in s.rigid_bone_indices}
        assert ("left_index_dip", "left_index_tip") in rigid and ("right_hand_wrist", "right_thumb_cmc") in rigid
    assert get_skeleton("wholebody") is COCO_WHOLEBODY_133 and get_skeleton("HALPE136") is HALPE_136
    # HALPE-136: body 0-25, face 26-93, left hand 94-114, right hand 115-135 (the published layout)
    assert HALPE_136.index("left_hand_wrist") == 94 and HALPE_136.index("right_pinky_tip") == 135
    assert COCO_WHOLEBODY_133.index("left_hand_wrist") == 91 and COCO_WHOLEBODY_133.index("face_0") == 23


def test_conversions_keep_the_hands():
    x = np.random.default_rng(0).uniform(0, 1000, (4, 133, 3))
    h = convert(x, COCO_WHOLEBODY_133, HALPE_136)
    np.testing.assert_array_equal(h[:, -42:], x[:, -42:])
    b = convert(x, COCO_WHOLEBODY_133, BODY_25B_HANDS)
    np.testing.assert_array_equal(b[:, -42:], x[:, -42:])
    # a body-only layout -> with hands: the hands' wrists from the body's, the fingers unknown (confidence 0)
    body = convert(x[:, :17], "coco_17", "coco_17_hands")
    np.testing.assert_array_equal(body[:, 17], x[:, 9])
    assert (body[:, 18:38, 2] == 0).all() and np.isnan(body[:, 18:38, 0]).all()


def person(body=25, left=21, right=21, seed=0):
    rng = np.random.default_rng(seed)
    arr = lambda n: np.c_[rng.uniform(10, 900, (n, 2)), rng.uniform(0.3, 1, n)].ravel().round(3).tolist()  # noqa
    return {"person_id": [-1], "pose_keypoints_2d": arr(body) if body else [],
            "hand_left_keypoints_2d": arr(left) if left else [], "hand_right_keypoints_2d": arr(right) if right else []}


def write_frames(folder, people_per_frame):
    folder.mkdir(parents=True, exist_ok=True)
    for t, people in enumerate(people_per_frame):
        (folder / f"cam_{t:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
    return folder


def test_openpose_hand_arrays_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    data = np.c_[rng.uniform(0, 1000, (2, 5, 67, 2)).reshape(-1, 2), rng.uniform(0.2, 1, 2 * 5 * 67)].reshape(2, 5, 67, 3)
    data[0, 2, 30:40] = [np.nan, np.nan, 0.0]  # a few fingers not seen
    kp = Keypoints2D(data.round(3), BODY_25B_HANDS, 30.0, ["a", "b"])
    folders = write_openpose_folders(kp, tmp_path)
    doc = json.loads(next(folders[0].iterdir()).read_text())["people"][0]
    assert len(doc["pose_keypoints_2d"]) == 75 and len(doc["hand_left_keypoints_2d"]) == 63
    back = read_openpose_folders(folders, fps=30.0)
    assert back.skeleton is BODY_25B_HANDS
    np.testing.assert_allclose(back.single().data, kp.data, atol=1e-3)
    # and through the package's own keypoint files
    write_keypoints(kp, tmp_path / "kp.npz")
    assert read_views([tmp_path / "kp.npz"]).skeleton is BODY_25B_HANDS


def test_one_hand_only_and_hands_without_a_body(tmp_path):
    frames = [[person(right=0)], [person(left=0)], [person(), person(body=0)], [person(left=0, right=0)]]
    m = read_openpose_folders([write_frames(tmp_path / "cam_json", frames)], skeleton="body_25b_hands")
    assert m.data.shape == (1, 4, 1, 67, 3)  # the hands without a body are not a person
    assert (m.data[0, 0, 0, 25:46, 2] > 0).all() and (m.data[0, 0, 0, 46:, 2] == 0).all()  # the missing hand: unseen
    assert (m.data[0, 3, 0, 25:, 2] == 0).all()  # a person without hands in a recording with hands
    assert len(m.notes) == 1 and "1 detections with hand keypoints but no body were skipped" in m.notes[0]


@pytest.mark.parametrize("bad, message", [({"hand_left_keypoints_2d": [1.0] * 60}, "hand_left_keypoints_2d has 60 values"),
                                          ({"hand_right_keypoints_2d": ["x"] * 63}, "hand_right_keypoints_2d holds non-numeric")])
def test_bad_hand_arrays_are_named(tmp_path, bad, message):
    p = person()
    p.update(bad)
    folder = write_frames(tmp_path / "cam_json", [[person()], [p]])
    with pytest.raises(MocapError, match=message) as e:
        read_openpose_folders([folder])
    assert "cam_000000000001_keypoints.json" in str(e.value)


def test_coco_wholebody_results_are_read_with_their_hands(tmp_path):
    """MMPose/RTMW write the 133 points in one ``keypoints`` list; the COCO-WholeBody dataset splits them."""
    rng = np.random.default_rng(2)
    pts = np.c_[rng.uniform(0, 1000, (3, 133, 2)).reshape(-1, 2), rng.uniform(0.3, 1, 3 * 133)].reshape(3, 133, 3).round(3)
    joined = [{"image_id": t, "keypoints": pts[t].ravel().tolist(), "score": 0.9} for t in range(3)]
    parts = {"keypoints": (0, 17), "foot_kpts": (17, 23), "face_kpts": (23, 91), "lefthand_kpts": (91, 112),
             "righthand_kpts": (112, 133)}
    split = [dict({"image_id": t, "score": 0.9}, **{k: pts[t, a:b].ravel().tolist() for k, (a, b) in parts.items()})
             for t in range(3)]
    (tmp_path / "joined.json").write_text(json.dumps(joined))
    (tmp_path / "split.json").write_text(json.dumps({"annotations": split}))
    for name in ("joined", "split"):
        m = read_views([tmp_path / f"{name}.json"])
        assert m.skeleton is COCO_WHOLEBODY_133, name
        np.testing.assert_allclose(m.data[0, :, 0], pts)
    (tmp_path / "odd.json").write_text(json.dumps([{"image_id": 0, "keypoints": [1.0, 2.0, 0.5] * 20}]))
    with pytest.raises(MocapError, match="cannot tell the skeleton of 20 keypoints"):
        read_views([tmp_path / "odd.json"])
