"""A job: one unit of work the plan makes and an executor runs (pre-train, extract, fine-tune, score).

A job has a content key, a kind, a label for progress, a zero-argument callable and how to record
its result in the store (``job.record(store, value, seconds)``, one transaction). Jobs come in
phases: a job may need the results of jobs of earlier phases (:func:`dependencies`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


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
