"""Live latency: `mocap live` on a 1280 x 720 clip played at its own 30 fps, streaming VMC to a receiver on loopback.

Prints the end-to-end latency (capture -> packet sent) and each stage's, median and p95, the share of frames
processed (the rest were dropped because the machine was behind), and, as the baseline measured in the same run,
the detector and tracker alone on the same clip (frames/s as fast as they go), so the live chain's cost per frame
reads as a ratio to it. Targets (issue 19): median <= 100 ms, p95 <= 150 ms, >= 90 % of frames processed.
Run: python benchmarks/live.py [--seconds 12]
"""
import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def sink():
    """A UDP receiver on 127.0.0.1 that reads and counts everything (as a VMC receiver would)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    count = [0]
    stop = threading.Event()

    def run():
        while not stop.is_set():
            try:
                s.recv(65536)
                count[0] += 1
            except socket.timeout:
                pass

    threading.Thread(target=run, daemon=True).start()
    return s.getsockname()[1], count, lambda: (stop.set(), s.close())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=12.0)
    args = ap.parse_args()
    from mocap.detect.tracking import track_video
    from mocap.pipelines.options import LiveOptions
    from mocap.pipelines.live import run_live
    from mocap.testing.composite import SUBJECT_STRIPS, Strip, make_clip

    n = int(args.seconds * 30)
    with tempfile.TemporaryDirectory() as d:
        video = ROOT / "tests/data/pose2sim/trial/videos/cam01.mp4"
        clip = make_clip(Path(d) / "720p.mp4", [Strip(video, *SUBJECT_STRIPS[1])], np.full((n, 1), 460.0),
                         size=(1280, 720), fps=30.0)
        track_video(clip.path, end=0.2)  # warm-up: models loaded, caches filled
        t0 = time.perf_counter()
        track_video(clip.path)
        det_rate = n / (time.perf_counter() - t0)
        port, received, close = sink()
        res = run_live(LiveOptions(clip.path, vmc=("127.0.0.1", port)))
        time.sleep(0.3)
        close()
    s = res.latency_summary()
    busy = np.median(np.sum([res.latency[k] for k in ("detect", "lift", "retarget", "send")], axis=0))
    print(f"1280x720 at 30 fps, {n} frames: {res.processed} processed ({100 * res.processed / max(res.captured, 1):.1f} %), "
          f"{res.dropped} dropped, {received[0]} packets received")
    print(f"{'latency (ms)':<14} {'median':>7} {'p95':>7}")
    for k, (m, p) in s.items():
        print(f"{'end to end' if k == 'total' else k:<14} {m:>7.1f} {p:>7.1f}")
    print(f"baseline, detector + tracker alone: {det_rate:.1f} frames/s ({1000 / det_rate:.1f} ms per frame); the live "
          f"chain's work per frame: {busy:.1f} ms, ratio {busy * det_rate / 1000:.2f}")
    print("targets (issue 19): median <= 100 ms, p95 <= 150 ms, >= 90 % of frames processed")


if __name__ == "__main__":
    main()
