"""Run a session's tasks: a local process pool (default) or Ray, the same tasks either way.

The driver keeps the dependency order (a trial's stages one after another, trials side by side), skips what is
up to date, retries a task whose worker died (a killed process, an out-of-memory kill) and never lets one
trial's failure stop the others. Ctrl-C or SIGTERM stop cleanly: workers are stopped, their half-written
temporary files removed, finished outputs kept.
"""
from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from .. import runtime
from ..workers import Spilled, environment, spill, thread_env
from ..errors import MocapError
from .session import Session
from .split import split_workers
from .tasks import Task, plan, read_record, run_task, sweep_temporaries, task_spec, up_to_date

ATTEMPTS = 3  # a task whose worker dies is run again, up to this many times in all


@dataclass
class BatchOptions:
    """How to run: ``jobs`` workers (local pool; with Ray the CPUs of a local Ray), ``ray`` (None: local pool;
    "" or "local": a local Ray; else a cluster address), ``cpus_per_task`` (declared to Ray), ``force`` (redo
    everything), ``dry_run`` (only say what would run)."""

    jobs: int = 1
    ray: str | None = None
    cpus_per_task: float = 1.0
    force: bool = False
    dry_run: bool = False


@dataclass
class TaskResult:
    """What became of one task: ``status`` "done", "up to date", "would run", "failed" or "not run"."""

    id: str
    trial: str
    stage: str
    status: str
    record: dict | None = None
    error: str | None = None
    attempts: int = 0


@dataclass
class BatchResult:
    """Every task's result in plan order, trials that could not start (``trial_errors``: name -> why), and
    whether the run was interrupted."""

    tasks: list[TaskResult]
    trial_errors: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    signal: int = 0  # what interrupted it: 2 (Ctrl-C), 15 (SIGTERM), 1 (SIGHUP)
    seconds: float = 0.0

    def failed_trials(self) -> dict[str, str]:
        out = dict(self.trial_errors)
        for t in self.tasks:
            if t.status == "failed":
                out.setdefault(t.trial, f"{t.stage}: {t.error}")
        return out

    def count(self, status: str) -> int:
        return sum(t.status == status for t in self.tasks)


def worker_env(cpus_per_task: float) -> dict[str, str]:
    """Math-library thread counts for a worker: as many threads as the CPUs its task declares. Set the same way
    in the local pool and on Ray, so both give the same numbers to the last bit (a sum over 1 or 2 threads
    rounds differently), and N tasks on N CPUs do not oversubscribe them."""
    return thread_env(cpus_per_task)


class LocalPool:
    """Tasks in ``jobs`` spawned worker processes (:func:`worker_env` threads each); a pool broken by a dead
    worker is replaced. Records come back through files (:class:`mocap.workers.Spilling`: a worker killed while it
    sends one never leaves the pool's reader waiting for the rest)."""

    def __init__(self, jobs: int, cpus_per_task: float = 1.0):
        self.jobs = jobs
        self.capacity = jobs
        self.cpus_per_task = cpus_per_task
        self._env = worker_env(cpus_per_task)
        self._folder = tempfile.mkdtemp(prefix="mocap-tasks-")
        self._pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, spec: dict):
        with environment(self._env):  # workers start on submit
            try:
                return self._pool.submit(spill, self._folder, run_task, spec)
            except BrokenProcessPool:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new()
                return self._pool.submit(spill, self._folder, run_task, spec)

    def wait(self, handles: list, timeout: float) -> list[tuple[object, dict | None]]:
        """Finished handles with their record, or None when the worker died (the task is to be retried)."""
        done, _ = wait(handles, timeout=timeout, return_when=FIRST_COMPLETED)
        out = []
        for f in done:
            try:
                out.append((f, Spilled(f).result()))
            except BrokenProcessPool:
                out.append((f, None))
        return out

    def close(self, kill: bool = False) -> None:
        if kill:
            for p in list(getattr(self._pool, "_processes", {}).values()):
                p.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self._folder, ignore_errors=True)


class RayPool:
    """Tasks as Ray tasks (``num_cpus`` each; Ray reruns a task whose worker died). ``address`` None starts a
    local Ray with ``jobs`` CPUs unless this process already joined one."""

    def __init__(self, address: str | None, jobs: int, cpus_per_task: float, verbose: bool = False):
        try:
            import ray
        except ImportError:
            raise MocapError("--ray needs Ray: pip install 'mocap-pipeline[batch]'") from None
        from .. import runtime

        self.ray, self._own = ray, not ray.is_initialized()
        if self._own:
            kwargs = {"address": address} if address else {"num_cpus": jobs, "include_dashboard": False}
            with runtime.native_quiet():
                ray.init(**kwargs, log_to_driver=verbose, configure_logging=verbose, logging_level="ERROR")
        self.capacity = max(1, int(ray.cluster_resources().get("CPU", jobs) // cpus_per_task))
        self.cpus_per_task = cpus_per_task
        self._remote = ray.remote(num_cpus=cpus_per_task, max_retries=ATTEMPTS - 1,
                                  runtime_env={"env_vars": worker_env(cpus_per_task)})(run_task)
        self._live: set = set()

    def submit(self, spec: dict):
        # a long trial's task (spec["split"]) holds no CPU itself: its pieces hold every one, and none waits for the
        # CPU the task would take back between two of its ray.get calls (50 000 frames: the first pass's 52 pieces
        # of 60 ms took 2.25 s on two CPUs, now 1.50 s)
        ref = (self._remote.options(num_cpus=0) if spec.get("split") else self._remote).remote(spec)
        self._live.add(ref)
        return ref

    def wait(self, handles: list, timeout: float) -> list[tuple[object, dict | None]]:
        done, _ = self.ray.wait(handles, num_returns=1, timeout=timeout)
        out = []
        for ref in done:
            self._live.discard(ref)
            try:
                out.append((ref, self.ray.get(ref)))
            except self.ray.exceptions.RayError as e:  # the worker died ATTEMPTS times
                out.append((ref, {"status": "failed", "error": f"worker lost ({type(e).__name__})"}))
        return out

    def close(self, kill: bool = False) -> None:
        if kill:
            for ref in self._live:
                self.ray.cancel(ref, force=True)
            if self._live:
                self.ray.wait(list(self._live), num_returns=len(self._live), timeout=10)
        if self._own:
            self.ray.shutdown()


def run_session(session: Session, opts: BatchOptions, on_event=None, verbose: bool = False) -> BatchResult:
    """Run (or with ``opts.dry_run`` list) every task of ``session``; ``on_event(kind, TaskResult)`` is called
    with kind "start" and "end" for the progress display (and once with "plan" and the whole
    :class:`BatchResult`, every task pending, before any runs). Returns a :class:`BatchResult`; outputs are
    beside each trial (records in ``<output>/.mocap/``)."""
    t0 = time.perf_counter()
    on_event = on_event or (lambda kind, res: None)
    tasks = plan(session)
    result = BatchResult([TaskResult(t.id, t.trial.name, t.stage, "pending") for t in tasks],
                         {t.name: t.error for t in session.trials if t.error})
    on_event("plan", result)
    outputs = {t.trial.output for t in tasks}
    if opts.dry_run:
        _dry_run(tasks, result, opts.force)
        return result
    sweep_temporaries(outputs)
    if opts.ray is None:
        pool = LocalPool(opts.jobs, opts.cpus_per_task)
    else:
        pool = RayPool(None if opts.ray in ("", "local") else opts.ray, opts.jobs, opts.cpus_per_task, verbose)
    with runtime.signals_as_event() as stop:  # Ctrl-C, SIGTERM, SIGHUP: the loop stops at its next turn
        try:
            _drive(tasks, result, pool, opts.force, on_event=on_event, stop=stop)
        except KeyboardInterrupt as e:  # a second Ctrl-C (or a signal outside the loop: runtime.Terminated)
            result.interrupted, result.signal = True, getattr(e, "signum", 2)
        finally:
            if stop.is_set():
                result.interrupted, result.signal = True, stop.signum
            pool.close(kill=result.interrupted)
            sweep_temporaries(outputs)
    for r in result.tasks:
        if r.status in ("pending", "running"):
            r.status = "not run"
    result.seconds = time.perf_counter() - t0
    return result


def _dry_run(tasks: list[Task], result: BatchResult, force: bool) -> None:
    """Say for each task whether it would run: up to date only when every task before it in its trial is."""
    by_id = {r.id: r for r in result.tasks}
    upstream: dict[str, dict] = {}
    for task in tasks:
        r, up = by_id[task.id], upstream.setdefault(task.trial.name, {})
        if any(by_id[d].status != "up to date" for d in task.deps):
            r.status = "would run"
            continue
        record = read_record(task.trial, task.stage)
        r.status = "up to date" if not force and up_to_date(task_spec(task, up), record) else "would run"
        if record:
            up[task.stage] = record


def _drive(tasks: list[Task], result: BatchResult, pool, force: bool, *, on_event, stop) -> None:
    """The scheduling loop: start every task whose dependencies are done (at most the pool's capacity of workers
    at once; a long trial's triangulation takes every worker, :mod:`.split`, and waits for them in plan order),
    collect what finishes, retry a task whose worker died, skip the rest of a trial after a failure; returns at its
    next turn (at most half a second) once ``stop`` is set."""
    by_id = {r.id: r for r in result.tasks}
    task_of = {t.id: t for t in tasks}
    upstream: dict[str, dict] = {}
    running: dict = {}  # handle -> (task id, spec, workers it takes)
    while not stop.is_set():
        for task in tasks:
            r = by_id[task.id]
            if r.status != "pending":
                continue
            deps = [by_id[d] for d in task.deps]
            if any(d.status in ("failed", "not run") for d in deps):
                r.status, r.error = "not run", f"{deps[0].stage} failed"
                continue
            if any(d.status not in ("done", "up to date") for d in deps):
                continue
            spec = task_spec(task, upstream.setdefault(task.trial.name, {}))
            record = read_record(task.trial, task.stage)
            if not force and up_to_date(spec, record):
                r.status, r.record = "up to date", record
                upstream[task.trial.name][task.stage] = record
                on_event("end", r)
                continue
            workers = split_workers(spec, upstream[task.trial.name], capacity=pool.capacity,
                                    split_frames=task.trial.options["batch"]["split_frames"])
            if sum(w for _, _, w in running.values()) + workers > pool.capacity:
                break  # no free worker (or not enough for a long trial: nothing after it starts first)
            if workers > 1:
                spec["split"] = {"workers": workers, "ray": isinstance(pool, RayPool), "cpus": pool.cpus_per_task,
                                 "env": worker_env(pool.cpus_per_task)}
            r.status, r.attempts = "running", r.attempts + 1
            running[pool.submit(spec)] = (task.id, spec, workers)
            on_event("start", r)
        if not running:
            break
        for handle, record in pool.wait(list(running), timeout=0.5):
            tid, spec, workers = running.pop(handle)
            r = by_id[tid]
            if record is None and r.attempts < ATTEMPTS:  # the worker died: run it again
                r.attempts += 1
                running[pool.submit(spec)] = (tid, spec, workers)
                continue
            record = record or {"status": "failed", "error": "worker died"}
            r.record, r.status, r.error = record, record["status"], record.get("error")
            if r.status == "done":
                upstream[task_of[tid].trial.name][r.stage] = record
            on_event("end", r)
