"""Run a config: plan jobs, execute them (skipping finished ones), record results, score, rank.

Phases per benchmark (task x zoo): pre-train zoo models -> extract features of every target's
training split -> fine-tune every model on every target for every seed -> score every metric on
every target -> correlations with the mean fine-tuned result. Every job has a content key; a job
whose key is ``done`` in the store is skipped, so an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..bundle import FeatureBundle
from ..config import RunConfig
from ..evaluation import correlations
from ..plugins import get_plugins
from ..scoring import ZooScores, score_zoo
from ..store import ResultsStore
from ..tasks.base import JobContext
from .executor import Executor, Job, LocalExecutor
from .feature_cache import FeatureCache, content_key
from .prediction_cache import PredictionCache
from .plan import ResolvedBenchmark, resolve_benchmarks, resolve_metrics, validate_benchmarks

log = logging.getLogger("facebench.run")


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


@dataclass
class RunSummary:
    store: Path
    done: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (job label, error)
    seconds: float = 0.0
    leaderboards: list[Path] = field(default_factory=list)


def pick_device(requested: str | None) -> str:
    if requested:
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class _Progress:
    def __init__(self, total: int, quiet: bool) -> None:
        from tqdm import tqdm

        self.quiet = quiet
        self.count = 0
        self.total = total
        self.bar = tqdm(total=total, desc="facebench run", unit="job", disable=quiet, file=sys.stderr, dynamic_ncols=True)

    def step(self, label: str, status: str, seconds: float = 0.0) -> None:
        self.count += 1
        self.bar.update(1)
        self.bar.set_postfix_str(label[:60])
        if self.quiet and status != "cached":
            print(f"[{self.count}/{self.total}] {label}: {status} ({seconds:.1f}s)", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


def run_benchmarks(cfg: RunConfig, opts: RunOptions, config_text: str | None = None) -> RunSummary:
    start = time.perf_counter()
    plugins = get_plugins(cfg.plugins)
    metrics = resolve_metrics(cfg, plugins)
    benchmarks = resolve_benchmarks(cfg, plugins)
    device = pick_device(opts.device)
    cache_dir = Path(opts.cache_dir or cfg.cache_dir)
    download = cfg.download if opts.download is None else opts.download

    def make_ctx(rb: ResolvedBenchmark) -> JobContext:
        options = {**rb.config.options, "nc_trace": rb.config.nc_trace}
        return JobContext(cache_dir=cache_dir, device=device, download=download, quiet=opts.quiet, options=options)

    if not opts.only_score:
        validate_benchmarks(benchmarks, make_ctx)  # before any expensive job
    store = ResultsStore(opts.store or cfg.store)
    summary = RunSummary(store=store.path)
    cache = FeatureCache(cache_dir)
    predictions = PredictionCache(cache_dir)
    store.begin_run(cfg.digest, cfg.name, config_text or yaml.safe_dump(dict(cfg.raw), sort_keys=False))
    total = sum(_job_count(rb, len(metrics), opts.only_score) for rb in benchmarks)
    progress = _Progress(total, opts.quiet)
    try:
        for rb in benchmarks:
            _run_benchmark(rb, make_ctx(rb), metrics, store, cache, opts, progress, summary, predictions)
        store.finish_run(cfg.digest)
    finally:
        progress.close()
    if opts.leaderboard_dir:
        from ..leaderboard import build_leaderboards

        summary.leaderboards = build_leaderboards(
            store.path, opts.leaderboard_dir, config_text=config_text or yaml.safe_dump(dict(cfg.raw), sort_keys=False)
        )
    store.close()
    summary.seconds = time.perf_counter() - start
    return summary


def _job_count(rb: ResolvedBenchmark, n_metrics: int, only_score: bool) -> int:
    n_models, n_targets, n_seeds = len(rb.zoo.models), len(rb.config.targets), len(rb.config.seeds)
    scoring = n_targets * n_metrics
    if only_score:
        return scoring
    return n_models + n_models * n_targets + n_models * n_targets * n_seeds + scoring


def _execute(jobs: list[Job], store: ResultsStore, opts: RunOptions, progress: _Progress, summary: RunSummary, record) -> None:
    """Run the jobs not yet done; ``record(job, result)`` writes each result in one transaction."""
    todo = []
    for job in jobs:
        if store.job_done(job.key):
            summary.skipped += 1
            progress.step(job.label, "cached")
        else:
            todo.append(job)
    for job, result, error in opts.executor.run(todo):
        if error is not None:
            message = str(error) or type(error).__name__
            log.debug("job %s failed", job.label, exc_info=error)
            store.record_failure(job.key, job.kind, job.benchmark, job.target, job.model, job.seed, message)
            summary.failed.append((job.label, f"{type(error).__name__}: {message}"))
            progress.step(job.label, f"FAILED: {message}")
            continue
        t, value = result
        record(job, value, t)
        summary.done += 1
        progress.step(job.label, "done", t)


def _timed(fn):
    def wrapped():
        t0 = time.perf_counter()
        value = fn()
        return time.perf_counter() - t0, value

    return wrapped


def _run_benchmark(rb, ctx, metrics, store, cache, opts, progress, summary, predictions=None) -> None:
    bench, task, zoo, cfg = rb.id, rb.task, rb.zoo, rb.config
    for target in cfg.targets:
        store.add_benchmark(bench, cfg.task, cfg.zoo, target, "")
    feature_keys = {
        (t, m.name): content_key("features", cfg.task, m, t, "train", dict(cfg.options)) for t in cfg.targets for m in zoo.models
    }
    if not opts.only_score:
        # 1. zoo building
        jobs = []
        for m in zoo.models:
            fn = _timed(lambda m=m: task.pretrain(m, ctx))
            jobs.append(Job(content_key("pretrain", cfg.task, m), "pretrain", f"pretrain {m.name}", fn, bench, None, m.name))
        _execute(jobs, store, opts, progress, summary, lambda job, v, t: store.record_pretrain(job.key, bench, job.model, t))

        # 2. features of each target's training split (cached on disk by content key)
        def extract(m, t):
            key = feature_keys[(t, m.name)]
            bundle = cache.load(key)
            if bundle is None:
                bundle = task.extract(m, t, ctx)
                cache.save(key, bundle)
            return bundle

        jobs = []
        for t in cfg.targets:
            for m in zoo.models:
                fn = _timed(lambda m=m, t=t: extract(m, t))
                jobs.append(Job(feature_keys[(t, m.name)], "extract", f"extract {m.name} on {t}", fn, bench, t, m.name))

        def record_extract(job, bundle: FeatureBundle, secs: float) -> None:
            path = str(cache.path(job.key))
            store.record_features(job.key, bench, job.target, job.model, "train", path, job.key, bundle.n, bundle.dim, secs)

        _execute(jobs, store, opts, progress, summary, record_extract)

        # 3. ground truth: fine-tune every model on every target, every seed
        jobs = []
        for t in cfg.targets:
            for m in zoo.models:
                for seed in cfg.seeds:
                    key = content_key("finetune", cfg.task, m, t, seed, dict(cfg.finetune), dict(cfg.options), cfg.nc_trace)
                    fn = _timed(lambda m=m, t=t, seed=seed: task.finetune(m, t, seed, dict(cfg.finetune), ctx))
                    label = f"finetune {m.name} on {t} (seed {seed})"
                    jobs.append(Job(key, "finetune", label, fn, bench, t, m.name, seed))

        def record_finetune(job, result, secs: float) -> None:
            _record_predictions(store, predictions, job, bench, result)  # before the job is marked done
            store.record_ground_truth(
                job.key, bench, job.target, job.model, job.seed, result.metrics, result.seconds or secs, result.nc_trace
            )

        _execute(jobs, store, opts, progress, summary, record_finetune)

    # 4. scores and correlations, per target and metric
    for t in cfg.targets:
        scorer = TargetScorer(store, bench, t)
        jobs = []
        for name, metric in metrics.items():
            fn = _timed(lambda metric=metric, name=name: scorer.score(name, metric))
            jobs.append(Job(scorer.key(name, metric), "score", f"score {name} on {bench} {t}", fn, bench, t, metric=name))

        def record_score(job, result, secs: float, scorer=scorer) -> None:
            scorer.record(job.key, job.metric, metrics[job.metric], result)

        _execute(jobs, store, opts, progress, summary, record_score)


def _record_predictions(store: ResultsStore, cache: PredictionCache | None, job: Job, bench: str, result) -> None:
    """Save a fine-tuning job's test predictions (if the task returned any) under its job key.

    Written before the job's ground truth marks it done: an interruption in between leaves a
    row for a job that is not done, which the rerun overwrites with the same content.
    """
    preds = getattr(result, "predictions", None)
    if cache is None or preds is None:
        return
    path = cache.save(job.key, preds)
    store.record_predictions(bench, job.target, job.model, job.seed, str(path), job.key, preds.n)


class TargetScorer:
    """Scores metrics on the cached features of one benchmark target and records them.

    Each cached bundle is loaded once, on first use, for all the target's metrics. The job key
    covers the metric's parameters, the feature files and the ground truth, so a score is
    recomputed exactly when one of them changes. Used by the run and by ``--only-score``.
    """

    def __init__(self, store: ResultsStore, benchmark: str, target: str) -> None:
        self.store, self.benchmark, self.target = store, benchmark, target
        self.paths = store.feature_paths(benchmark, target)
        stats = store.truth_statistics(benchmark, target)
        self.truth = {s: store.ground_truth(benchmark, target, s) for s in stats}
        self.mean_truth = {s: store.mean_ground_truth(benchmark, target, s) for s in stats}
        self._loaded: dict[str, FeatureBundle] = {}

    def key(self, name: str, metric) -> str:
        return content_key("score", self.benchmark, self.target, name, metric.params(), sorted(self.paths.items()), self.truth)

    def _bundle(self, model: str) -> FeatureBundle:
        if model not in self._loaded:
            self._loaded[model] = FeatureBundle.load_npz(self.paths[model])
        return self._loaded[model]

    def score(self, name: str, metric) -> ZooScores:
        if not self.paths:
            from ..errors import FacebenchError

            raise FacebenchError("no cached features for this target: run the benchmark without --only-score first")
        return score_zoo({name: metric}, {model: (lambda model=model: self._bundle(model)) for model in self.paths})

    def record(self, key: str, name: str, metric, result: ZooScores) -> dict[str, dict[str, float]]:
        """Write the metric's values, zoo scores and correlations in one transaction; return the correlations."""
        corr = {s: correlations(result.scores.get(name, {}), truth) for s, truth in self.mean_truth.items()}
        self.store.record_scores(
            key, self.benchmark, self.target, name, metric.params(), result.raw[name], result.seconds[name],
            result.errors[name], result.scores[name], result.warnings[name], corr,
        )
        return corr
