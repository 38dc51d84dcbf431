"""Executors run independent jobs. The local one runs them in this process, in order.

Three executors: :class:`LocalExecutor` (here, in order), :class:`.pool.ProcessExecutor`
(``--workers N``: a phase's jobs in N processes) and :class:`.ray.RayExecutor`
(``--executor ray``: every job a Ray task, phases ordered by object refs). An executor that
can order phases itself has ``run_phases``; others get one phase after the other
(:func:`run_phases`).

A job is a :class:`~facebench.runner.jobs.Job`: a key (content hash), a kind, a label for progress, a zero-argument
callable and how to record its result. An executor yields ``(job, result, error)`` as jobs
finish; the runner records each result in the store (``job.record(store, value, seconds)``, one
transaction) as soon as it arrives, so a distributed executor (one process per job on a
cluster) only has to implement :meth:`Executor.run`.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Protocol

from ..jobs import Job


class Executor(Protocol):
    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, Any, BaseException | None]]: ...


def run_phases(executor: Executor, phases: list[list[Job]]) -> Iterator[tuple[Job, Any, BaseException | None]]:
    """Every job of ``phases`` (each phase needs the ones before it), results as they finish."""
    own = getattr(executor, "run_phases", None)
    if own is not None:
        yield from own(phases)
        return
    for jobs in phases:
        if jobs:
            yield from executor.run(jobs)


def close_executor(executor: Executor) -> None:
    """Release an executor's workers (a no-op for executors without any)."""
    close = getattr(executor, "close", None)
    if close is not None:
        close()


class LocalExecutor:
    """Runs jobs one after the other in this process (errors are returned, not raised)."""

    name = "local"

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, Any, BaseException | None]]:
        for job in jobs:
            try:
                result = job.fn()
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # noqa: BLE001 - reported per job, the run goes on
                yield job, None, exc
            else:
                yield job, result, None
