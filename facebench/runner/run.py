"""Run a config: plan jobs, execute them (skipping finished ones), record results, build boards.

Phases per benchmark (task x zoo): pre-train zoo models -> extract features of every target's
training split -> fine-tune every model on every target for every seed -> score every metric on
every target. Every job has a content key; a job whose key is ``done`` in the store is skipped,
so an interrupted run resumes where it stopped. A score's key holds the metric's parameters and
the content keys of the features it reads, never the ground truth: adding a seed fine-tunes the
new seed and scores nothing again. Correlations with the ground truth are computed when boards
are built (:mod:`facebench.evaluation`), not here.

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
from ..bundle import FeatureBundle
from ..config import RunConfig
from ..errors import FacebenchError
from ..isolation import DEFAULT_LIMITS, Limits, run_limited
from ..plugins import Plugins, get_plugins
from ..scoring import ZooScores, score_zoo
from ..store import ResultsStore
from ..tasks.base import TaskContext
from .context import task_context
from .cost import measured
from .executor import Executor, Job, LocalExecutor, close_executor, run_phases
from .feature_cache import FeatureCache, content_key, feature_key
from .prediction_cache import PredictionCache
from .run_lock import RunLock
from .plan import ResolvedBenchmark, resolve_benchmarks, resolve_instances, resolve_metrics, validate_benchmarks

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

    def make_ctx(rb: ResolvedBenchmark) -> TaskContext:
        ctx = task_context(plugins, cache_dir=cache_dir, device=device, download=download, quiet=opts.quiet,
                           options=rb.config.options, instances={**instances, **rb.targets},
                           diagnostics=rb.diagnostics)
        ctx.progress = opts.progress
        return ctx

    if store is not None:
        for rb in benchmarks:
            for name, inst in rb.targets.items():
                store.check_target(rb.id, name, inst.definition, rb.config.where or cfg.source)
    if not opts.only_score:
        validate_benchmarks(benchmarks, make_ctx)  # before any expensive job
    cache = FeatureCache(cache_dir)
    predictions = PredictionCache(cache_dir)
    jobs = {rb.id: _plan_benchmark(rb, make_ctx(rb), metrics, store, cache, predictions, opts.only_score,
                                   cfg.scoring) for rb in benchmarks}
    return _Prepared(cfg, plugins, benchmarks, jobs, cache)


def _is_done(job: Job, store: ResultsStore | None, cache: FeatureCache) -> bool:
    if store is None or not store.job_done(job.key):
        return False
    return job.artifact is None or cache.has(job.artifact)  # a removed or corrupt file is extracted again


def plan_run(cfg: RunConfig, opts: RunOptions) -> list[PlannedJob]:
    """Validate the config and list the jobs a run would do, each marked done if the store has it."""
    path = Path(opts.store or cfg.store)
    store = ResultsStore(path) if path.exists() else None
    try:
        prepared = _prepare(cfg, opts, store)
        return [PlannedJob(job, _is_done(job, store, prepared.cache))
                for phases in prepared.jobs.values() for phase in phases for job in phase]
    finally:
        if store is not None:
            store.close()


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
        try:
            for rb in prepared.benchmarks:
                store.set_truth_statistics(rb.id, rb.task.ground_truth, rb.task.primary_truth)
                for name, inst in rb.targets.items():
                    store.add_benchmark(rb.id, rb.config.task, rb.config.zoo, name, "")
                    store.add_target(rb.id, name, inst.definition)
                _execute(prepared.jobs[rb.id], store, prepared.cache, opts, summary)
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
             summary: RunSummary) -> None:
    """Run a benchmark's phases (jobs not yet done); each result is recorded with its cost in one transaction.

    The executor decides how the phases' order is kept (:func:`.executor.run_phases`: one phase
    after the other; Ray: object refs between dependent jobs) and yields results as they come.
    """
    notify = opts.on_job or (lambda event: None)
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
        with store.transaction():  # the job's result and its cost: one transaction
            job.record(store, value, seconds)
            store.record_cost(job.key, job.kind, job.benchmark, job.target, job.model, job.seed, job.metric,
                              cost.as_dict())
        if job.kind == "score":  # recorded per model as failed; reported here with the job that met them
            summary.metric_errors.extend(f"{job.label}: {line}" for line in value.error_lines())
        summary.done += 1
        notify(JobEvent(job, "done", seconds))


DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM})


def _out_of_disk(error: BaseException | None) -> bool:
    """A full disk, a read-only or forbidden directory: no job that writes can succeed after it."""
    return isinstance(error, OSError) and error.errno in DISK_ERRNOS


@dataclass(frozen=True)
class ExtractedFeatures:
    """What an extraction job returns to the driver: the bundle's shape (the bundle is in the cache)."""

    n: int
    dim: int


def _plan_benchmark(rb: ResolvedBenchmark, ctx: TaskContext, metrics, store: ResultsStore | None,
                    cache: FeatureCache, predictions: PredictionCache, only_score: bool,
                    limits: Limits = DEFAULT_LIMITS) -> list[list[Job]]:
    """The benchmark's jobs, phase by phase: pretrain, extract, finetune, score."""
    bench, task, zoo, cfg = rb.id, rb.task, rb.zoo, rb.config
    options = dict(cfg.options)
    feature_keys = {
        (t, m.name): feature_key(cfg.task, m, inst.content, options)
        for t, inst in rb.targets.items() for m in zoo.models
    }

    def pretrain_job(m) -> Job:
        key = content_key("pretrain", cfg.task, m)
        return Job(key, "pretrain", f"pretrain {m.name}", measured(lambda: task.pretrain(m, ctx), ctx.device), bench,
                   None, m.name,
                   record=lambda store, value, secs: store.record_pretrain(key, bench, m.name, secs))

    # Job keys of extraction and fine-tuning name the benchmark target they are recorded under: the
    # same model on the same data in two benchmarks of one store is recorded for each (the cached
    # feature file, keyed by content alone, is shared).
    def extract_job(m, t: str) -> Job:
        key = feature_keys[(t, m.name)]
        job_key = content_key("extract", bench, t, key)

        def extract() -> ExtractedFeatures:
            bundle = cache.load_or_extract(key, lambda: task.extract(m, t, ctx))[0]
            return ExtractedFeatures(bundle.n, bundle.dim)

        def record(store, bundle: ExtractedFeatures, secs: float) -> None:
            path = str(cache.path(key).resolve())
            store.record_features(job_key, bench, t, m.name, "train", path, key, bundle.n, bundle.dim, secs)

        return Job(job_key, "extract", f"extract {m.name} on {t}", measured(extract, ctx.device), bench, t, m.name,
                   record=record, artifact=key)

    def finetune_job(m, t: str, seed: int) -> Job:
        key = content_key("finetune", bench, t, cfg.task, m, rb.targets[t].content, seed, rb.hparams_for(t), options,
                          sorted(rb.diagnostics))

        def record(store, result, secs: float) -> None:
            _record_predictions(store, predictions, key, bench, t, m.name, seed, result)  # before the job is done
            store.record_ground_truth(key, bench, t, m.name, seed, result.metrics, result.seconds or secs,
                                      result.diagnostics)

        fn = measured(lambda: task.finetune(m, t, seed, dict(rb.hparams_for(t)), ctx), ctx.device)
        return Job(key, "finetune", f"finetune {m.name} on {t} (seed {seed})", fn, bench, t, m.name, seed, record=record)

    def score_jobs(t: str) -> list[Job]:
        stored = store.feature_files(bench, t) if store is not None else {}
        files = {}
        for m in zoo.models:  # the file the store recorded for this content key, else where the cache puts it
            key = feature_keys[(t, m.name)]
            path, stored_key = stored.get(m.name, (None, None))
            files[m.name] = (path if stored_key == key else str(cache.path(key).resolve()), key)
        scorer = TargetScorer(bench, t, files, limits)

        def job(name: str, metric) -> Job:
            key = scorer.key(name, metric)
            module = type(metric).__module__
            plugin = "" if module.startswith("facebench.") else f" (plugin {module})"
            return Job(key, "score", f"score {name}{plugin} on {bench} {t}",
                       measured(lambda: scorer.score(name, metric, ctx.device), ctx.device),
                       bench, t, metric=name,
                       record=lambda store, result, secs: scorer.record(store, key, name, metric, result))

        return [job(name, metric) for name, metric in metrics.items()]

    phases: list[list[Job]] = []
    if not only_score:
        phases.append([pretrain_job(m) for m in zoo.models])
        phases.append([extract_job(m, t) for t in rb.targets for m in zoo.models])
        phases.append([finetune_job(m, t, seed) for t in rb.targets for m in zoo.models for seed in cfg.seeds])
    phases.append([job for t in rb.targets for job in score_jobs(t)])
    return phases


def _record_predictions(store: ResultsStore, cache: PredictionCache, key: str, bench: str, target: str, model: str,
                        seed: int, result) -> None:
    """Save a fine-tuning job's test predictions (if the task returned any) under its job key.

    Written before the job's ground truth marks it done: an interruption in between leaves a
    row for a job that is not done, which the rerun overwrites with the same content.
    """
    preds = getattr(result, "predictions", None)
    if preds is None:
        return
    path = cache.save(key, preds)
    store.record_predictions(bench, target, model, seed, str(path.resolve()), key, preds.n)


_WORKER_BUNDLES: dict = {}  # in a worker process: the scorer token and bundles of the last target scored


class TargetScorer:
    """Scores metrics on the cached features of one benchmark target and records them.

    ``files``: model -> (feature file, content key). Each bundle is read once, on first use,
    and verified against its checksum. The job key covers the metric's name and parameters and
    the features' content keys (and which benchmark target they are stored under), so a score
    is recomputed exactly when its inputs change, never because the ground truth did. Used by
    the run, ``--only-score`` and ``facebench score --store``.
    """

    def __init__(self, benchmark: str, target: str, files: dict[str, tuple[str, str]],
                 limits: Limits = DEFAULT_LIMITS) -> None:
        self.benchmark, self.target, self.files, self.limits = benchmark, target, dict(files), limits
        self._loaded: dict[str, FeatureBundle] = {}

    # Sent to a worker process (one scoring job at a time), a scorer travels without its bundles;
    # every copy of the same scorer that arrives in one process shares one set of bundles, so a
    # worker reads a target's features once and the metrics' per-bundle shared work (FaCe's C,
    # the class distances) is reused across its jobs as it is in one process. A process keeps
    # the bundles of the last target it scored only.
    def __getstate__(self) -> dict:
        return {**self.__dict__, "_loaded": {}}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        token = (self.benchmark, self.target, tuple(sorted(self.files.items())))
        if _WORKER_BUNDLES.get("token") != token:
            _WORKER_BUNDLES.clear()
            _WORKER_BUNDLES.update(token=token, bundles={})
        self._loaded = _WORKER_BUNDLES["bundles"]

    def key(self, name: str, metric) -> str:
        contents = sorted((model, key) for model, (_path, key) in self.files.items())
        return content_key("score", self.benchmark, self.target, name, metric.params(), contents)

    def _bundle(self, model: str) -> FeatureBundle:
        if model not in self._loaded:
            path, key = self.files[model]
            self._loaded[model] = FeatureCache.of_file(path).load(key, strict=True)
        return self._loaded[model]

    def score(self, name: str, metric, device: str = "cpu") -> ZooScores:
        """Score ``metric``; on a CUDA ``device`` its large float64 products run there (:mod:`..metrics._backend`)."""
        from ..metrics._backend import torch_backend

        if not self.files:
            raise FacebenchError("no cached features for this target: run the benchmark without --only-score first")
        bundles = {model: self._bundle(model) for model in self.files}  # read and verified here, shared by fork
        what = f"metric {name!r} (plugin module {type(metric).__module__}) on {self.benchmark} {self.target}"
        with torch_backend(device if str(device).startswith("cuda") else None):
            return run_limited(lambda: score_zoo({name: metric}, bundles), self.limits, what)

    def record(self, store: ResultsStore, key: str, name: str, metric, result: ZooScores) -> None:
        """Write the metric's per-model values and zoo scores in one transaction."""
        store.record_scores(
            key, self.benchmark, self.target, name, metric.params(), result.raw[name], result.seconds[name],
            result.errors[name], result.scores[name], result.warnings[name],
        )
