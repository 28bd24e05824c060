"""Association + tracking speed: frames/s of ``track_people`` for 1, 2, 5 and 10 people x 4, 8 and 16 cameras.

Each person is a real CMU motion (salsa, walks) in place on a circle 1.5 m round (10 people: 0.9 m apart),
seen by ring cameras with detector-like errors (sigma 2 px, 10 % outlier joints at normal confidence,
5 % missing, people hidden behind others, a false detection in 10 % of views; slots shuffled). Printed
per configuration: frames/s, ms per frame, ms per frame *per person* and its ratio to the 1-person run
measured in the same process (time per person growing no faster than linearly = ratio <= 1 as people
are added, at a fixed camera count), the share of person-frames associated correctly, the number of tracks
kept and the identity switches (a person handed to another track counts once per change).
The same runs at ``--baseline`` (default: the revision before new people were looked for only between the views
holding an unexplained detection) in the same run, and the ratio of frames/s.
Run: python benchmarks/association.py [--frames N] [--cams 4 8 16] [--people 1 2 5 10] [--baseline REV | none]
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from mocap.associate.tracks import track_people
from mocap.testing.scenes import SKELETON, association_score, detections, real_motion, ring_rig, yaw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import add_arguments, measure_at  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "mocap"
CLIPS = ["cmu_salsa/60_01_scaled.bvh", "cmu_iclone/002/002_01.bvh", "cmu_salsa/61_01_scaled.bvh",
         "cmu_131/scaled_131_02.bvh", "cmu_iclone/007/007_01.bvh", "cmu_131/scaled_131_03.bvh"]


def people(n, frames):
    """``(n, T, 17, 3)``: n real motions, each centred and turned, on a circle of radius 1.5 m (alone: at the centre)."""
    out = []
    for i in range(n):
        X = real_motion(DATA / CLIPS[i % len(CLIPS)], frames)  # centred on the ground
        a = 2 * np.pi * i / n
        out.append(yaw(X, 37.0 * i, (1.5 * np.cos(a), 1.5 * np.sin(a)) if n > 1 else (0, 0)))
    return np.stack(out)


def measure(frames: int, cams: list[int], counts: list[int]) -> list[dict]:
    """One row per cameras x people: frames/s, share right, tracks and switches."""
    rows = []
    for C in cams:
        rig = ring_rig(C)
        for n in counts:
            X = people(n, frames)
            data, labels = detections(rig, X, seed=n)
            track_people(data[:, :30], rig, SKELETON, 60.0)  # warm-up
            t0 = time.perf_counter()
            tracks = track_people(data, rig, SKELETON, 60.0)
            dt = time.perf_counter() - t0
            score = association_score(tracks.assignment, labels)
            rows.append({"cams": C, "people": n, "fps": frames / dt, "right": float(score["correct"]),
                         "tracks": len(tracks.ids), "switches": int(score["switches"])})
    return rows


def table(rows: list[dict], frames: int) -> None:
    print(f"{'cams':>4} {'people':>6} {'frames/s':>9} {'ms/frame':>9} {'ms/frame/person':>16} {'ratio to 1':>10} "
          f"{'right %':>8} {'tracks':>6} {'switches':>8}")
    base = {}
    for r in rows:
        per = 1000 / r["fps"] / r["people"]
        base.setdefault(r["cams"], per)
        print(f"{r['cams']:>4} {r['people']:>6} {r['fps']:>9.0f} {1000 / r['fps']:>9.2f} {per:>16.3f} "
              f"{per / base[r['cams']]:>10.2f} {100 * r['right']:>8.2f} {r['tracks']:>6} {r['switches']:>8}")


BASELINE = "a43893a"  # before issue 36: every camera pair searched for new people in every frame


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--cams", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--people", type=int, nargs="+", default=[1, 2, 5, 10])
    add_arguments(ap, BASELINE)
    args = ap.parse_args()
    rows = measure(args.frames, args.cams, args.people)
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{args.frames} frames at 60 fps; association + tracking (track_people), one process")
    table(rows, args.frames)
    if args.baseline != "none":
        old = measure_at(args.baseline, Path(__file__).resolve(), ["--frames", str(args.frames), "--cams",
                                                                    *map(str, args.cams), "--people",
                                                                    *map(str, args.people), "--baseline", "none"])
        print(f"at {args.baseline} (same run):")
        table(old, args.frames)
        for r, o in zip(rows, old):
            print(f"  {r['cams']:2d} cameras x {r['people']:2d} people: {r['fps'] / o['fps']:.2f}x the frames/s of "
                  f"{args.baseline}")


if __name__ == "__main__":
    main()
