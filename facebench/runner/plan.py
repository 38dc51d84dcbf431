"""Plan a resolved benchmark's jobs, phase by phase: pre-train, extract, fine-tune, score.

Every job has a content key (:func:`.feature_cache.content_key`): a job whose key the store
holds as done is skipped, so an interrupted run resumes where it stopped. A score's key holds the
metric's parameters and the content keys of the features it reads, never the ground truth.
Nothing runs here: a job's callable runs when an executor (:mod:`.execute`) calls it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..isolation import DEFAULT_LIMITS, Limits
from ..store import ResultsStore
from ..tasks.base import TaskContext
from .execute.cost import measured
from .feature_cache import FeatureCache, content_key, feature_key
from .jobs import Job
from .prediction_cache import PredictionCache
from .resolve import ResolvedBenchmark
from .score import TargetScorer


@dataclass(frozen=True)
class ExtractedFeatures:
    """What an extraction job returns to the driver: the bundle's shape (the bundle is in the cache), and
    whether the cache already held it (then the job only read it: its time is no extraction's cost)."""

    n: int
    dim: int
    from_cache: bool = False


def plan_benchmark(rb: ResolvedBenchmark, ctx: TaskContext, metrics, store: ResultsStore | None,
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
            bundle, hit = cache.load_or_extract(key, lambda: task.extract(m, t, ctx))
            return ExtractedFeatures(bundle.n, bundle.dim, hit)

        def record(store, bundle: ExtractedFeatures, secs: float) -> None:  # recorded relative to the cache directory
            store.record_features(job_key, bench, t, m.name, "train", cache.path(key), key, bundle.n, bundle.dim, secs,
                                  cache_dir=cache.root.parent)

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
        # the file the store recorded for this content key, found where the store and its cache are now
        # (ResultsStore.resolve_file), else where this run's cache puts it
        for m in zoo.models:
            key = feature_keys[(t, m.name)]
            path, stored_key = stored.get(m.name, (None, None))
            usable = stored_key == key and path is not None and Path(path).is_file()
            files[m.name] = (path if usable else str(cache.path(key).resolve()), key)
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
    store.record_predictions(bench, target, model, seed, path, key, preds.n, cache_dir=cache.root.parent)
