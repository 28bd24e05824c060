from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
P2S = SHARED / "pose2sim_s00"
TRIAL = P2S / "S00_P00_SingleParticipant" / "S00_P00_T01_BalancingTrial"
CALIB = P2S / "S00_Calibration" / "Calib_qualisys.toml"


def need(path: Path) -> Path:
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
