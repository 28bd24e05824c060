"""Studio scale: how the cost grows with cameras, against an earlier revision measured in the same run.

Robust triangulation of ``--frames`` frames x 17 joints seen by 4, 8, 16 and 32 ring cameras (sigma 2 px, 10 % of
views 50-300 px off, the scene of ``benchmarks/triangulation.py``): us per point, its ratio to 4 cameras (target at
16 cameras <= 4x), MPJPE and p99.9 against the truth, here and at ``--baseline`` (default: the revision before the
triangulation was made linear in cameras).

Run: python benchmarks/scaling.py [--frames N] [--cams 4 8 16 32] [--baseline REV | --baseline none]
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import measure_at  # noqa: E402
from triangulation import make  # noqa: E402

from mocap.triangulate import triangulate  # noqa: E402

BASELINE = "a43893a"  # before issue 36: every camera pair for every suspicious point


def measure(frames: int, cams: list[int], repeats: int = 2) -> dict:
    out = {}
    for C in cams:
        rig, kp, X = make(frames, cams=C)
        best = np.inf
        for _ in range(repeats):
            t = time.perf_counter()
            res = triangulate(kp, rig)
            best = min(best, time.perf_counter() - t)
        e = np.linalg.norm(res.motion.positions - X, axis=-1) * 1000
        out[str(C)] = {"us_per_point": 1e6 * best / (frames * 17), "mpjpe_mm": float(np.nanmean(e)),
                       "p999_mm": float(np.nanpercentile(e, 99.9)), "valid": float(np.isfinite(e).mean())}
    return out


def table(name: str, m: dict) -> None:
    first = m[min(m, key=int)]["us_per_point"]
    print(f"{name}:")
    for C, r in sorted(m.items(), key=lambda kv: int(kv[0])):
        print(f"  {int(C):2d} cameras {r['us_per_point']:8.2f} us/point (x{r['us_per_point'] / first:6.2f} the "
              f"{min(m, key=int)}-camera cost)  MPJPE {r['mpjpe_mm']:5.2f} mm  p99.9 {r['p999_mm']:6.1f} mm  "
              f"{100 * r['valid']:.2f} % of points")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--cams", type=int, nargs="+", default=[4, 8, 16, 32])
    ap.add_argument("--baseline", default=BASELINE, help="git revision to measure in the same run, or 'none'")
    ap.add_argument("--json", action="store_true", help="print the measurement as JSON only")
    a = ap.parse_args()
    m = measure(a.frames, a.cams)
    if a.json:
        print(json.dumps(m))
        return
    print(f"robust triangulation, {a.frames} frames x 17 joints, sigma 2 px, 10 % outlier views")
    table("this revision", m)
    if a.baseline != "none":
        b = measure_at(a.baseline, Path(__file__).resolve(),
                       ["--frames", str(a.frames), "--cams", *map(str, a.cams), "--baseline", "none"])
        table(f"at {a.baseline} (same run)", b)
        for C in m:
            print(f"  {C} cameras: {b[C]['us_per_point'] / m[C]['us_per_point']:.1f}x faster than at {a.baseline}")


if __name__ == "__main__":
    main()
