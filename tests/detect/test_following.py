"""The followed person for live use (:class:`mocap.detect.following.Follower`): one landmark call per frame whoever
else is in view, the same keypoints as the multi-person tracker gives that person, the detector only to find
someone, and found again after leaving the picture or being walked in front of."""
import cv2
import numpy as np
import pytest

from conftest import ROOT
from mocap.detect.following import Follower
from mocap.detect.tracking import PeopleTracker, body_centre
from mocap.testing.composite import SUBJECT_STRIPS, Strip, make_clip

pytest.importorskip("ai_edge_litert")
pytestmark = pytest.mark.video
VIDEO = ROOT / "tests" / "data" / "pose2sim" / "trial" / "videos"
DEMO = ROOT / "mocap" / "data" / "demo" / "cam01.mp4"  # the subject, and a second person in the background


def two_people(path, left, other=(0, 1, 2)):
    """A 1280 x 720, 30 fps clip: the subject (cam01's strip) and a second person (cam03's; its colour channels in the
    order ``other``: (2, 1, 0) gives them other clothes) at ``left (T, 2)``."""
    return make_clip(path, [Strip(VIDEO / "cam01.mp4", *SUBJECT_STRIPS[1]),
                            Strip(VIDEO / "cam03.mp4", *SUBJECT_STRIPS[3], channels=other)], left, size=(1280, 720), fps=30.0)


def follow(path, *, tracker=False):
    """Each frame's followed keypoints (None: nobody), the follower, its landmark calls, and with ``tracker`` the
    multi-person tracker's people of the same frames."""
    cap = cv2.VideoCapture(str(path))
    f = Follower(float(cap.get(cv2.CAP_PROP_FPS)))
    calls, landmarks = [0], f.model.landmarks

    def counted(*a):
        calls[0] += 1
        return landmarks(*a)

    f.model.landmarks = counted
    tr = PeopleTracker(fps=f.fps, max_people=4) if tracker else None
    out, people = [], []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        found = f.step(rgb, len(out))
        out.append(None if found is None else found[0])
        if tr is not None:
            people.append(tr.step(rgb, len(people)))
    f.close()
    return out, f, calls[0], people


def agreement(out, people):
    """Per frame, the median distance (px) between the followed keypoints and the tracker's person nearest them, and
    the IDs of those people."""
    diff, ids = [], set()
    for kp, seen in zip(out, people):
        best = min(seen, key=lambda p: np.linalg.norm(body_centre(p[1]) - body_centre(kp)))
        ids.add(best[0])
        diff.append(np.median(np.linalg.norm(best[1][:, :2] - kp[:, :2], axis=-1)))
    return np.array(diff), ids


@pytest.mark.parametrize("clip", ["composite", "demo"])
def test_one_landmark_call_per_frame_whoever_else_is_in_view(clip, tmp_path):
    path = DEMO if clip == "demo" else two_people(tmp_path / "two.mp4", np.tile([250.0, 800.0], (120, 1))).path
    out, f, calls, people = follow(path, tracker=True)
    assert all(kp is not None for kp in out) and f.person == 1
    assert calls == len(out) and f.detections == 1  # the first frame's search only, then the person's region
    diff, ids = agreement(out, people)
    print(f"{clip}: {len(out)} frames, {calls} landmark calls, {f.detections} detector search on the critical path; "
          f"against the multi-person tracker's person {ids}: median {np.median(diff):.2f} px, max {diff.max():.2f}")
    assert ids == {1} and np.median(diff) < 1.0 and diff.max() < 4.0
    assert f.switches == 0 and max(f.distances) < 0.5 * f.appearance_max  # the subject's colours all along
    if clip == "demo":  # the subject, not the person in the background
        assert np.ptp(np.stack(out)[:, :, 1], axis=1).min() > 0.3 * 1920


def test_found_again_after_leaving_and_after_a_bystander_walks_by(tmp_path):
    T = 240
    left = np.full((T, 2), np.nan)
    left[:, 0] = 300.0
    left[60:100, 0] = np.nan  # the subject leaves for 40 frames
    left[120:, 1] = np.linspace(1300, -500, T - 120)  # then someone walks by in front of them, right to left
    clip = two_people(tmp_path / "cross.mp4", left)
    out, f, calls, _ = follow(clip.path)
    x = np.array([np.nan if kp is None else body_centre(kp)[0] for kp in out])
    subject = (300.0, 300.0 + 240.0)
    gone = [t for t in range(60, 100) if out[t] is not None]
    back = next(t for t in range(100, T) if out[t] is not None)
    print(f"found in {len(gone)} of the 40 frames the subject was away; back at frame {back}; "
          f"{f.detections} detector searches, {sum(kp is None for kp in out)} frames with nobody followed; person IDs "
          f"{f.person}; last 20 frames at x {np.nanmin(x[-20:]):.0f}-"
          f"{np.nanmax(x[-20:]):.0f} px (subject {subject})")
    assert not gone and back <= 105  # nobody sent while away; found again within 5 frames (0.17 s) of coming back
    nobody = sum(kp is None for kp in out)  # a search is one detector call, on frames with nobody followed only
    assert f.detections <= nobody + f.person + 1 and calls <= T + 3 * (f.detections + 2)
    assert subject[0] <= np.nanmin(x[-20:]) and np.nanmax(x[-20:]) <= subject[1]  # the subject again at the end


def test_someone_in_other_clothes_walking_in_front_does_not_take_the_follow(tmp_path):
    """The region slides onto whoever covers the followed person; their torso colours give them away: nothing is sent
    while the subject is hidden, and the subject is followed again when they reappear (the bystander never is)."""
    T = 240
    left = np.column_stack([np.full(T, 300.0), np.linspace(1300, -500, T)])
    clip = two_people(tmp_path / "cross.mp4", left, other=(2, 1, 0))
    out, f, _, _ = follow(clip.path)
    x = np.array([np.nan if kp is None else body_centre(kp)[0] for kp in out])
    hidden = np.flatnonzero(np.isnan(x))
    print(f"followed in {np.isfinite(x).sum()} of {T} frames, at x {np.nanmin(x):.0f}-{np.nanmax(x):.0f} px (the subject "
          f"300-540); nothing sent in frames {hidden.min()}-{hidden.max()} (the bystander covers 300-540 in frames "
          f"{np.flatnonzero((left[:, 1] < 540) & (left[:, 1] + 240 > 300))[[0, -1]]}); {f.switches} region dropped for "
          f"its colours; colour distance median {np.median(f.distances):.2f}, max {max(f.distances):.2f}")
    assert 300 <= np.nanmin(x) and np.nanmax(x) <= 540  # never the bystander
    assert f.switches >= 1 and len(hidden) <= 60 and np.isfinite(x[-60:]).all()
