"""Rebuild ``tests/data`` from ``../shared/data`` (developers only; the result is committed).

    python tests/data/build.py            # from the repository root, with ../shared beside it

Copies the Pose2Sim demo files the tests use unchanged, trims BVH clips to their first frames
(header untouched, ``Frames:`` rewritten), and stores the lifter's validation clips (CMU subject 7 and
the salsa follower, as :func:`mocap.lift.data.load_clips` prepares them: 15 joints, 30 fps, metres,
Y-up) as one float32 NPZ. See README.md here for sources and licences.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHARED = ROOT.parent / "shared" / "data"
P2S = SHARED / "pose2sim_s00"
TRIAL = P2S / "S00_P00_SingleParticipant" / "S00_P00_T01_BalancingTrial"

# (file under shared/data/mocap, frames kept; None = whole clip)
BVH = [
    ("cmu_131/scaled_131_01.bvh", None),   # refinement / upright tests loop the whole walk
    ("cmu_131/scaled_131_02.bvh", 240),
    ("cmu_131/scaled_131_03.bvh", 600),
    ("cmu_131/131_01.bvh", 240),
    ("cmu_salsa/60_01_scaled.bvh", 600),
    ("cmu_salsa/61_01_scaled.bvh", 600),
    ("cmu_iclone/001/001_01.bvh", 300),
    ("cmu_iclone/002/002_01.bvh", 300),
    ("cmu_iclone/003/003_01.bvh", 300),
    ("cmu_iclone/005/005_01.bvh", 300),
    ("cmu_iclone/007/007_01.bvh", None),
    ("extra/acrnn_cmu/martial/05.bvh", 1000),  # karate kicks: the gross-error tail scenes (tests/triangulate)
    ("extra/rgbdacq_cmu/102_01cc.bvh", None),  # a run whose feet leave the pictures: the same scenes
    ("extra/hht_cmu/jump/13_32.bvh", None),     # jumps: contacts must not glue feet in the air (tests/smooth)
]
HUMANOID = ["deepmimic/characters/humanoid3d.txt", "deepmimic/motions/humanoid3d_walk.txt",
            "deepmimic/motions/humanoid3d_cartwheel.txt", "deepmimic/LICENSE",
            "isaacgym_amp/amp_humanoid_walk.npy", "isaacgym_amp/LICENSE.txt",
            "isaacgym_amp/amp_motions-acknowledgement.txt", "cmu_131/LICENSE_bvh11_code.txt",
            "extra/acrnn_cmu/LICENSE"]


def trim_bvh(src: Path, dst: Path, frames: int | None) -> None:
    lines = src.read_text().splitlines(keepends=True)
    m = next(i for i, line in enumerate(lines) if line.strip().upper() == "MOTION")
    n = int(lines[m + 1].split(":")[1])
    keep = n if frames is None else min(n, frames)
    head = lines[:m + 1] + [f"Frames: {keep}\n", lines[m + 2]]
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("".join(head + lines[m + 3:m + 3 + keep]))


def copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".gitkeep"))
    else:
        shutil.copyfile(src, dst)


def main() -> int:
    if not SHARED.exists():
        print(f"error: {SHARED}: shared data not found", file=sys.stderr)
        return 2
    p = HERE / "pose2sim"
    shutil.rmtree(p, ignore_errors=True)
    copy(P2S / "LICENSE", p / "LICENSE")
    copy(P2S / "Config.toml", p / "Config.toml")
    for f in ("Calib_qualisys.toml", "Calib.qca.txt"):
        copy(P2S / "S00_Calibration" / f, p / "calibration" / f)
    copy(P2S / "S00_Calibration" / "intrinsics", p / "calibration" / "intrinsics")
    for d in ("pose", "pose-associated", "videos"):
        copy(TRIAL / d, p / "trial" / d)
    for f in ("S00_P00_T01_BalancingTrial_0-100.trc", "S00_P00_T01_BalancingTrial_0-100_filt_butterworth.trc"):
        copy(TRIAL / "pose-3d" / f, p / "trial" / "pose-3d" / f)

    m = HERE / "mocap"
    shutil.rmtree(m, ignore_errors=True)
    for rel, frames in BVH:
        trim_bvh(SHARED / "mocap" / rel, m / rel, frames)
    for rel in HUMANOID:
        copy(SHARED / "mocap" / rel, m / rel)

    sys.path.insert(0, str(ROOT))
    from mocap.lift.data import load_clips, save_clips, split

    _, val = split(load_clips(SHARED / "mocap"))
    save_clips(val, HERE / "lifter_validation.npz")
    total = sum(f.stat().st_size for f in HERE.rglob("*") if f.is_file())
    print(f"tests/data: {total / 2 ** 20:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
