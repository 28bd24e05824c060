"""How much of the machine a job may use, and independent pieces of work spread over it.

Work that splits into independent pieces of time (blocks of frames to triangulate, windows of time to refine) is
handed to an *executor*: anything with ``submit(fn, *args) -> concurrent.futures.Future`` — the standard library's
thread and process pools (:func:`processes`: spawned, started at once), or the batch's Ray tasks
(:class:`mocap.batch.split.RayExecutor`). The pieces are the same whoever runs them, so the answer does not depend on
the executor. Without one, :func:`ordered_map` uses up to :func:`threads` threads (numpy and OpenCV release the GIL in
their kernels).
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator


def threads() -> int:
    """CPUs this process may use: ``OMP_NUM_THREADS`` when set (a batch worker: the CPUs its task declares, so two
    workers on two cores do not oversubscribe them), else every core."""
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        n = 0
    return max(1, n) if n > 0 else max(1, os.cpu_count() or 1)


def blocks(n: int, step: int) -> list[slice]:
    """``0..n`` in consecutive slices of ``step`` (the last may be shorter)."""
    step = max(1, int(step))
    return [slice(s, min(n, s + step)) for s in range(0, n, step)]


def ordered_map(fn: Callable, items: Iterable, executor=None, ahead: int = 8) -> Iterator:
    """``fn(item)`` for every item, yielded in order. With ``executor``, at most ``ahead`` pieces are submitted and not
    yet collected (their inputs and outputs are what it holds in memory); ``fn`` and the items must then pickle for
    a process pool (a module-level function, :func:`functools.partial` of one). Without one: up to :func:`threads`
    threads, or a plain loop on one CPU."""
    if executor is None:
        n = threads()
        if n == 1:
            yield from map(fn, items)
            return
        with ThreadPoolExecutor(max_workers=n) as pool:
            yield from ordered_map(fn, items, pool, ahead=max(ahead, 2 * n))
        return
    pending: deque = deque()
    try:
        for item in items:
            pending.append(executor.submit(fn, item))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for f in pending:  # an error, or the caller stopped early: drop what has not started
            f.cancel()


def each(fn: Callable, items: Iterable, executor=None, ahead: int = 8) -> Iterator:
    """``fn(item)`` for every item, in order: on ``executor`` when given (:func:`ordered_map`), else one after another
    in this thread (for work that holds the GIL, where threads would not help)."""
    return ordered_map(fn, items, executor, ahead) if executor is not None else map(fn, items)


def thread_env(n: float) -> dict[str, str]:
    """The math libraries' thread counts (OpenMP, OpenBLAS, MKL) for a process that may use ``n`` CPUs."""
    v = str(max(1, int(n)))
    return {"OMP_NUM_THREADS": v, "OPENBLAS_NUM_THREADS": v, "MKL_NUM_THREADS": v}


@contextmanager
def environment(env: dict[str, str]):
    """``os.environ`` with ``env`` set while the block runs (processes started then inherit it), then restored."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def processes(n: int, *, threads_each: int | None = None, warm: Callable | None = None):
    """A pool of ``n`` spawned processes for :func:`ordered_map`, started at once (each running ``warm``, e.g. the
    imports its pieces need, while the caller reads its inputs), each with ``threads_each`` math-library threads
    (None: as this process has them). Its pieces' results come back through files (:class:`Spilling`)."""
    with tempfile.TemporaryDirectory(prefix="mocap-pieces-") as folder, \
            ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
        with environment(thread_env(threads_each) if threads_each else {}):
            for _ in range(n):  # one process starts per submit while none is idle
                pool.submit(warm or int)
        yield Spilling(pool, folder)


class Spilling:
    """A process pool whose pieces write their results to a file in ``folder`` and send back only its name.

    A process killed (out of memory, by hand) while it sends a large result through the pool's pipe leaves half a
    message there, and the pool's reader then waits for the rest for ever: the task hangs instead of failing
    (CPython 3.11; seen in ``tests/batch/test_split.py``). A name is shorter than the pipe's atomic write (4096
    bytes): it arrives whole or not at all, and a process killed at any moment is a broken pool (the task reruns)."""

    def __init__(self, pool: ProcessPoolExecutor, folder: str):
        self._pool, self._folder = pool, folder

    def submit(self, fn: Callable, *args) -> "Spilled":
        return Spilled(self._pool.submit(spill, self._folder, fn, *args))


def spill(folder: str, fn: Callable, *args) -> str:
    """``fn(*args)`` pickled into a new file in ``folder``; its path."""
    fd, path = tempfile.mkstemp(suffix=".pkl", dir=folder)
    with os.fdopen(fd, "wb") as f:
        pickle.dump(fn(*args), f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


class Spilled:
    """The part of a future :func:`ordered_map` uses, for a piece whose result :func:`spill` wrote: read (and the file
    removed) on :meth:`result`."""

    def __init__(self, future: Future):
        self._future = future

    def result(self):
        path = self._future.result()
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        finally:
            os.unlink(path)

    def cancel(self) -> bool:
        return self._future.cancel()


class Inline:
    """An executor that runs ``fn`` at once, in the caller's thread: ``submit`` returns a finished future (its result,
    or the exception it raised)."""

    def submit(self, fn: Callable, *args, **kwargs) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except Exception as e:
            f.set_exception(e)
        return f


@contextmanager
def aside(executor):
    """Where a job's own work beside its pieces runs: on one thread of this process when the pieces go to
    ``executor`` (this process mostly waits for them, so the work overlaps theirs instead of adding to the time), else
    at once (:class:`Inline`: a job on one CPU stays on one)."""
    if executor is None:
        yield Inline()
    else:
        with ThreadPoolExecutor(1) as pool:
            yield pool
