"""Animated glTF (GLB, .gltf) and FBX, as engines import them: the Khronos glTF-Validator (node) finds nothing to
report, and Blender's own importers (bpy) pose every joint where Blender's BVH importer poses our BVH of the same
motion, frame by frame, with the frame count and rate kept."""
import json
import subprocess

import numpy as np
import pytest

from conftest import ROOT, blender_animation_positions, blender_joint_positions
from mocap.cli.main import main
from mocap.core.motion import Motion3D
from mocap.core.skeletons import COCO_17, get_skeleton
from mocap.errors import MocapError
from mocap.io import outputs
from mocap.io.motion import load_motion
from mocap.pipelines.convert import convert_file
from mocap.retarget.export import write_animation
from mocap.retarget.solve import retarget
from mocap.testing.hands import attach_hands
from mocap.testing.scenes import as_coco, real_motion

pytestmark = pytest.mark.bpy
MOCAP = ROOT / "tests" / "data" / "mocap"
WALK = MOCAP / "cmu_131" / "scaled_131_01.bvh"
SALSA = MOCAP / "cmu_salsa" / "60_01_scaled.bvh"
JUMP = MOCAP / "extra" / "hht_cmu" / "jump" / "13_32.bvh"
VALIDATOR = ROOT / "tools" / "gltf-validator"


def validate(*paths):
    """The Khronos glTF-Validator's report of each file (errors, warnings, infos, messages)."""
    run = subprocess.run(["node", str(VALIDATOR / "validate.js"), *map(str, paths)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def hands_motion(frames=240, fps=60.0):
    """Synthetic hands (fingers opening and closing, wrists turning) on the real walk: 17 body points + 2 x 21."""
    X = attach_hands(as_coco(real_motion(WALK, frames, fps)), COCO_17.joints, fps)
    return Motion3D(X, get_skeleton("coco_17_hands"), fps, up="z")


@pytest.fixture(scope="module")
def animations():
    """Retargeted clips: (name, animation) on every rig, hands included."""
    out = [("walk_mixamo", retarget(load_motion(WALK), "mixamo")),
           ("salsa_generic", retarget(load_motion(SALSA), "generic")),
           ("jump_cmu", retarget(load_motion(JUMP), "cmu")),
           ("hands_mixamo", retarget(hands_motion(), "mixamo")),
           ("hands_smpl", retarget(hands_motion(), "smpl"))]
    assert out[3][1].hands and out[3][1].local.shape[1] == 67
    return out


def test_validator_reports_nothing(animations, tmp_path):
    paths = []
    for name, anim in animations:
        paths.append(write_animation(anim, tmp_path / f"{name}.glb"))
    paths.append(write_animation(animations[3][1], tmp_path / "hands.gltf"))
    assert (tmp_path / "hands.bin").stat().st_size > 0
    for r in validate(*paths):
        print(f"{r['file'].split('/')[-1]}: {r['errors']} errors, {r['warnings']} warnings, {r['infos']} infos")
        assert (r["errors"], r["warnings"], r["infos"]) == (0, 0, 0), r["messages"]


def test_validator_is_not_blind(animations, tmp_path):
    """The same check finds a broken file: one keyframe's quaternion made twice its length."""
    import pygltflib

    path = write_animation(animations[0][1], tmp_path / "bad.glb")
    doc = pygltflib.GLTF2.load(str(path))
    acc = doc.accessors[doc.animations[0].samplers[2].output]
    at = doc.bufferViews[acc.bufferView].byteOffset + acc.byteOffset + 5 * 16
    blob = bytearray(doc.binary_blob())
    q = np.frombuffer(blob, np.float32, 4, at) * 2.0
    blob[at:at + 16] = q.tobytes()
    doc.set_binary_blob(bytes(blob))
    doc.save(str(path))
    report = validate(path)[0]
    assert report["errors"] == 1 and "NON_NORMALIZED_QUATERNION" in report["messages"][0], report


def blender_errors(anim, path, tmp_path):
    """Per bone and frame, the distance (mm per metre of body) between Blender's import of ``path`` and Blender's
    import of our BVH of the same animation; and the imported rate and frame count."""
    bvh = write_animation(anim, tmp_path / "same.bvh")
    T = anim.local.shape[0]
    frames = np.arange(0, T, max(1, T // 150))
    ref, _, _ = blender_joint_positions(bvh, 0.01, frames)
    got, fps, n = blender_animation_positions(path, anim.fps, frames)
    common = sorted(set(ref) & set(got))
    assert len(common) == sum(not e for e in anim.to_armature().end_sites)
    err = np.stack([np.linalg.norm(got[b] - ref[b], axis=-1) for b in common]) * 1000 / anim.proportions.height
    return err, fps, n


@pytest.mark.parametrize("which", [0, 1, 3])
def test_blender_glb_follows_the_bvh(animations, which, tmp_path):
    name, anim = animations[which]
    err, fps, n = blender_errors(anim, write_animation(anim, tmp_path / f"{name}.glb"), tmp_path)
    print(f"{name}.glb in Blender vs its BVH: median {np.median(err):.4f} mm/m, max {err.max():.4f} over "
          f"{err.size} joint-frames; {n} frames at {fps:.4f} fps")
    assert np.median(err) <= 0.5 and err.max() <= 2.0
    assert n == anim.local.shape[0] and abs(fps - anim.fps) < 1e-3


@pytest.mark.parametrize("which", [0, 3])
def test_blender_fbx_follows_the_bvh(animations, which, tmp_path):
    name, anim = animations[which]
    path = write_animation(anim, tmp_path / f"{name}.fbx")
    err, fps, n = blender_errors(anim, path, tmp_path)
    print(f"{name}.fbx ({path.stat().st_size / 1e6:.1f} MB) in Blender vs its BVH: median {np.median(err):.3f} "
          f"mm/m, p99 {np.percentile(err, 99):.3f}, max {err.max():.3f}; {n} frames at {fps:.4f} fps")
    assert np.median(err) <= 1.0 and err.max() <= 10.0
    assert n == anim.local.shape[0] and abs(fps - anim.fps) < 1e-3


def test_names_follow_the_rig(animations, tmp_path):
    """Mixamo's names as Mixamo characters have them, finger bones included."""
    _, anim = animations[3]
    path = write_animation(anim, tmp_path / "m.gltf")
    doc = json.loads(path.read_text())
    names = {n["name"] for n in doc["nodes"]}
    assert {"mixamorig:Hips", "mixamorig:LeftHandThumb1", "mixamorig:RightHandPinky3", "mixamorig:LeftToeBase"} <= names
    assert sum(n.startswith("mixamorig:LeftHand") and n[-1].isdigit() for n in names) == 15
    channels = doc["animations"][0]["channels"]
    assert {c["target"]["path"] for c in channels} == {"rotation", "translation"}
    assert len(channels) == 52 + 1


def test_unknown_extension_lists_the_formats(tmp_path, capsys):
    assert main(["convert", str(WALK), str(tmp_path / "clip.glbx")]) != 0
    err = capsys.readouterr().err
    assert "clip.glbx" in err and all(ext in err for ext in (".bvh", ".glb", ".gltf", ".fbx", ".trc"))
    assert not list(tmp_path.iterdir())


def test_fbx_without_blender_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs, "fbx_available", lambda: False)
    with pytest.raises(MocapError, match=r"pip install 'mocap-pipeline\[fbx\]'"):
        convert_file(WALK, tmp_path / "clip.fbx")
    assert not list(tmp_path.iterdir())


def test_commands_write_every_format(tmp_path):
    """convert and triangulate write GLB and FBX as they write BVH."""
    demo = ROOT / "mocap" / "data" / "demo"
    out = tmp_path / "demo.glb"
    assert main(["triangulate", "--calib", str(demo / "calib.toml"), "--keypoints",
                 *sorted(str(p) for p in (demo / "pose").iterdir() if p.is_dir()), "-o", str(out), "-q"]) == 0
    assert validate(out)[0]["errors"] == 0
    assert main(["convert", str(WALK), str(tmp_path / "w.fbx"), "--rig", "mixamo", "-q"]) == 0
    assert (tmp_path / "w.fbx").read_bytes()[:18] == b"Kaydara FBX Binary"
