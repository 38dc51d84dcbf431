"""Score metrics on every benchmark cached in a results store: no extraction, no fine-tuning.

This is the metric author's loop: install a metric plugin, run ``facebench score --store DB``
(or ``facebench run --only-score``), and the leaderboard shows its row beside FaCe. The results
come back as data; the CLI prints them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FacebenchError
from ..evaluate.correlations import correlations
from ..metric_factory import MetricSpec, create_metrics
from ..store import ResultsStore
from .score import TargetScorer
from .run_lock import RunLock


@dataclass
class StoreScores:
    """Scores of each metric on each cached benchmark target, with their correlations."""

    results: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # "bench:target" -> metric -> ...
    errors: list[str] = field(default_factory=list)  # one line per (metric, model) that failed: where, what
    failures: list[str] = field(default_factory=list)  # a metric's failure on a whole target (its worker, its zoo step)
    skipped: list[str] = field(default_factory=list)  # benchmark targets without cached features


def score_store(store_path: str | Path, spec: MetricSpec, metric_registry) -> StoreScores:
    """Score the metrics of ``spec`` (see :func:`facebench.metric_factory.create_metrics`) on a store."""
    if not Path(store_path).exists():
        raise FacebenchError(f"{store_path}: no such results store (run 'facebench run' first)")
    metrics = create_metrics(spec, metric_registry)
    with RunLock(store_path, command="facebench score --store"):  # it records scores: one writer at a time
        return _score_locked(store_path, metrics)


def score_pack(pack_path: str | Path, spec: MetricSpec, metric_registry, into: str | Path | None = None):
    """Score the metrics of ``spec`` on a benchmark pack: unpack it (verified whole first; an earlier
    unpacking of the same pack is reused once its files are checked, see :func:`facebench.pack.unpack`),
    then :func:`score_store` on its store. Returns (the :class:`~facebench.pack.Unpacked`, the scores)."""
    from ..pack import unpack

    create_metrics(spec, metric_registry)  # an unknown metric or parameter is refused before unpacking
    unpacked = unpack(pack_path, into)
    return unpacked, score_store(unpacked.store, spec, metric_registry)


def _score_locked(store_path: str | Path, metrics) -> StoreScores:
    store = ResultsStore(store_path)
    try:
        benchmarks = store.benchmarks()
        if not benchmarks:
            raise FacebenchError(f"{store_path}: the store holds no benchmarks")
        out = StoreScores()
        for row in benchmarks:
            bench, target = row["benchmark"], row["target"]
            scorer = TargetScorer(bench, target, store.feature_files(bench, target))
            if not scorer.files:
                out.skipped.append(f"{bench} {target}")
                continue
            truths = {s: store.mean_ground_truth(bench, target, s) for s in store.truth_statistics(bench, target)}
            for name, metric in metrics.items():
                try:
                    result = scorer.score(name, metric)
                except FacebenchError as exc:  # stopped or failed in its worker: the other metrics go on
                    out.failures.append(str(exc))
                    continue
                scorer.record(store, scorer.key(name, metric), name, metric, result)
                out.errors.extend(f"{bench} {target}: {line}" for line in result.error_lines(models=True))
                out.failures.extend(f"{bench} {target}: {line}" for line in result.error_lines(models=False))
                scores = result.scores[name]
                out.results.setdefault(f"{bench}:{target}", {})[name] = {
                    "scores": scores, "correlations": {s: correlations(scores, t) for s, t in truths.items()},
                    "models": len(scores), "models_with_features": len(scorer.files),
                }
        return out
    finally:
        store.close()
