"""Memory and time on inputs built to exhaust them, each against a baseline measured in the same run:

- a crowd: the bundled 4-camera trial made 500 frames long, with 100 extra detected people in one frame
  (`mocap triangulate`, one person and `--people all`), against the same clip without the crowd;
- a 10^6-frame BVH (the generic rig, 22 joints, 69 channels; ~0.6 GB of text): `mocap info`, against a
  1 000-frame file.

Each command runs in its own process; peak memory is that process' maximum resident size (GNU time).
Run: python benchmarks/resources.py [--bvh-frames N]
"""
import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIAL = ROOT / "tests" / "data" / "pose2sim" / "trial"
CALIB = ROOT / "tests" / "data" / "pose2sim" / "calibration" / "Calib_qualisys.toml"


def measure(argv: list) -> tuple[float, float]:
    """(seconds, peak MB) of ``mocap argv`` in a child process (its own maximum resident size, by GNU time)."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "mocap.cli", *map(str, argv)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{argv}: {proc.stderr}")
    return seconds, int(proc.stderr.strip().splitlines()[-1]) / 1024


def crowd_folders(out: Path, crowd: int) -> Path:
    rng = random.Random(0)
    for cam in sorted((TRIAL / "pose").iterdir()):
        files = sorted(cam.glob("*.json"))
        (out / cam.name).mkdir(parents=True)
        for t in range(500):
            doc = json.loads(files[t % 100].read_text())
            if t == 250:
                base = doc["people"][0]["pose_keypoints_2d"]
                for _ in range(crowd):
                    d = (rng.uniform(-800, 800), rng.uniform(-400, 400))
                    doc["people"].append({"person_id": [-1], "pose_keypoints_2d": [
                        v + d[i % 3] if v and i % 3 < 2 else v for i, v in enumerate(base)]})
            (out / cam.name / f"{cam.name[:-5]}.{t:04d}.json").write_text(json.dumps(doc))
    return out


def long_bvh(path: Path, frames: int) -> Path:
    """The generic rig's BVH of the bundled trial, its 100 frames repeated to ``frames``, streamed to disk."""
    from mocap.pipelines.convert import convert_file

    short = path.with_name("short.bvh")
    convert_file(TRIAL / "pose-3d" / "S00_P00_T01_BalancingTrial_0-100.trc", short, "generic")
    head, motion = short.read_text().split("MOTION\n")
    lines = motion.splitlines()
    rows = [ln + "\n" for ln in lines[2:] if ln.strip()]
    with open(path, "w") as f:
        f.write(head + f"MOTION\nFrames: {frames}\n{lines[1]}\n")
        for i in range(frames):
            f.write(rows[i % len(rows)])
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bvh-frames", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        plain, crowd = crowd_folders(tmp / "plain", 0), crowd_folders(tmp / "crowd", 100)
        print("500 frames, 4 cameras; one frame with 100 extra people     seconds   peak MB")
        for people in ("1", "all"):
            s0, m0 = measure(["triangulate", "--calib", CALIB, "--keypoints", plain, "-o", tmp / "a.trc", "--fps", 60,
                              "--people", people, "-q"])
            s1, m1 = measure(["triangulate", "--calib", CALIB, "--keypoints", crowd, "-o", tmp / "b.trc", "--fps", 60,
                              "--people", people, "-q"])
            print(f"  --people {people:3}  without crowd {s0:7.1f} {m0:8.0f}   with crowd {s1:7.1f} {m1:8.0f}   "
                  f"ratio time x{s1 / s0:.2f}, memory x{m1 / m0:.2f}")
        shutil.rmtree(plain)
        shutil.rmtree(crowd)
        small, big = long_bvh(tmp / "small.bvh", 1000), long_bvh(tmp / "big.bvh", args.bvh_frames)
        s0, m0 = measure(["info", small])
        s1, m1 = measure(["info", big])
        print(f"mocap info: 1 000 frames {s0:.1f} s {m0:.0f} MB; {args.bvh_frames} frames "
              f"({big.stat().st_size / 1e9:.2f} GB) {s1:.1f} s {m1:.0f} MB (memory x{m1 / m0:.2f})")


if __name__ == "__main__":
    main()
