"""One long trial on every worker: its triangulation's pieces of time spread over the batch's workers.

A trial of at least ``batch.split_frames`` frames runs its triangulate and retarget tasks with every worker's slot:
the triangulate task splits its blocks of frames, its windows of smoothing and the lines of its TRC, the retarget task
its pieces of time (:mod:`mocap.retarget.pieces`) and the lines of its BVH (:mod:`mocap.workers`), over a process pool
of that many workers (the local pool) or over Ray tasks of the task's CPUs (Ray). The pieces and the way they are
joined are the same as on one worker, so the TRC is the one one worker writes, byte for byte, and the BVH the same but
for the last digit of an angle near a seam of the retargeting's pieces (``tests/batch/test_split.py``); only the time
changes.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ..workers import processes

SPLIT_STAGES = ("triangulate", "retarget")


def trial_frames(spec: dict, upstream: dict[str, dict]) -> int | None:
    """Frames of the trial a ``spec`` works on: what the task before it made (detect, triangulate or lift), else
    counted in its keypoints without reading them (:func:`mocap.io.keypoints.keypoints_extent`); None when unknown."""
    from ..io.keypoints import keypoints_extent

    for stage in ("triangulate", "lift", "detect"):
        if stage in upstream:
            return upstream[stage].get("quality", {}).get("frames")
    return keypoints_extent([Path(p) for p in spec["inputs"].get("keypoints", [])])[1]


def split_workers(spec: dict, upstream: dict[str, dict], *, capacity: int, split_frames: int) -> int:
    """How many workers the task of ``spec`` takes: ``capacity`` (every one) for a stage that splits
    (:data:`SPLIT_STAGES`) on a trial of ``split_frames`` frames or more (0: never), else 1."""
    if capacity < 2 or not split_frames or spec["stage"] not in SPLIT_STAGES:
        return 1
    frames = trial_frames(spec, upstream)
    return capacity if frames is not None and frames >= split_frames else 1


def warm_up_for(stage: str):
    """What a new process of a ``stage``'s pieces imports before its first piece (while the task reads its inputs)."""
    if stage == "retarget":
        from ..retarget.solve import warm_up
    else:
        from ..pipelines.multiview import warm_up
    return warm_up


@contextmanager
def executor_for(split: dict | None, stage: str = "triangulate"):
    """The executor a ``stage`` task's pieces run on: None (the task's own threads) unless ``split`` says
    ``{"workers": n, "ray": bool, "cpus": c, "env": {...}}`` with n >= 2: Ray tasks of ``c`` CPUs each in the task's
    environment (the workers of its kind, their imports done), or a pool of ``n`` spawned processes (inheriting this
    worker's thread limits)."""
    if not split or split.get("workers", 1) < 2:
        yield None
    elif split.get("ray"):
        yield RayExecutor(split.get("cpus", 1.0), warm=split["workers"], env=split.get("env"), stage=stage)
    else:
        with processes(split["workers"], warm=warm_up_for(stage)) as pool:
            yield pool


class RayExecutor:
    """``submit(fn, *args)`` as a Ray task of ``cpus`` CPUs, from inside a Ray task. Its results are waited for with
    ``ray.get``, which lends the waiting task's CPU to the pieces (a plain future would hold it)."""

    def __init__(self, cpus: float = 1.0, warm: int = 0, env: dict | None = None, stage: str = "triangulate"):
        import ray

        self._ray = ray
        self._call = ray.remote(num_cpus=cpus, runtime_env={"env_vars": env} if env else None)(_call)
        for _ in range(warm):  # Ray starts worker processes for them now, while the task reads its inputs
            self._call.remote(warm_up_for(stage))

    def submit(self, fn, *args) -> "RayFuture":
        return RayFuture(self._ray, self._call.remote(fn, *args))


class RayFuture:
    """The part of :class:`concurrent.futures.Future` that :func:`mocap.workers.ordered_map` uses, on a Ray task."""

    def __init__(self, ray, ref):
        self._ray, self._ref = ray, ref

    def result(self):
        return self._ray.get(self._ref)

    def cancel(self) -> bool:
        self._ray.cancel(self._ref)
        return True


def _call(fn, *args):
    return fn(*args)
