"""Executors run independent jobs. The local one runs them in this process, in order.

Three executors: :class:`LocalExecutor` (here, in order), :class:`.pool.ProcessExecutor`
(``--workers N``: a phase's jobs in N processes) and :class:`.ray_executor.RayExecutor`
(``--executor ray``: every job a Ray task, phases ordered by object refs). An executor that
can order phases itself has ``run_phases``; others get one phase after the other
(:func:`run_phases`).

A job is a :class:`Job`: a key (content hash), a kind, a label for progress, a zero-argument
callable and how to record its result. An executor yields ``(job, result, error)`` as jobs
finish; the runner records each result in the store (``job.record(store, value, seconds)``, one
transaction) as soon as it arrives, so a distributed executor (one process per job on a
cluster) only has to implement :meth:`Executor.run`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Protocol


@dataclass
class Job:
    key: str
    kind: str  # pretrain | extract | finetune | score
    label: str
    fn: Callable[[], Any]
    benchmark: str = ""
    target: str | None = None
    model: str | None = None
    seed: int | None = None
    metric: str | None = None
    record: Callable[[Any, Any, float], None] | None = None  # record(store, value, seconds)
    artifact: str | None = None  # content key of the cached file the job writes (extraction), if any


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


# What each kind of job reads from jobs of an earlier phase: a job needs those of these kinds that
# share its model (when both name one) and its target (when both name one).
NEEDS = {"extract": ("pretrain",), "finetune": ("pretrain",), "score": ("extract",)}


def dependencies(phases: list[list[Job]]) -> dict[int, list[Job]]:
    """``id(job)`` -> the jobs of earlier phases it needs (:data:`NEEDS`), for executors that order jobs by data."""
    out: dict[int, list[Job]] = {}
    earlier: list[Job] = []
    for jobs in phases:
        for job in jobs:
            out[id(job)] = [
                dep for dep in earlier if dep.kind in NEEDS.get(job.kind, ()) and dep.benchmark == job.benchmark
                and (dep.model is None or job.model is None or dep.model == job.model)
                and (dep.target is None or job.target is None or dep.target == job.target)
            ]
        earlier.extend(jobs)
    return out
