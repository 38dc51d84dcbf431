"""Executors run independent jobs. The local one runs them in this process, in order.

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
