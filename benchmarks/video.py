"""Video throughput: detector-only frames/s vs end-to-end video -> BVH frames/s on a 1080p clip.

Both decode the same video in the same run; the pipeline's overhead beyond the detector is
printed as a ratio. The one-time start-up (importing torch and loading the lifter, once per process:
3.6 s here, which alone is +85 % on the bundled 100-frame clip) is timed and printed apart, so the
ratio shows what each frame costs. Run: python benchmarks/video.py [VIDEO]
"""
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT / "tests/data/pose2sim/trial/videos/cam01.mp4"


def main():
    from mocap.detect.detector import detect_video
    from mocap.pipelines.monocular import video_to_bvh

    video = Path(sys.argv[1]) if len(sys.argv) > 1 else VIDEO
    detect_video(video, end=0.2)  # warm-up: model load
    t0 = time.perf_counter()
    from mocap.lift.model import load_model

    load_model()  # one-time start-up: import torch, read the weights
    t_start = time.perf_counter() - t0
    t0 = time.perf_counter()
    det = detect_video(video)
    t_det = time.perf_counter() - t0
    n = det.keypoints.n_frames
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        video_to_bvh(video, Path(d) / "out.bvh")
        t_all = time.perf_counter() - t0
    print(f"{video.name}: {n} frames {det.size[0]}x{det.size[1]}")
    print(f"detector only (decode + MediaPipe): {n / t_det:.1f} frames/s")
    print(f"video -> BVH end to end:            {n / t_all:.1f} frames/s")
    print(f"pipeline overhead beyond the detector: {100 * (t_all / t_det - 1):.1f} %")
    print(f"one-time start-up (import torch, load the lifter; not in the figures above): {t_start:.2f} s")


if __name__ == "__main__":
    main()
