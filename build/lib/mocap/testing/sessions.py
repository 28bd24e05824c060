"""Sessions for the batch tests and benchmark: the bundled Pose2Sim trial copied as several trials."""
from __future__ import annotations

import shutil
from pathlib import Path


def pose2sim_session(pose2sim: str | Path, root: str | Path, trials: int = 6, corrupt: str | None = None) -> Path:
    """A session at ``root`` in Pose2Sim's layout from the Pose2Sim demo folder ``pose2sim`` (Config.toml,
    calibration/, trial/pose/): Config.toml (frame_rate 60), calibration/ (no intrinsics photos), and
    ``T01`` ... ``TNN`` each holding a copy of ``trial/pose`` (4 OpenPose JSON folders, 100 frames). ``corrupt``
    names a trial whose ``cam02.0042.json`` is overwritten with broken JSON. Returns ``root``."""
    pose2sim, root = Path(pose2sim), Path(root)
    root.mkdir(parents=True)
    shutil.copy(pose2sim / "Config.toml", root / "Config.toml")
    shutil.copytree(pose2sim / "calibration", root / "calibration", ignore=shutil.ignore_patterns("intrinsics"))
    for i in range(1, trials + 1):
        shutil.copytree(pose2sim / "trial" / "pose", root / f"T{i:02d}" / "pose")
    if corrupt:
        (root / corrupt / "pose" / "cam02_json" / "cam02.0042.json").write_bytes(b'{"people": [{"pose_keyp\x00')
    return root
