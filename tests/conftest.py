from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Everything `make test` reads is in the repository (tests/data, see its README for sources and licences).
DATA = ROOT / "tests" / "data"
P2S = DATA / "pose2sim"                               # the Pose2Sim demo session, files the tests use
TRIAL = P2S / "trial"                                 # S00_P00_T01_BalancingTrial
CALIB = P2S / "calibration" / "Calib_qualisys.toml"
INTRINSICS = P2S / "calibration" / "intrinsics"       # 28 checkerboard photos
MOCAP = DATA / "mocap"                                # trimmed BVH / DeepMimic / AMP clips, same layout as shared
LIFT_VALIDATION = DATA / "lifter_validation.npz"      # the lifter's validation clips, prepared
# ../shared/data: training data and long experiments, only for tests marked `shared` (make test-shared)
SHARED = ROOT.parent / "shared" / "data"


def need(path: Path) -> Path:
    """A bundled data file: missing means a broken checkout, so the test fails (never skips)."""
    if not path.exists():
        pytest.fail(f"bundled test data missing: {path} (rebuild with tests/data/build.py)")
    return path


def need_shared(path: Path) -> Path:
    """A file under ../shared/data, for tests marked ``shared`` (opt-in: ``make test-shared``)."""
    if not path.exists():
        pytest.skip(f"shared data not found: {path}")
    return path


def look_at(center, target, up=(0, 0, 1)):
    """World->camera R, t for a camera at ``center`` looking at ``target`` (OpenCV axes, Z-up world)."""
    z = np.asarray(target, float) - center
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])
    return R, -R @ center


def ring_rig(n_cams, radius=4.0, height=1.6, f=1400.0, dist=(-0.25, 0.08, 0.001, -0.001, 0.0), seed=0):
    from mocap.camera import Camera, CameraRig

    rng = np.random.default_rng(seed)
    cams = []
    for i in range(n_cams):
        a = 2 * np.pi * i / n_cams + rng.uniform(-0.2, 0.2)
        c = np.array([radius * np.cos(a), radius * np.sin(a), height + rng.uniform(-0.3, 0.8)])
        R, t = look_at(c, [0, 0, 1.0])
        K = np.array([[f, 0, 960], [0, f, 540], [0, 0, 1.0]])
        cams.append(Camera(f"cam{i + 1}", K, np.array(dist), R, t, (1920, 1080)))
    return CameraRig(cams)
