from pathlib import Path

import pytest

from mocap.testing.scenes import look_at_camera as look_at, ring_rig  # noqa: F401 (shared by the tests)

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
