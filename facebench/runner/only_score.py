"""Score metrics on every benchmark cached in a results store: no extraction, no fine-tuning.

This is the metric author's loop: install a metric plugin, run ``facebench score --store DB``
(or ``facebench run --only-score``), and the leaderboard shows its row beside FaCe.
"""
from __future__ import annotations

from typing import Any

import click

from ..errors import FacebenchError
from ..output import dumps
from ..scoring import ZOO
from ..store import ResultsStore
from .run import TargetScorer


def score_cached(store_path: str, metric_names: list[str], params: dict[str, dict[str, Any]], fmt: str) -> int:
    from pathlib import Path

    from ..score_command import build_metrics

    if not Path(store_path).exists():
        raise FacebenchError(f"{store_path}: no such results store (run 'facebench run' first)")
    metrics = build_metrics(metric_names, params)
    store = ResultsStore(store_path)
    benchmarks = store.benchmarks()
    if not benchmarks:
        raise FacebenchError(f"{store_path}: the store holds no benchmarks")
    out: dict[str, dict[str, Any]] = {}
    failed = 0
    for row in benchmarks:
        bench, target = row["benchmark"], row["target"]
        scorer = TargetScorer(store, bench, target)
        if not scorer.paths:
            click.echo(f"facebench: warning: {bench} {target}: no cached features, skipped", err=True)
            continue
        for name, metric in metrics.items():
            result = scorer.score(name, metric)
            corr = scorer.record(scorer.key(name, metric), name, metric, result)
            for model, message in result.errors[name].items():
                where = "zoo" if model == ZOO else f"model {model}"
                click.echo(f"facebench: error: {name} on {bench} {target} {where}: {message}", err=True)
                failed += 1
            out.setdefault(f"{bench}:{target}", {})[name] = {"scores": result.scores[name], "correlations": corr}
    store.close()
    if fmt == "json":
        click.echo(dumps(out))
    else:
        for bt, per_metric in out.items():
            click.echo(bt)
            for name, res in per_metric.items():
                taus = ", ".join(f"{s}: tau_w={c['tau_w']:.3f}" for s, c in res["correlations"].items())
                click.echo(f"  {name:<18} {taus or 'no ground truth'}")
    return 1 if failed else 0
