"""The parallel local executor: the independent jobs of a phase in N worker processes.

Built on :class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start method (no
forked copy of the driver's threads, sqlite connection or torch state). A job's callable is a
closure over the task, its context and the caches; it is sent to a worker with ``cloudpickle``
(plain pickle cannot send closures), runs there, and its ``(seconds, value, cost)`` comes back;
the driver records it (one transaction per job), so resume, the store and the boards are the
same as with the sequential executor. Each job sets its own thread count (the tasks'
``num_threads`` option), so its numbers do not depend on which process runs it.

Robustness:

* a job's exception comes back as that job's error; the rest goes on;
* a worker that dies (SIGKILL, segfault, out of memory) breaks the pool: the jobs that had not
  started are submitted again to a new pool, and each job that was running is run again alone
  in a one-worker pool, so the job that kills its worker is found and recorded as failed
  ("worker process died"), and the others finish;
* with several GPUs, each worker sees one (round robin, :func:`pin_gpu`), so ``--workers 4`` on a
  4-GPU machine runs four jobs on four GPUs;
* Ctrl-C (KeyboardInterrupt in the driver; workers ignore SIGINT) cancels what has not started
  and terminates the workers; nothing half-done is recorded;
* a driver that dies without cleaning up (SIGKILL, SIGTERM, out of memory) takes its workers with
  it: each worker watches its parent and exits when it is gone (:func:`_exit_with_parent`).
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterable, Iterator

import cloudpickle

from ..jobs import Job

_STARTED = None  # the worker's queue of started jobs (set by _init_worker)


class WorkerDied(RuntimeError):
    """A job's worker process died while running it (killed, segfault, out of memory)."""


def _init_worker(started, rank, gpus: int) -> None:
    global _STARTED
    _STARTED = started
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="facebench-parent-watch",
                     daemon=True).start()
    with rank.get_lock():
        mine = rank.value
        rank.value += 1
    pin_gpu(mine, gpus)


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Exit this worker once its driver (``parent``) is gone.

    The driver records every result, so a worker without it computes for nobody; and it would not
    notice by itself: every worker holds the write ends of the pool's queues, so waiting for the
    next job never sees end-of-file (the observation: ``docs/design-notes.md``,
    "runner/execute/pool.py"). An orphan is re-parented, so ``os.getppid()`` changes.
    """
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(1)


def pin_gpu(rank: int, gpus: int) -> None:
    """With several GPUs, worker ``rank`` sees one of them (round robin): its jobs' "cuda" is that GPU.

    Set before CUDA starts in the worker, through ``CUDA_VISIBLE_DEVICES`` (within the devices the
    driver was given, if it was given some).
    """
    if gpus <= 1:
        return
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    devices = [d for d in visible.split(",") if d.strip()] if visible else [str(i) for i in range(gpus)]
    os.environ["CUDA_VISIBLE_DEVICES"] = devices[rank % len(devices)]


def visible_gpus() -> int:
    """CUDA devices the driver sees (0 without torch imported or without CUDA): no CUDA context is made."""
    import sys

    torch = sys.modules.get("torch")
    try:
        return int(torch.cuda.device_count()) if torch is not None and torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - a broken driver install: run on CPU as torch would
        return 0


def _call(index: int, payload: bytes) -> tuple[str, Any]:
    """Run one job in a worker: ``("ok", result)`` or ``("error", exception)``."""
    if _STARTED is not None:
        _STARTED.put((index, os.getpid()))
    try:
        return "ok", cloudpickle.loads(payload)()
    except Exception as exc:  # noqa: BLE001 - reported per job, the run goes on
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that cannot travel back: keep its text
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return "error", exc


def _died(exitcode: int | None) -> WorkerDied:
    how = f"killed by signal {-exitcode}" if exitcode and exitcode < 0 else f"exit code {exitcode}"
    return WorkerDied(f"worker process died while running the job ({how})")


class ProcessExecutor:
    """Runs the jobs given to :meth:`run` in ``workers`` processes (see the module docstring)."""

    name = "processes"

    def __init__(self, workers: int, start_method: str = "spawn", gpus: int | None = None) -> None:
        if int(workers) < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = int(workers)
        self.mp = multiprocessing.get_context(start_method)
        self._pool: ProcessPoolExecutor | None = None
        self._started = None
        self._submitted = 0  # job numbers sent to workers so far: each submission has its own
        self.gpus = gpus  # None: the driver's visible CUDA devices when the first pool starts

    # -- pool lifetime --------------------------------------------------------------------------
    def _new_pool(self, workers: int) -> tuple[ProcessPoolExecutor, Any]:
        started = self.mp.SimpleQueue()  # written without a feeder thread: a put survives a SIGKILL right after it
        if self.gpus is None:
            self.gpus = visible_gpus()
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=self.mp, initializer=_init_worker,
                                   initargs=(started, self.mp.Value("i", 0), self.gpus))
        return pool, started

    def _shared_pool(self) -> tuple[ProcessPoolExecutor, Any]:
        if self._pool is None:  # kept across phases and benchmarks: workers start once
            self._pool, self._started = self._new_pool(self.workers)
        return self._pool, self._started

    @staticmethod
    def _kill(pool: ProcessPoolExecutor) -> None:
        processes = list((getattr(pool, "_processes", None) or {}).values())  # no public API before 3.14
        pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            if p.is_alive():
                p.terminate()
        for p in processes:
            p.join(timeout=5)

    def _drop_pool(self, kill: bool = False) -> None:
        if self._pool is not None:
            if kill:
                self._kill(self._pool)
            else:
                self._pool.shutdown(wait=True)
            self._started.close()
            self._pool = self._started = None

    def close(self) -> None:
        self._drop_pool()

    # -- running --------------------------------------------------------------------------------
    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, Any, BaseException | None]]:
        jobs = list(jobs)
        payloads: dict[int, bytes] = {}
        for i, job in enumerate(jobs):
            try:
                payloads[i] = cloudpickle.dumps(job.fn)
            except Exception as exc:  # noqa: BLE001 - this job cannot be sent; the others can
                yield job, None, RuntimeError(f"cannot send the job to a worker process: {type(exc).__name__}: {exc}")
        todo = sorted(payloads)
        breaks = 0  # consecutive broken pools in which no job had started
        try:
            while todo:
                pool, started = self._shared_pool()
                futures, number = {}, {}
                for i in todo:
                    self._submitted += 1
                    number[self._submitted] = i
                    futures[pool.submit(_call, self._submitted, payloads[i])] = i
                todo, lost = [], []
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in done:
                        i = futures.pop(future)
                        try:
                            status, value = future.result()
                        except BrokenProcessPool:
                            lost.append(i)
                            continue
                        yield (jobs[i], value, None) if status == "ok" else (jobs[i], None, value)
                if lost:
                    running = {number[n] for n in self._started_numbers(started) if n in number}
                    self._drop_pool(kill=True)
                    breaks = 0 if running & set(lost) else breaks + 1
                    for i in sorted(lost):
                        if i in running:
                            yield self._alone(jobs[i], payloads[i])
                        elif breaks >= 2:  # workers die before any job starts: do not loop for ever
                            yield jobs[i], None, WorkerDied("worker processes die before running any job")
                        else:
                            todo.append(i)  # had not started: submitted again to a new pool
        except BaseException:
            self._drop_pool(kill=True)  # Ctrl-C or the consumer stopped: no worker outlives the run
            raise

    @staticmethod
    def _started_numbers(started) -> set[int]:
        out = set()
        try:
            while not started.empty():
                out.add(started.get()[0])
        except (EOFError, OSError):
            pass
        return out

    def _alone(self, job: Job, payload: bytes) -> tuple[Job, Any, BaseException | None]:
        """Run ``job`` in a pool of its own: its result, its error, or WorkerDied if it kills its worker."""
        pool, started = self._new_pool(1)
        try:
            future = pool.submit(_call, 0, payload)
            processes = list((getattr(pool, "_processes", None) or {}).values())
            try:
                status, value = future.result()
            except BrokenProcessPool:
                for p in processes:
                    p.join(timeout=5)
                codes = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
                return job, None, _died(codes[0] if codes else None)
            return (job, value, None) if status == "ok" else (job, None, value)
        finally:
            self._kill(pool)
            started.close()
