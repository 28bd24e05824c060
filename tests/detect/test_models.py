"""The BlazePose models ship inside the package (Apache-2.0, unchanged from the mediapipe 0.10.21 wheel): their
hashes, and a detection run in a process where mediapipe and jax cannot be imported."""
import hashlib
import subprocess
import sys

import pytest

from conftest import ROOT

MODELS = ROOT / "mocap" / "models" / "blazepose"
SHA256 = {"pose_detection.tflite": "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
          "pose_landmark_full.tflite": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
          "hand_landmark_full.tflite": "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3"}


def test_models_are_the_released_files_with_their_licence():
    for name, digest in SHA256.items():
        assert hashlib.sha256((MODELS / name).read_bytes()).hexdigest() == digest, name
    assert "Apache License" in (MODELS / "LICENSE").read_text()


@pytest.mark.video
def test_detection_runs_without_mediapipe_or_jax():
    """Everyone in the first second of the demo video, with ``import mediapipe`` / ``import jax`` made to fail."""
    pytest.importorskip("ai_edge_litert")
    code = (
        "import sys\n"
        "sys.modules['mediapipe'] = None; sys.modules['jax'] = None\n"
        "from mocap.detect.tracking import track_video\n"
        f"seen = track_video({str(ROOT / 'mocap' / 'data' / 'demo' / 'cam01.mp4')!r}, end=1.0)\n"
        "present = seen.present().any(1)\n"
        "assert 'mediapipe' not in sys.modules or sys.modules['mediapipe'] is None\n"
        "print(len(seen.frames), int(present.sum()), seen.keypoints.shape)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    frames, seen, shape = out.stdout.split(maxsplit=2)
    assert int(frames) >= 25 and int(seen) >= 0.95 * int(frames) and "33, 3" in shape, out.stdout
