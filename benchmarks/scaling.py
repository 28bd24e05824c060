"""Studio scale: how the cost grows with cameras, against an earlier revision measured in the same run.

Robust triangulation of ``--frames`` frames x 17 joints seen by 4, 8, 16 and 32 ring cameras (sigma 2 px, 10 % of
views 50-300 px off, the scene of ``benchmarks/triangulation.py``): us per point, its ratio to 4 cameras (target at
16 cameras <= 4x), MPJPE and p99.9 against the truth, here and at ``--baseline`` (default: the revision before the
triangulation was made linear in cameras).

``--memory``: peak resident memory of triangulating one NPZ holding every camera (``--lengths`` frames of
``--memory-cams`` cameras, 17 joints, written by a separate process; read, triangulate, write as ``mocap triangulate``
does), less its peak on 100 frames (the interpreter, the libraries and the fixed cost), against the size of the
keypoints and of the result arrays (target at 50 000 frames: <= 2x), here and at ``--baseline``.

Run: python benchmarks/scaling.py [--frames N] [--cams 4 8 16 32] [--baseline REV | --baseline none]
     python benchmarks/scaling.py --memory [--lengths 1000 10000 50000] [--memory-cams 4]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
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


def write_scene(frames: int, cams: int, folder: Path) -> None:
    """``folder/kp.npz`` and ``folder/calib.toml``, written by a child process (the parent stays small: a child's
    peak memory counts the pages it was forked with)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from triangulation import make; "
            "from mocap.io.keypoints import write_keypoints; from mocap.io.calibration import write_calibration; "
            "rig, kp, X = make(int(sys.argv[2]), cams=int(sys.argv[3])); "
            "write_keypoints(kp, sys.argv[4] + '/kp.npz'); write_calibration(rig, sys.argv[4] + '/calib.toml')")
    subprocess.run([sys.executable, "-c", code, str(Path(__file__).resolve().parent), str(frames), str(cams), str(folder)],
                   check=True)


#: What ``mocap triangulate -o out.npz`` does with one NPZ holding every camera, through the API that the baseline
#: revision has too (its command line read OpenPose folders only).
DRIVER = ("import sys; from mocap.io.keypoints import read_keypoints; from mocap.io.calibration import read_calibration; "
          "from mocap.pipelines.options import TriangulationJob; from mocap.pipelines.multiview import triangulate_job; "
          "d = sys.argv[1]; kp = read_keypoints(d + '/kp.npz'); "
          "triangulate_job(kp, read_calibration(d + '/calib.toml'), "
          "TriangulationJob(d + '/calib.toml', [d + '/kp.npz'], d + '/out.npz'))")


def peak_mb(folder: Path) -> tuple[float, float]:
    """Peak resident memory (MB) and seconds of :data:`DRIVER` on ``folder`` in a fresh process."""
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", DRIVER, str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    if status:
        raise SystemExit(f"triangulating {folder} failed: {p.stderr.read().decode()[-500:]}")
    return usage.ru_maxrss / 1024, time.perf_counter() - t


def memory(lengths: list[int], cams: int) -> dict:
    """``{frames: [peak MB, seconds]}`` for 100 frames (the fixed cost) and each of ``lengths``."""
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for T in [100, *lengths]:
            d = Path(tmp) / str(T)
            d.mkdir()
            write_scene(T, cams, d)
            rows[str(T)] = peak_mb(d)
            (d / "kp.npz").unlink()
    return rows


def memory_table(name: str, rows: dict, cams: int, J: int = 17) -> None:
    fixed = rows["100"][0]
    print(f"{name}: fixed cost (100 frames) {fixed:.0f} MB")
    for T in (int(k) for k in rows if k != "100"):
        kp, result = T * cams * J * 3 * 8 / 2 ** 20, T * J * (3 + 1 + 1 + cams) * 8 / 2 ** 20
        peak, seconds = rows[str(T)]
        print(f"  {T:7d} frames: peak {peak:6.0f} MB, {peak - fixed:6.0f} MB over the fixed cost = "
              f"{(peak - fixed) / (kp + result):.2f}x the keypoints ({kp:.0f} MB) + result arrays ({result:.0f} MB); "
              f"{seconds:.1f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--cams", type=int, nargs="+", default=[4, 8, 16, 32])
    ap.add_argument("--baseline", default=BASELINE, help="git revision to measure in the same run, or 'none'")
    ap.add_argument("--json", action="store_true", help="print the measurement as JSON only")
    ap.add_argument("--memory", action="store_true", help="peak memory against the recording's length instead")
    ap.add_argument("--lengths", type=int, nargs="+", default=[1000, 10000, 50000])
    ap.add_argument("--memory-cams", type=int, default=4)
    a = ap.parse_args()
    if a.memory:
        rows = memory(a.lengths, a.memory_cams)
        if a.json:
            print(json.dumps(rows))
            return
        print(f"triangulating one NPZ of {a.memory_cams} cameras x 17 joints (read, triangulate, write .npz), peak memory")
        memory_table("this revision", rows, a.memory_cams)
        if a.baseline != "none":
            b = measure_at(a.baseline, Path(__file__).resolve(), ["--memory", "--lengths", *map(str, a.lengths),
                                                                   "--memory-cams", str(a.memory_cams), "--baseline", "none"])
            memory_table(f"at {a.baseline} (same run)", b, a.memory_cams)
        return
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
            print(f"  {int(C):2d} cameras: this revision takes {m[C]['us_per_point'] / b[C]['us_per_point']:.2f}x the time "
                  f"at {a.baseline}")


if __name__ == "__main__":
    main()
