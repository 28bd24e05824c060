"""Batch throughput: trials/minute for a session of 12 trials (the bundled Pose2Sim trial: 4 cameras, 100
frames at 60 fps; triangulate with refinement + retarget to BVH) with 1 and 2 local workers, the scaling
ratio between them, and the same session on a local Ray with 2 CPUs: its start-up and its overhead per task
against the 2-worker local pool, all measured in this run (each on a fresh copy of the session).
Run: python benchmarks/batch.py [--trials N]
"""
import argparse
import tempfile
import time
from pathlib import Path

from mocap.batch.engine import BatchOptions, run_session
from mocap.batch.session import read_session
from mocap.testing.sessions import pose2sim_session

P2S = Path(__file__).resolve().parents[1] / "tests" / "data" / "pose2sim"


def timed(tmp: Path, name: str, trials: int, opts: BatchOptions) -> tuple[float, int]:
    session = read_session(pose2sim_session(P2S, tmp / name, trials))
    t0 = time.perf_counter()
    res = run_session(session, opts)
    seconds = time.perf_counter() - t0
    bad = [t.id for t in res.tasks if t.status != "done"]
    assert not bad, bad
    return seconds, len(res.tasks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=12)
    args = ap.parse_args()
    n = args.trials
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        one, tasks = timed(tmp, "j1", n, BatchOptions(jobs=1))
        two, _ = timed(tmp, "j2", n, BatchOptions(jobs=2))
        print(f"{n} trials, {tasks} tasks (triangulate + refine, retarget)")
        print(f"local, 1 worker : {one:6.1f} s  {60 * n / one:5.1f} trials/min")
        print(f"local, 2 workers: {two:6.1f} s  {60 * n / two:5.1f} trials/min  scaling x{one / two:.2f} (ideal x2)")
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        start = time.perf_counter() - t0
        try:
            on_ray, _ = timed(tmp, "ray", n, BatchOptions(jobs=2, ray="local"))
        finally:
            ray.shutdown()
        print(f"Ray, 2 CPUs     : {on_ray:6.1f} s  {60 * n / on_ray:5.1f} trials/min  (+ {start:.1f} s to start Ray)")
        print(f"Ray overhead per task vs the local pool: {1000 * (on_ray - two) / tasks:+.0f} ms "
              f"(ratio of session times {on_ray / two:.2f})")


if __name__ == "__main__":
    main()
