"""Video throughput on 1080p clips with 1, 3 and 6 people: decoding, the multi-person detector + tracker, and
video -> BVH end to end, in frames/s, with the cost per extra person and the pipeline's overhead beyond the
detector (all measured in this run).

The clips are composites of the bundled Pose2Sim videos (:mod:`mocap.testing.composite`), 1920 x 1080, people
side by side. The one-time start-up (importing torch, loading the lifter and the TFLite models) is timed apart.
Run: python benchmarks/video.py [--frames 150]
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = [ROOT / f"tests/data/pose2sim/trial/videos/cam0{i}.mp4" for i in (1, 3, 4)]
X0 = (165, 274, 237)  # 569 source px (320 clip px) around each subject, no bystander


def clip(folder: Path, people: int, frames: int):
    from mocap.testing.composite import Strip, make_clip
    strips = [Strip(VIDEOS[k % 3], X0[k % 3], 569) for k in range(people)]
    left = np.tile(np.arange(people) * 320.0 + (1920 - 320 * people) / 2, (frames, 1))
    return make_clip(folder / f"{people}.mp4", strips, left)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=150)
    args = ap.parse_args()
    from mocap.detect.tracking import track_video
    from mocap.io.video import frames
    from mocap.lift.model import load_model
    from mocap.pipelines.monocular import video_to_bvh

    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        clips = {p: clip(d, p, args.frames) for p in (1, 3, 6)}
        _, t_start = timed(lambda: (load_model(), track_video(clips[1].path, end=0.1)))
        print(f"1920x1080, {args.frames} frames per clip; one-time start-up (torch, lifter, TFLite models): {t_start:.2f} s")
        print(f"{'people':>6} {'decode':>9} {'detect+track':>13} {'found':>7} {'video->BVH (1)':>15} {'--people all':>13} "
              f"{'beyond detector':>16}")
        rates = {}
        for p, c in clips.items():
            n = args.frames
            _, t_dec = timed(lambda: sum(1 for _ in frames(c.path)))
            seen, t_det = timed(lambda: track_video(c.path))
            _, t_one = timed(lambda: video_to_bvh(c.path, d / f"o{p}.bvh"))
            _, t_all = timed(lambda: video_to_bvh(c.path, d / f"a{p}.bvh", people="all"))
            rates[p] = n / t_det
            print(f"{p:>6} {n / t_dec:>7.1f}/s {n / t_det:>11.1f}/s {len(seen.ids):>4}/{p:<2} {n / t_one:>13.1f}/s "
                  f"{n / t_all:>11.1f}/s {100 * (t_one / t_det - 1):>14.1f} %")
        per = (1 / rates[6] - 1 / rates[1]) / 5 * 1000
        print(f"cost per extra person (detect+track, 1 -> 6 people): {per:.1f} ms per frame")
        print("targets (issue 18): >= 30 frames/s with one person, >= 15 with three; (issue 17) pipeline beyond the "
              "detector <= 25 %")


if __name__ == "__main__":
    main()
