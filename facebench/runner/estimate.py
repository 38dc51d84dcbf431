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

During a run, :class:`Remaining` keeps the same estimate for the jobs not yet finished (the run's
progress bar shows it as its ETA): each job that finishes leaves it, and its measured wall time
joins a second set of costs, looked up by the same rules, for the jobs the store gave no basis.
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


class _Basis:
    """Recorded wall times by job key, by place (rule 2) and by kind (rule 3), with the median lookup."""

    def __init__(self, costs: Iterable[Mapping[str, Any]] = ()) -> None:
        self.by_key: dict[str, list[float]] = {}
        self.by_place: dict[tuple, list[float]] = {}
        self.by_kind: dict[tuple, list[float]] = {}
        self._medians: dict[tuple, float] = {}  # (table, key) -> median, dropped when a record joins
        for c in costs:
            self.add(c["key"], c["kind"], c.get("benchmark"), c.get("target"), c.get("model"), c.get("metric"),
                     c.get("seconds"))

    def add(self, key: str, kind: str, benchmark: str | None, target: str | None, model: str | None,
            metric: str | None, seconds: float | None) -> None:
        if seconds is None:
            return
        place, by_kind = _keys(kind, benchmark, target, model, metric)
        for table, k in ((self.by_key, key), (self.by_place, place), (self.by_kind, by_kind)):
            table.setdefault(k, []).append(float(seconds))
            self._medians.pop((id(table), k), None)

    def seconds(self, job: Job) -> float | None:
        """The median recorded wall time of the first rule with any record for ``job``, else None."""
        place, kind = _keys(job.kind, job.benchmark, job.target, job.model, job.metric)
        for table, k in ((self.by_key, job.key), (self.by_place, place), (self.by_kind, kind)):
            if table.get(k):
                if (id(table), k) not in self._medians:
                    self._medians[id(table), k] = statistics.median(table[k])
                return self._medians[id(table), k]
        return None


def _summarise(todo: Iterable[Job], seconds, workers: int) -> RunEstimate:
    """The :class:`RunEstimate` of ``todo`` with ``seconds(job)`` its estimate (None: no basis)."""
    phases = {k: PhaseEstimate(k) for k in PHASES}
    for job in todo:
        phase = phases.setdefault(job.kind, PhaseEstimate(job.kind))
        phase.jobs += 1
        value = seconds(job)
        if value is not None:
            phase.with_basis += 1
            phase.job_seconds += value
    out = RunEstimate([p for p in phases.values() if p.jobs], max(1, int(workers)))
    for p in out.phases:
        p.wall_seconds = p.job_seconds / min(out.workers, p.jobs)
    return out


def estimate(todo: Iterable[Job], costs: Iterable[Mapping[str, Any]], workers: int = 1) -> RunEstimate:
    """The :class:`RunEstimate` of the jobs ``todo`` from recorded ``costs`` (:meth:`ResultsStore.job_costs`)."""
    return _summarise(todo, _Basis(costs).seconds, workers)


class Remaining:
    """The estimate of a run's jobs not yet finished, kept up to date as they finish.

    It starts as :func:`estimate` of the jobs to run (what ``facebench run --plan`` prints). Each
    :meth:`finished` job leaves it; a job that ran (``seconds`` given) adds its wall time to the
    costs measured in this run, which give an estimate, by the same three rules, to the jobs the
    store's records give none (a job with a basis in the store keeps that one). Jobs that are
    running count in full until they finish.
    """

    def __init__(self, todo: Iterable[Job], costs: Iterable[Mapping[str, Any]], workers: int = 1) -> None:
        recorded = _Basis(costs)
        self.workers = max(1, int(workers))
        self.measured = _Basis()  # this run's
        self._todo: dict[str, list[Job]] = {}
        self._recorded: dict[str, float | None] = {}  # job key -> the store's estimate (fixed)
        for job in todo:
            self._todo.setdefault(job.key, []).append(job)
            self._recorded[job.key] = recorded.seconds(job)

    def _seconds(self, job: Job) -> float | None:
        value = self._recorded.get(job.key)
        return value if value is not None else self.measured.seconds(job)

    def finished(self, job: Job, seconds: float | None = None) -> bool:
        """``job`` is no longer to run; ``seconds``: its measured wall time (None: it failed, or was cached).
        Whether the estimate changed (False for a job it did not count)."""
        self.measured.add(job.key, job.kind, job.benchmark, job.target, job.model, job.metric, seconds)
        jobs = self._todo.get(job.key)
        if not jobs:
            return seconds is not None
        jobs.pop()
        if not jobs:
            del self._todo[job.key]
        return True

    @property
    def jobs(self) -> int:
        return sum(len(v) for v in self._todo.values())

    def estimate(self) -> RunEstimate:
        """The :class:`RunEstimate` of the jobs still to run."""
        return _summarise((j for jobs in self._todo.values() for j in jobs), self._seconds, self.workers)
