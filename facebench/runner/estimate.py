"""How long the jobs still to run will take, from what the store recorded for jobs like them.

Each job to run gets the median recorded wall time of the first of these that has any (the
store's ``job_costs``, done jobs only):

1. the same job (its content key): a job that ran before under the same key;
2. the same kind on the same benchmark, target and model (another seed; for a score job, the same
   metric on the same target);
3. the same kind and model (another target; for a score job, the same metric anywhere);

else it has no basis and is counted apart. A phase's wall time is the sum of its jobs' estimates
divided by the number of workers that can share it (``min(workers, jobs)``); the phases run one
after the other. The estimate assumes the machine and its load are those of the recorded run.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .jobs import Job

PHASES = ("pretrain", "extract", "finetune", "score")


@dataclass
class PhaseEstimate:
    kind: str
    jobs: int = 0
    with_basis: int = 0
    job_seconds: float = 0.0  # sum of the estimates of the jobs with a basis
    wall_seconds: float = 0.0  # job_seconds shared among the workers


@dataclass
class RunEstimate:
    phases: list[PhaseEstimate] = field(default_factory=list)
    workers: int = 1

    @property
    def wall_seconds(self) -> float:
        return sum(p.wall_seconds for p in self.phases)

    @property
    def without_basis(self) -> int:
        return sum(p.jobs - p.with_basis for p in self.phases)


def _keys(kind: str, benchmark: str | None, target: str | None, model: str | None, metric: str | None):
    """The lookup keys of rules 2 and 3 for one job (or one recorded cost)."""
    who = metric if kind == "score" else model
    return (kind, benchmark, target, who), (kind, who)


def estimate(todo: Iterable[Job], costs: Iterable[Mapping[str, Any]], workers: int = 1) -> RunEstimate:
    """The :class:`RunEstimate` of the jobs ``todo`` from recorded ``costs`` (:meth:`ResultsStore.job_costs`)."""
    by_key: dict[str, list[float]] = {}
    by_place: dict[tuple, list[float]] = {}
    by_kind: dict[tuple, list[float]] = {}
    for c in costs:
        seconds = c.get("seconds")
        if seconds is None:
            continue
        by_key.setdefault(c["key"], []).append(float(seconds))
        place, kind = _keys(c["kind"], c.get("benchmark"), c.get("target"), c.get("model"), c.get("metric"))
        by_place.setdefault(place, []).append(float(seconds))
        by_kind.setdefault(kind, []).append(float(seconds))
    phases = {k: PhaseEstimate(k) for k in PHASES}
    for job in todo:
        phase = phases.setdefault(job.kind, PhaseEstimate(job.kind))
        phase.jobs += 1
        place, kind = _keys(job.kind, job.benchmark, job.target, job.model, job.metric)
        basis = by_key.get(job.key) or by_place.get(place) or by_kind.get(kind)
        if basis:
            phase.with_basis += 1
            phase.job_seconds += statistics.median(basis)
    out = RunEstimate([p for p in phases.values() if p.jobs], max(1, int(workers)))
    for p in out.phases:
        p.wall_seconds = p.job_seconds / min(out.workers, p.jobs)
    return out
