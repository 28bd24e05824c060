"""Live: `mocap live` on real clips played in real time (the source delivers each frame at its time and drops what
the chain has not taken), streaming VMC to a receiver on loopback; the new chain and the old one in the same run.

Clips (built from the Pose2Sim videos in tests/data, :mod:`mocap.testing.composite`, played forward and back): one
person, and the same person with a second one (a bystander) beside them, at 1280 x 720 and 1920 x 1080, 30 fps.
For each: the share of frames processed (the rest were dropped: the machine was behind), the end-to-end latency
(capture -> packet sent) and each stage's, median and p95, packets received. The old chain (``--baseline``, a git
revision; default the one before the pipelined chain) is measured by this same script in a worktree of that
revision, just before this one. Targets (issue 39): two people at 720p/30 >= 95 % processed, latency median <= 60
ms, p95 <= 100 ms; 1080p/30 >= 90 %; one person no worse than the old chain.

``--long SECONDS``: one long run instead (two people, 720p, the clip looped): latency median of the first and the
last minute and the process's resident memory then (targets: drift <= 5 ms, memory within 10 %).
Run: python benchmarks/live.py [--seconds 12] [--baseline REV|none] | python benchmarks/live.py --long 600
"""
import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import measure_at  # noqa: E402

BASELINE = "fd45f6f"  # the chain that ran every person's landmarks and the detector on every frame, serially
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


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

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return s.getsockname()[1], count, lambda: (stop.set(), thread.join(), s.close())


def clip(folder: Path, people: int, size: str, frames: int):
    """The subject (cam01's strip) left of centre, with ``people`` = 2 a second person (cam03's) to their right."""
    from mocap.testing.composite import SUBJECT_STRIPS, Strip, make_clip

    W, H = SIZES[size]
    video = lambda c: ROOT / f"tests/data/pose2sim/trial/videos/cam0{c}.mp4"  # noqa: E731
    strips = [Strip(video(1), *SUBJECT_STRIPS[1]), Strip(video(3), *SUBJECT_STRIPS[3])][:people]
    left = np.array([0.20 * W, 0.62 * W])[:people]
    return make_clip(folder / f"{people}_{size}.mp4", strips, np.tile(left, (frames, 1)), size=(W, H), fps=30.0)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6


def run(path: Path, on_frame=None):
    from mocap.pipelines.live import run_live
    from mocap.pipelines.options import LiveOptions

    port, received, close = sink()
    res = run_live(LiveOptions(str(path), vmc=("127.0.0.1", port)), on_frame=on_frame)
    time.sleep(0.3)
    close()
    return res, received[0]


def measure(seconds: float) -> dict:
    """Every clip through the live chain of the package imported: ``{clip: {processed, dropped, received, latency}}``."""
    from mocap.detect.tracking import track_video

    out = {}
    with tempfile.TemporaryDirectory() as d:
        for size in SIZES:
            for people in (1, 2):
                c = clip(Path(d), people, size, int(seconds * 30))
                track_video(c.path, end=0.2)  # warm-up: models loaded, caches filled
                res, received = run(c.path)
                out[f"{people} {'person' if people == 1 else 'people'}, {size}"] = {
                    "processed": 100.0 * res.processed / max(res.captured, 1), "dropped": res.dropped,
                    "received": received, "latency": res.latency_summary()}
    return out


def long_run(seconds: float) -> None:
    """Two people at 720p, looped for ``seconds``: latency and memory in the first and the last minute."""
    samples = []  # (time s, total latency ms of the frame, rss MB)

    def on_frame(res):
        if res.latency["total"]:
            samples.append((time.perf_counter(), res.latency["total"][-1], rss_mb()))

    with tempfile.TemporaryDirectory() as d:
        c = clip(Path(d), 2, "720p", int(seconds * 30))
        res, received = run(c.path, on_frame)
    t = np.array([s[0] for s in samples]) - samples[0][0]
    lat, rss = np.array([s[1] for s in samples]), np.array([s[2] for s in samples])
    first, last = t <= 60, t >= t[-1] - 60
    print(f"{seconds:g} s, two people at 720p/30: {res.processed} processed "
          f"({100 * res.processed / max(res.captured, 1):.1f} %), {res.dropped} dropped, {received} packets received")
    print(f"latency median: first minute {np.median(lat[first]):.1f} ms, last minute {np.median(lat[last]):.1f} ms "
          f"(drift {np.median(lat[last]) - np.median(lat[first]):+.1f} ms); p95 {np.percentile(lat[first], 95):.1f} "
          f"-> {np.percentile(lat[last], 95):.1f} ms")
    print(f"resident memory: after the first minute {rss[first][-1]:.0f} MB, at the end {rss[-1]:.0f} MB "
          f"({100 * (rss[-1] / rss[first][-1] - 1):+.1f} %)")


def table(new: dict, old: dict | None) -> None:
    head = f"{'clip':<20}{'chain':<6}{'processed':>10}{'dropped':>8}{'received':>9}"
    stages = ("total", "detect", "lift", "retarget", "send")
    print(head + "".join(f"{('end-to-end' if s == 'total' else s) + ' ms':>20}" for s in stages))
    print(f"{'':<53}" + "".join(f"{'median':>11}{'p95':>9}" for _ in stages))
    for name, m in new.items():
        for chain, r in (("old", (old or {}).get(name)), ("new", m)):
            if r is None:
                continue
            lat = "".join(f"{r['latency'][s][0]:>11.1f}{r['latency'][s][1]:>9.1f}" if s in r["latency"] else f"{'':>20}"
                          for s in stages)
            print(f"{name:<20}{chain:<6}{r['processed']:>9.1f}%{r['dropped']:>8}{r['received']:>9}{lat}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--long", type=float, default=None, help="one long run of this many seconds instead")
    ap.add_argument("--baseline", default=BASELINE, help="git revision of the old chain, or 'none'")
    ap.add_argument("--json", action="store_true", help="print the measurement as JSON only")
    args = ap.parse_args()
    if args.long:
        return long_run(args.long)
    old = None
    if args.baseline != "none" and not args.json:
        old = measure_at(args.baseline, Path(__file__).resolve(), ["--seconds", str(args.seconds), "--baseline", "none"])
    new = measure(args.seconds)
    if args.json:
        print(json.dumps(new))
        return None
    print(f"{args.seconds:g} s clips at 30 fps played in real time; old chain: {args.baseline}")
    table(new, old)
    print("targets (issue 39): two people at 720p >= 95 % processed, median <= 60 ms, p95 <= 100 ms; 1080p >= 90 %")


if __name__ == "__main__":
    main()
