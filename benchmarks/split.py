"""One long trial on 1 and 2 workers (mocap.batch.split): a session of one trial of ``--frames`` frames x 4 cameras
(one keypoints NPZ; the synthetic scene of benchmarks/triangulation.py), triangulated with smoothing and retargeted to
BVH as ``mocap batch`` does by default, on the local pool with 1 and 2 workers and on a local Ray with 1 and 2 CPUs
(Ray started before the clock). Prints each run's time, the triangulate stage's own, the speed-up of 2 workers over 1,
whether the TRC is byte for byte one worker's and how far the BVH's values are from one worker's (its retargeting runs
in pieces of time, :mod:`mocap.retarget.pieces`: equal but for the last digits). Each configuration runs ``--repeat``
times (1 and 2 workers taking turns) and its fastest run counts: on a shared 2-core machine one run of the same
configuration varies by up to 15 %.
Run: python benchmarks/split.py [--frames 50000] [--repeat 2] [--no-ray | --ray-only]
"""
import argparse
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mocap.batch.engine import BatchOptions, run_session
from mocap.batch.session import read_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scaling import write_scene  # noqa: E402


def session(tmp: Path, frames: int) -> Path:
    """``tmp/session``: ``calibration/Calib.toml``, ``T01/pose/kp.npz`` and a mocap.toml (triangulate, retarget)."""
    root = tmp / "session"
    (root / "T01" / "pose").mkdir(parents=True)
    (root / "calibration").mkdir()
    write_scene(frames, 4, root / "T01" / "pose")
    shutil.move(root / "T01" / "pose" / "calib.toml", root / "calibration" / "Calib.toml")
    (root / "mocap.toml").write_text('[batch]\nstages = ["triangulate", "retarget"]\n')
    return root


def run(root: Path, name: str, opts: BatchOptions) -> dict:
    """A fresh copy of the session run with ``opts``: seconds in all and per stage, the files written."""
    copy = root.parent / name
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy)
    t0 = time.perf_counter()
    res = run_session(read_session(copy), opts)
    seconds = time.perf_counter() - t0
    bad = [(t.id, t.error) for t in res.tasks if t.status != "done"]
    assert not bad, bad
    out = copy / "T01" / "mocap"
    return {"seconds": seconds, "stages": {t.stage: t.record["seconds"] for t in res.tasks},
            "workers": {t.stage: t.record["workers"] for t in res.tasks},
            "files": {p.name: p.read_bytes() for p in out.iterdir() if p.suffix in (".trc", ".bvh")}}


def report(name: str, r: dict, base: dict | None) -> None:
    tri = r["stages"]["triangulate"]
    line = (f"{name:22s} {r['seconds']:6.1f} s {'/'.join(f'{x:.1f}' for x in r.get('all', []))} (triangulate {tri:5.1f} s on {r['workers']['triangulate']} worker(s), "
            f"retarget {r['stages']['retarget']:4.1f} s)")
    if base:
        line += (f"  x{base['seconds'] / r['seconds']:.2f} the trial, x{base['stages']['triangulate'] / tri:.2f} the "
                 f"triangulation; {same(r, base)}")
    print(line, flush=True)


def same(r: dict, base: dict) -> str:
    """The TRC byte for byte; the BVH's values (retargeted in pieces of time: equal but for the last digits)."""
    trc = "TRC equal" if r["files"]["T01.trc"] == base["files"]["T01.trc"] else "TRC DIFFERENT"
    a, b = (np.loadtxt(io.StringIO(x["files"]["T01.bvh"].decode().split("Frame Time:")[1].split("\n", 1)[1]))
            for x in (r, base))
    return f"{trc}, BVH values max |diff| {np.abs(a - b).max() if a.shape == b.shape else np.inf:.1e} (deg, cm)"


def best(runs: list[dict]) -> dict:
    """The fastest of ``runs``, with every run's time."""
    out = dict(min(runs, key=lambda r: r["seconds"]))
    out["all"] = [r["seconds"] for r in runs]
    return out


def turns(root: Path, prefix: str, options: dict, repeat: int) -> dict:
    """``{workers: best run}``: each of ``options`` (workers -> BatchOptions) run ``repeat`` times, taking turns."""
    runs: dict = {n: [] for n in options}
    for _ in range(repeat):
        for n, opts in options.items():
            runs[n].append(run(root, f"{prefix}{n}", opts))
    return {n: best(r) for n, r in runs.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=50000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--ray-only", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        root = session(Path(d), a.frames)
        print(f"one trial: {a.frames} frames x 4 cameras x 17 joints, triangulate (smoothed) + retarget to BVH; "
              f"best of {a.repeat} runs each")
        local = None
        if not a.ray_only:
            local = turns(root, "local", {1: BatchOptions(jobs=1), 2: BatchOptions(jobs=2)}, a.repeat)
            report("local pool, 1 worker", local[1], None)
            report("local pool, 2 workers", local[2], local[1])
        if a.no_ray:
            return
        import ray

        ray_runs = {}
        for cpus in (1, 2):  # one local Ray per CPU count, its runs one after another
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
            try:
                ray_runs[cpus] = best([run(root, f"ray{cpus}", BatchOptions(jobs=cpus, ray="local"))
                                       for _ in range(a.repeat)])
            finally:
                ray.shutdown()
        report("Ray, 1 CPU", ray_runs[1], None)
        if local:
            print(f"{'':22s} against the local pool's: {same(ray_runs[1], local[1])}")
        report("Ray, 2 CPUs", ray_runs[2], ray_runs[1])


if __name__ == "__main__":
    main()
