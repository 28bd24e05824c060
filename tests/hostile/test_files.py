"""Hostile files for every reader: each case is a damaged or malicious variant of a valid seed file
(``tests/hostile/seeds``) and the exact error it must give, through the API (a :class:`MocapError` naming the
file, with the words below) and through ``mocap info`` (one ``error:`` line, exit code 2, no traceback)."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from mocap.cli.main import main
from mocap.errors import MocapError
from mocap.io import bvh, calibration, keypoints, motion, offsets

SEEDS = Path(__file__).resolve().parent / "seeds"


def seed(name: str) -> str:
    return (SEEDS / name).read_text()


def sub(name: str, old: str, new: str, count: int = 1) -> str:
    text = seed(name)
    assert old in text, (name, old)
    return text.replace(old, new, count)


def bvh_rows(edit) -> str:
    """The seed BVH with its frame lines edited by ``edit(list of rows) -> rows``."""
    head, rows = seed("clip.bvh").split("Frame Time:", 1)
    ft, *lines = rows.split("\n")
    return head + "Frame Time:" + ft + "\n" + "\n".join(edit([ln for ln in lines if ln.strip()])) + "\n"


def npz_bytes(**arrays) -> bytes:
    import io

    base = dict(np.load(SEEDS / "clip.npz"))
    base.update(arrays)
    for k in [k for k, v in arrays.items() if v is None]:
        del base[k]
    out = io.BytesIO()
    np.savez(out, **base)
    return out.getvalue()


BVH = bvh.read_bvh
# (id, file name, content (str or bytes), reader, words the error must hold)
CASES = [
    ("bvh-short-row", "a.bvh", bvh_rows(lambda r: r[:3] + [" ".join(r[3].split()[:-5])] + r[4:]), BVH, "frame has"),
    ("bvh-long-row", "a.bvh", bvh_rows(lambda r: [r[0] + " 1.0"] + r[1:]), BVH, "channels"),
    ("bvh-frames-0", "a.bvh", sub("clip.bvh", "Frames: 8", "Frames: 0"), BVH, "no motion"),
    ("bvh-frames-negative", "a.bvh", sub("clip.bvh", "Frames: 8", "Frames: -3"), BVH, "no motion"),
    ("bvh-frames-huge", "a.bvh", sub("clip.bvh", "Frames: 8", "Frames: 1000000000000"), BVH, "only 8 frame lines"),
    ("bvh-frames-word", "a.bvh", sub("clip.bvh", "Frames: 8", "Frames: eight"), BVH, "Frames: N"),
    ("bvh-frame-time-0", "a.bvh", re.sub(r"Frame Time: \S+", "Frame Time: 0", seed("clip.bvh")), BVH, "Frame Time"),
    ("bvh-frame-time-nan", "a.bvh", re.sub(r"Frame Time: \S+", "Frame Time: nan", seed("clip.bvh")), BVH, "Frame Time"),
    ("bvh-nan-value", "a.bvh", bvh_rows(lambda r: [r[0].replace(r[0].split()[4], "nan", 1)] + r[1:]), BVH, "not finite"),
    ("bvh-word-value", "a.bvh", bvh_rows(lambda r: r[:2] + [r[2].replace(r[2].split()[7], "abc", 1)] + r[3:]), BVH,
     "non-numeric"),
    ("bvh-duplicate-joint", "a.bvh", sub("clip.bvh", "JOINT Spine1", "JOINT Spine"), BVH, "appears twice"),
    ("bvh-duplicate-axes", "a.bvh", sub("clip.bvh", "CHANNELS 3 Zrotation Xrotation Yrotation",
                                        "CHANNELS 3 Zrotation Zrotation Yrotation"), BVH, "repeats an axis"),
    ("bvh-channel-count", "a.bvh", sub("clip.bvh", "CHANNELS 3 Zrotation", "CHANNELS 4 Zrotation"), BVH, "CHANNELS"),
    ("bvh-unknown-channel", "a.bvh", sub("clip.bvh", "Zrotation Xrotation", "Wrotation Xrotation"), BVH, "CHANNELS"),
    ("bvh-no-motion", "a.bvh", seed("clip.bvh").split("MOTION")[0], BVH, "HIERARCHY/MOTION"),
    ("bvh-unclosed", "a.bvh", seed("clip.bvh").replace("}\nMOTION", "\nMOTION"), BVH, "unclosed"),
    ("bvh-extra-brace", "a.bvh", sub("clip.bvh", "HIERARCHY", "HIERARCHY\n}"), BVH, "'}'"),
    ("bvh-offset-short", "a.bvh", sub("clip.bvh", "OFFSET 0.000000 13.913140 0.000000", "OFFSET 0.0 13.9"), BVH,
     "OFFSET needs 3"),
    ("bvh-empty", "a.bvh", "", BVH, "HIERARCHY/MOTION"),
    ("bvh-binary", "a.bvh", bytes(range(256)) * 4, BVH, ""),
    ("trc-empty", "a.trc", "", motion.read_trc, "not a TRC"),
    ("trc-header-only", "a.trc", "\n".join(seed("clip.trc").split("\n")[:5]), motion.read_trc, ""),
    ("trc-rate-negative", "a.trc", sub("clip.trc", "60\t60\t8", "-30\t-30\t8"), motion.read_trc, ""),
    ("trc-word", "a.trc", sub("clip.trc", "0.9015045550714222", "abc"), motion.read_trc, ""),
    ("trc-markers-wrong", "a.trc", sub("clip.trc", "\t8\t21\t", "\t8\t99\t"), motion.read_trc, ""),
    ("csv-header-only", "a.csv", "\n".join(seed("clip.csv").split("\n")[:2]) + "\n",
     motion.read_csv, "no frame rows"),
    ("csv-ragged", "a.csv", seed("clip.csv").rstrip("\n") + "\n1.0,2.0\n", motion.read_csv, "values, the header has"),
    ("csv-bad-header", "a.csv", "x,y\n1,2\n", motion.read_csv, "header"),
    ("csv-fps-word", "a.csv", re.sub(r"fps=[^;\n]+", "fps=fast", seed("clip.csv"), count=1), motion.read_csv, "not a number"),
    ("csv-fps-negative", "a.csv", re.sub(r"fps=[^;\n]+", "fps=-5", seed("clip.csv"), count=1), motion.read_csv,
     "not a frame rate"),
    ("npz-zero-bytes", "a.npz", b"", motion.load_motion, "not a mocap motion .npz"),
    ("npz-text", "a.npz", "hello", motion.load_motion, "not a mocap motion .npz"),
    ("npz-no-positions", "a.npz", npz_bytes(positions=None), motion.load_motion, "positions"),
    ("npz-wrong-shape", "a.npz", npz_bytes(positions=np.zeros((8, 3))), motion.load_motion, "not a mocap motion"),
    ("npz-fps-nan", "a.npz", npz_bytes(fps=np.array(np.nan)), motion.load_motion, "fps"),
    ("npz-names-scalar", "a.npz", npz_bytes(joint_names=np.array("x")), motion.load_motion, "not a mocap motion"),
    ("npz-duplicate-names", "a.npz", npz_bytes(joint_names=np.array(["a"] * 21), skeleton=np.array("custom")),
     motion.load_motion, "more than once"),
    ("c3d-zero-bytes", "a.c3d", b"", motion.read_c3d, "C3D"),
    ("c3d-truncated", "a.c3d", (SEEDS / "clip.c3d").read_bytes()[:700], motion.read_c3d, "C3D"),
    ("c3d-garbage", "a.c3d", bytes(range(256)) * 20, motion.read_c3d, "C3D"),
    ("toml-translation-1", "c.toml", re.sub(r"translation = \[[^\]]*\]", "translation = [ 1.0]", seed("calib.toml"),
                                            count=1), calibration.read_calibration, "translation needs 3 values"),
    ("toml-size-zero", "c.toml", re.sub(r"size = \[[^\]]*\]", "size = [ 0, 0]", seed("calib.toml"), count=1),
     calibration.read_calibration, "image size"),
    ("toml-size-inf", "c.toml", re.sub(r"size = \[[^\]]*\]", "size = [ inf, inf]", seed("calib.toml"), count=1),
     calibration.read_calibration, "image size"),
    ("toml-matrix-2x2", "c.toml", re.sub(r"matrix = .*", "matrix = [[1.0, 0.0], [0.0, 1.0]]", seed("calib.toml"), count=1),
     calibration.read_calibration, "malformed"),
    ("toml-focal-zero", "c.toml", re.sub(r"matrix = \[ \[ [^,]+,", "matrix = [ [ 0.0,", seed("calib.toml"), count=1),
     calibration.read_calibration, "focal"),
    ("toml-rotation-2", "c.toml", re.sub(r"rotation = \[[^\]]*\]", "rotation = [ 1.0, 2.0]", seed("calib.toml"), count=1),
     calibration.read_calibration, "malformed"),
    ("toml-nan", "c.toml", re.sub(r"translation = \[ [^,]+,", "translation = [ nan,", seed("calib.toml"), count=1),
     calibration.read_calibration, "non-finite"),
    ("toml-syntax", "c.toml", "[cam_01\nname = ", calibration.read_calibration, "TOML"),
    ("toml-no-camera", "c.toml", "[metadata]\nerror = 0.0\n", calibration.read_calibration, "no camera"),
    ("toml-distortion-3", "c.toml", re.sub(r"distortions = \[[^\]]*\]", "distortions = [ 0.1, 0.2, 0.3]",
                                           seed("calib.toml"), count=1), calibration.read_calibration, "distortion"),
    ("qca-encoding", "c.qca.txt", sub("calib.qca.txt", "encoding='ASCII'", "encoding='ASCinfII'"),
     calibration.read_calibration, "Qualisys"),
    ("qca-not-xml", "c.qca.txt", "not xml at all <<<", calibration.read_calibration, "Qualisys"),
    ("qca-no-camera", "c.qca.txt", "<calibration><cameras></cameras></calibration>", calibration.read_calibration,
     "no <camera>"),
    ("qca-missing-attr", "c.qca.txt", re.sub(r'focalLengthU="[^"]*"', "", seed("calib.qca.txt"), count=1),
     calibration.read_calibration, "malformed"),
    ("openpose-people-negative", "cam01_json/cam01.0001.json", '{"version": 1.3, "people": -1}',
     lambda p: keypoints.read_openpose_folders([p.parent]), "'people' must be a list"),
    ("openpose-nested", "cam01_json/cam01.0001.json", "[" * 100_000 + "]" * 100_000,
     lambda p: keypoints.read_openpose_folders([p.parent]), ""),
    ("openpose-list", "cam01_json/cam01.0001.json", "[1, 2, 3]",
     lambda p: keypoints.read_openpose_folders([p.parent]), "top level is not an object"),
    ("openpose-strings", "cam01_json/cam01.0001.json", '{"people": [{"pose_keypoints_2d": ["a", "b", "c"]}]}',
     lambda p: keypoints.read_openpose_folders([p.parent]), "non-numeric"),
    ("openpose-count", "cam01_json/cam01.0001.json", '{"people": [{"pose_keypoints_2d": [1, 2, 3, 4]}]}',
     lambda p: keypoints.read_openpose_folders([p.parent]), "multiple of 3"),
    ("openpose-empty-file", "cam01_json/cam01.0001.json", "",
     lambda p: keypoints.read_openpose_folders([p.parent]), "not valid JSON"),
    ("openpose-nobody", "cam01_json/cam01.0001.json", '{"people": []}',
     lambda p: keypoints.read_openpose_folders([p.parent]), "no person"),
    ("coco-object", "c.json", '{"a": 1}', keypoints.read_coco_results, "COCO"),
    ("coco-keypoints-dict", "c.json", '[{"image_id": 1, "keypoints": {"x": 1}}]', keypoints.read_coco_results,
     "keypoints"),
    ("coco-image-id-dict", "c.json", json.dumps([{"image_id": {"a": 1}, "keypoints": [0] * 51}]),
     keypoints.read_coco_results, "image_id"),
    ("coco-count", "c.json", json.dumps([{"image_id": 1, "keypoints": [0] * 50}]), keypoints.read_coco_results,
     "keypoints"),
    ("kp-csv-header", "k.csv", "a,b,c\n", keypoints.read_keypoints, "header"),
    ("kp-csv-frame-float", "k.csv", re.sub(r"\n(\w+),0,", r"\n\1,0.5,", seed("keypoints.csv"), count=1),
     keypoints.read_keypoints, "whole number"),
    ("kp-csv-short-row", "k.csv", seed("keypoints.csv").rstrip("\n") + "\ncam01,3\n", keypoints.read_keypoints,
     "expected camera"),
    ("kp-csv-binary", "k.csv", b"camera,frame,joint,x,y,confidence\n\xff\xfe\x00\x81", keypoints.read_keypoints, ""),
    ("kp-npz-zero-bytes", "k.npz", b"", keypoints.read_keypoints, "keypoint .npz"),
    ("kp-unknown-suffix", "k.xyz", "1 2 3", keypoints.read_keypoints, "unknown keypoint format"),
    ("offsets-no-cameras", "o.toml", '[sync]\nreference = "cam01"\n', offsets.read_offsets, "offsets"),
    ("offsets-fps-word", "o.toml", re.sub(r"fps = \S+", 'fps = "fast"', seed("offsets.toml"), count=1),
     offsets.read_offsets, "offsets"),
    ("offsets-syntax", "o.toml", "[sync\n", offsets.read_offsets, "offsets"),
]
INFO = {".bvh", ".trc", ".csv", ".npz", ".c3d", ".toml", ".txt"}  # `mocap info` reads these kinds


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_file_gives_one_clear_error(case, tmp_path, capsys):
    _, name, content, read, words = case
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(MocapError) as e:
        read(path)
    assert words in str(e.value), str(e.value)
    assert e.value.path and Path(e.value.path).name in (path.name, path.parent.name), e.value.path
    assert not getattr(e.value, "unexpected", None), f"caught only by the last net: {e.value.unexpected}"
    if path.suffix in INFO and not name.startswith("o"):
        assert main(["info", str(path)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and err.count("\n") == 0 and "Traceback" not in err, err


def test_corpus_size():
    assert len(CASES) >= 70
