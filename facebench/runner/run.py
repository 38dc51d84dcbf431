"""Run a config: resolve it, plan its jobs, execute them (skipping finished ones), record results, build boards.

The stages, each a module or folder of its own: :mod:`.resolve` (config -> benchmarks, validated)
-> :mod:`.plan` (jobs with content keys, phase by phase: pre-train, extract, fine-tune, score)
-> :mod:`.execute` (here, in worker processes or on Ray) -> the results store -> boards
(:mod:`facebench.leaderboard`, whose statistics are in :mod:`facebench.evaluate`). A job whose
key is ``done`` in the store is skipped, so an interrupted run resumes where it stopped.

Nothing here prints: progress goes to ``RunOptions.on_job`` (the CLI draws it).
"""
from __future__ import annotations

import errno
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from .. import phase_probe
from ..config import RunConfig
from ..errors import FacebenchError
from ..plugins import Plugins, get_plugins
from ..store import ResultsStore
from ..tasks.base import TaskContext
from .context import task_context
from .estimate import Remaining, RunEstimate, estimate
from .execute.local import Executor, LocalExecutor, close_executor, run_phases
from .feature_cache import FeatureCache
from .jobs import Job
from .plan import plan_benchmark
from .prediction_cache import PredictionCache
from .resolve import ResolvedBenchmark, resolve_benchmarks, resolve_instances, resolve_metrics, validate_benchmarks
from .run_lock import RunLock

log = logging.getLogger("facebench.run")


@dataclass
class JobEvent:
    """One job's outcome, for progress reporting: status is 'cached', 'done' or 'failed'."""

    job: Job
    status: str
    seconds: float = 0.0
    error: str | None = None


@dataclass
class RunOptions:
    device: str | None = None  # None: cuda if available else cpu
    quiet: bool = False
    only_score: bool = False
    download: bool | None = None  # None: the config's setting
    store: str | None = None  # override the config's store path
    cache_dir: str | None = None
    leaderboard_dir: str | None = None  # None: no leaderboards
    executor: Executor = field(default_factory=LocalExecutor)
    on_start: Callable[[int], None] | None = None  # called with the number of jobs before the first
    on_job: Callable[[JobEvent], None] | None = None  # called after each job (cached ones included)
    # called with the estimate of the jobs still to run (a RunEstimate, as --plan's): after on_start, and
    # after each job that ran or failed (before its on_job); see .estimate.Remaining
    on_estimate: Callable[[RunEstimate], None] | None = None
    progress: Callable | None = None  # a tqdm-like factory for the tasks' inner loops (TaskContext.progress)


@dataclass
class RunSummary:
    store: Path
    done: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (job label, error)
    metric_errors: list[str] = field(default_factory=list)  # "<score job>: <metric> on model <m>: <error>"
    broken_plugins: dict[str, str] = field(default_factory=dict)  # installed plugin -> why it was left out
    seconds: float = 0.0
    leaderboards: list[Path] = field(default_factory=list)


@dataclass
class PlannedJob:
    job: Job
    done: bool  # already in the store: a run would skip it


class Plan(list):
    """The planned jobs (a list of :class:`PlannedJob`) and ``notes``: what validation found that a run
    would fetch ("would download <id>"), found without a network call."""

    def __init__(self, jobs=(), notes=()) -> None:
        super().__init__(jobs)
        self.notes = list(notes)
        self.estimate: RunEstimate | None = None  # the jobs still to run, timed from the store's records


def pick_device(requested: str | None) -> str:
    if requested:
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class _Prepared:
    cfg: RunConfig
    plugins: Plugins
    benchmarks: list[ResolvedBenchmark]
    jobs: dict[str, list[list[Job]]]  # benchmark id -> phases -> jobs
    cache: FeatureCache
    notes: list[str] = field(default_factory=list)  # the tasks' notes from validation (TaskContext.note)


def _prepare(cfg: RunConfig, opts: RunOptions, store: ResultsStore | None) -> _Prepared:
    """Resolve, validate and plan every job; nothing runs and nothing is written."""
    plugins = get_plugins(cfg.plugins)
    metrics = resolve_metrics(cfg, plugins)
    benchmarks = resolve_benchmarks(cfg, plugins)
    instances = resolve_instances(cfg, plugins)  # every named instance: a zoo's source may be one
    cache_dir = Path(opts.cache_dir or cfg.cache_dir).absolute()  # worker processes (Ray) may start elsewhere
    download = cfg.download if opts.download is None else opts.download
    device = opts.device or "cpu"
    if not opts.only_score:
        device = pick_device(opts.device)
    notes: list[str] = []

    def make_ctx(rb: ResolvedBenchmark) -> TaskContext:
        ctx = task_context(plugins, cache_dir=cache_dir, device=device, download=download, quiet=opts.quiet,
                           options=rb.config.options, instances={**instances, **rb.targets},
                           diagnostics=rb.diagnostics)
        ctx.progress = opts.progress
        ctx.notes = notes  # one list for the run: the plan prints it
        return ctx

    if store is not None:
        for rb in benchmarks:
            for name, inst in rb.targets.items():
                store.check_target(rb.id, name, inst.definition, rb.config.where or cfg.source)
    if not opts.only_score:
        validate_benchmarks(benchmarks, make_ctx)  # before any expensive job
    cache = FeatureCache(cache_dir)
    predictions = PredictionCache(cache_dir)
    jobs = {rb.id: plan_benchmark(rb, make_ctx(rb), metrics, store, cache, predictions, opts.only_score,
                                   cfg.scoring) for rb in benchmarks}
    return _Prepared(cfg, plugins, benchmarks, jobs, cache, notes)


def _is_done(job: Job, store: ResultsStore | None, cache: FeatureCache) -> bool:
    if store is None or not store.job_done(job.key):
        return False
    return job.artifact is None or cache.has(job.artifact)  # a removed or corrupt file is extracted again


def plan_run(cfg: RunConfig, opts: RunOptions) -> Plan:
    """Validate the config and list the jobs a run would do, each marked done if the store has it, with
    the notes of validation (what a run would download: a plan makes no network call)."""
    path = Path(opts.store or cfg.store)
    store = ResultsStore(path) if path.exists() else None
    try:
        prepared = _prepare(cfg, opts, store)
        plan = Plan([PlannedJob(job, _is_done(job, store, prepared.cache))
                     for phases in prepared.jobs.values() for phase in phases for job in phase], prepared.notes)
        plan.estimate = estimate([p.job for p in plan if not p.done], store.job_costs() if store else [],
                                 _workers(cfg, opts))
        return plan
    finally:
        if store is not None:
            store.close()


def _workers(cfg: RunConfig, opts: RunOptions) -> int:
    return getattr(opts.executor, "workers", None) or cfg.workers


def run_benchmarks(cfg: RunConfig, opts: RunOptions, config_text: str | None = None) -> RunSummary:
    start = time.perf_counter()
    config_text = config_text or yaml.safe_dump(dict(cfg.raw), sort_keys=False)
    path = Path(opts.store or cfg.store)
    existing = ResultsStore(path) if path.exists() else None
    try:
        prepared = _prepare(cfg, opts, existing)  # refuses a bad config before the store is written
    finally:
        if existing is not None:
            existing.close()
    lock = RunLock(path)  # one run per store: a second is refused, naming the holder; a dead holder's lock is free
    lock.acquire()
    store = ResultsStore(path)
    summary = RunSummary(store=store.path, broken_plugins=dict(prepared.plugins.broken))
    try:
        store.begin_run(cfg.digest, cfg.name, config_text)
        if opts.on_start:
            opts.on_start(sum(len(p) for phases in prepared.jobs.values() for p in phases))
        remaining = None
        if opts.on_estimate:  # the --plan estimate of the jobs to run, kept up to date as they finish
            todo = [job for phases in prepared.jobs.values() for phase in phases for job in phase
                    if not _is_done(job, store, prepared.cache)]
            remaining = Remaining(todo, store.job_costs(), _workers(cfg, opts))
            opts.on_estimate(remaining.estimate())
        try:
            for rb in prepared.benchmarks:
                store.set_truth_statistics(rb.id, rb.task.ground_truth, rb.task.primary_truth)
                for name, inst in rb.targets.items():
                    store.add_benchmark(rb.id, rb.config.task, rb.config.zoo, name, "")
                    store.add_target(rb.id, name, inst.definition)
                _execute(prepared.jobs[rb.id], store, prepared.cache, opts, summary, remaining)
        finally:
            close_executor(opts.executor)  # worker processes end with the run, Ctrl-C included
        store.finish_run(cfg.digest)
        if opts.leaderboard_dir:
            from ..leaderboard import build_leaderboards

            summary.leaderboards = build_leaderboards(store.path, opts.leaderboard_dir, config_text=config_text)
    finally:
        store.close()
        lock.release()
    summary.seconds = time.perf_counter() - start
    return summary


def _execute(phases: list[list[Job]], store: ResultsStore, cache: FeatureCache, opts: RunOptions,
             summary: RunSummary, remaining: Remaining | None = None) -> None:
    """Run a benchmark's phases (jobs not yet done); each result is recorded with its cost in one transaction.

    The executor decides how the phases' order is kept (:func:`.execute.local.run_phases`: one phase
    after the other; Ray: object refs between dependent jobs) and yields results as they come.
    """
    on_job = opts.on_job or (lambda event: None)

    def notify(event: JobEvent, cost=None) -> None:
        # a cached job was counted only if it ran since the estimate began (under another benchmark's key)
        if remaining is not None and remaining.finished(event.job, None if cost is None else cost.seconds):
            opts.on_estimate(remaining.estimate())
        on_job(event)

    todo_phases = []
    for jobs in phases:
        todo = []
        for job in jobs:
            if _is_done(job, store, cache):
                summary.skipped += 1
                notify(JobEvent(job, "cached"))
            else:
                todo.append(phase_probe.wrap(job))  # the job itself unless the crash harness's probe is on
        todo_phases.append(todo)
    for job, result, error in run_phases(opts.executor, todo_phases):
        if _out_of_disk(error):  # every later job would fail the same way: stop here, in one line
            where = f" {error.filename}" if getattr(error, "filename", None) else ""
            raise FacebenchError(
                f"{job.label}: cannot write{where} ({error.strerror or error}); the jobs finished before are kept "
                "in the store: free space or make the cache directory writable, then run again to resume"
            )
        if error is not None:
            message = str(error) or type(error).__name__
            log.debug("job %s failed", job.label, exc_info=error)
            store.record_failure(job.key, job.kind, job.benchmark, job.target, job.model, job.seed, message)
            summary.failed.append((job.label, f"{type(error).__name__}: {message}"))
            notify(JobEvent(job, "failed", error=message))
            continue
        seconds, value, cost = result
        # an extraction that found its features in the cache only read them: recording that as its cost
        # would make --plan and the ETA take a read for an extraction (2.6x too low on an unpacked pack)
        from_cache = bool(getattr(value, "from_cache", False))
        with store.transaction():  # the job's result and its cost: one transaction
            job.record(store, value, seconds)
            if not from_cache:
                store.record_cost(job.key, job.kind, job.benchmark, job.target, job.model, job.seed, job.metric,
                                  cost.as_dict())
        if job.kind == "score":  # recorded per model as failed; reported here with the job that met them
            summary.metric_errors.extend(f"{job.label}: {line}" for line in value.error_lines())
        summary.done += 1
        notify(JobEvent(job, "done", seconds), None if from_cache else cost)


DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM})


def _out_of_disk(error: BaseException | None) -> bool:
    """A full disk, a read-only or forbidden directory: no job that writes can succeed after it."""
    return isinstance(error, OSError) and error.errno in DISK_ERRNOS
