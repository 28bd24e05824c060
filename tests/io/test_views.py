"""Every camera's keypoints from any layout the package reads: `triangulate --keypoints` gives the same 3D from
OpenPose folders, one NPZ or CSV holding every camera, one `mocap detect` NPZ per camera, or COCO JSON per camera."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from mocap.associate.tracks import select_person
from mocap.cli.main import main
from mocap.io.calibration import read_calibration
from mocap.core.skeletons import get_skeleton
from mocap.errors import MocapError
from mocap.io.keypoints import read_views, write_keypoints, write_people_npz
from mocap.io.motion import read_trc

DEMO = ROOT / "mocap" / "data" / "demo"


@pytest.fixture(scope="module")
def demo():
    """Every person in the demo's four views, and the one the triangulation keeps."""
    multi = read_views([DEMO / "pose"], fps=30.0)
    kp, _ = select_person(multi.data, read_calibration(DEMO / "calib.toml"), multi.skeleton, multi.fps,
                          camera_names=multi.camera_names, frames=multi.frames)
    return multi, kp


def triangulate(tmp_path, keypoints, name, extra=()):
    out = tmp_path / f"{name}.trc"
    assert main(["triangulate", "--calib", str(DEMO / "calib.toml"), "--keypoints", *map(str, keypoints),
                 "-o", str(out), "-q", *extra]) == 0
    return read_trc(out).positions


def coco(path, kp, c):
    """Camera ``c`` of ``kp`` as COCO results: one entry per frame with a detection, image_id = frame number."""
    doc = [{"image_id": int(n), "keypoints": np.nan_to_num(kp.data[c, t]).ravel().round(4).tolist(), "score": 0.9}
           for t, n in enumerate(kp.frames) if (kp.data[c, t, :, 2] > 0).any()]
    path.write_text(json.dumps(doc))
    return path


def test_every_layout_gives_the_same_3d(tmp_path, demo):
    multi, kp = demo
    ref = triangulate(tmp_path, [DEMO / "pose"], "folders", ["--fps", "30"])
    assert np.isfinite(ref).mean() > 0.9
    write_keypoints(kp, tmp_path / "all.npz")
    write_keypoints(kp, tmp_path / "all.csv")
    P = multi.data.shape[2]  # mocap detect's NPZ: everyone in the view (the triangulation picks the person)
    per_cam = [write_people_npz(multi.data[c], np.arange(1, P + 1), kp.skeleton, 30.0, frames=kp.frames,
                                path=tmp_path / f"{n}.npz", camera="video") for c, n in enumerate(kp.camera_names)]
    jsons = [coco(tmp_path / f"{n}.json", kp, c) for c, n in enumerate(kp.camera_names)]
    for name, files, extra in [("npz", [tmp_path / "all.npz"], []), ("csv", [tmp_path / "all.csv"], []),
                               ("detect", per_cam, []), ("coco", jsons, ["--skeleton", kp.skeleton.name])]:
        got = triangulate(tmp_path, files, name, extra)
        assert got.shape == ref.shape, name
        np.testing.assert_allclose(got, ref, atol=1e-3, err_msg=name)  # TRC rounds to 0.1 mm


def test_cameras_follow_the_calibration_by_name(tmp_path, demo):
    """One file holding every camera under the calibration's names, in another order: put back in order."""
    _, kp = demo
    ref = triangulate(tmp_path, [DEMO / "pose"], "ref")
    order = list(range(kp.n_cameras))[::-1]
    shuffled = type(kp)(kp.data[order], kp.skeleton, kp.fps, [kp.camera_names[c] for c in order], kp.frames)
    write_keypoints(shuffled, tmp_path / "reversed.npz")
    np.testing.assert_allclose(triangulate(tmp_path, [tmp_path / "reversed.npz"], "reversed"), ref, atol=1e-3)


def test_frames_are_matched_by_number(tmp_path, demo):
    _, kp = demo
    files = []
    for c, n in enumerate(kp.camera_names):
        keep = slice(c, None)  # camera c starts c frames later
        files.append(write_people_npz(kp.data[c, keep][:, None], [1], kp.skeleton, 30.0, frames=kp.frames[keep],
                                      path=tmp_path / f"{n}.npz"))
    with pytest.raises(MocapError, match="different frame counts") as e:
        read_views(files)
    assert e.value.path is not None
    multi = read_views(files, unequal=True)
    assert multi.data.shape[:2] == (kp.n_cameras, kp.n_frames)
    np.testing.assert_array_equal(multi.frames, kp.frames)
    for c in range(kp.n_cameras):  # frame numbers, not positions: the late camera's first frames are empty
        assert (multi.data[c, :c, 0, :, 2] == 0).all()
        np.testing.assert_array_equal(multi.data[c, c:, 0], kp.data[c, c:])


def test_mismatched_sources_are_named(tmp_path, demo):
    _, kp = demo
    a = write_people_npz(kp.data[0][:, None], [1], kp.skeleton, 30.0, frames=kp.frames, path=tmp_path / "a.npz")
    b = write_people_npz(kp.data[1][:, None], [1], kp.skeleton, 60.0, frames=kp.frames, path=tmp_path / "b.npz")
    with pytest.raises(MocapError, match="60 fps") as e:
        read_views([a, b])
    assert Path(e.value.path).name == "b.npz"
    other = write_people_npz(kp.data[1][:, None, :17], [1], get_skeleton("coco_17"), 30.0, frames=kp.frames, path=tmp_path / "c.npz")
    with pytest.raises(MocapError, match="layout") as e:
        read_views([a, other])
    assert Path(e.value.path).name == "c.npz"
    shutil.copytree(DEMO / "pose" / "cam01_json", tmp_path / "cam01_json")
    with pytest.raises(MocapError, match="not both"):
        read_views([tmp_path / "cam01_json", a])
    with pytest.raises(MocapError, match="not found") as e:
        read_views([a, tmp_path / "missing.npz"])
    assert Path(e.value.path).name == "missing.npz"
