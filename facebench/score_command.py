"""``facebench score``: score bundles from a directory (or a results store) and print the result."""
from __future__ import annotations

import sys
from typing import Any

import click

from .byof import bundle_loaders, read_ground_truth
from .errors import FacebenchError
from .evaluation import STATISTICS, correlations, undefined_reason
from .output import dumps, fmt_number as _fmt
from .scoring import ZOO, ZooScores, score_zoo


def build_metrics(names: list[str], params: dict[str, dict[str, Any]]):
    """Instantiate metrics by name (all registered when ``names`` is empty)."""
    from .plugins import get_plugins

    plugins = get_plugins()
    names = names or plugins.metrics.names()
    for metric in params:
        if metric not in names:
            raise FacebenchError(f"--param given for metric {metric!r}, which is not being scored")
    return {name: plugins.create_metric(name, **params.get(name, {})) for name in dict.fromkeys(names)}


def _report_errors(result: ZooScores) -> int:
    failed = 0
    for metric, errors in result.errors.items():
        for model, message in errors.items():
            where = "zoo" if model == ZOO else f"model {model}"
            click.echo(f"facebench: error: {metric} on {where}: {message}", err=True)
            failed += 1
    for metric, warns in result.warnings.items():
        for w in warns:
            click.echo(f"facebench: warning: {w}", err=True)
    return failed


def score_directory(directory: str, metric_names: list[str], params, fmt: str, ground_truth: str | None) -> int:
    metrics = build_metrics(metric_names, params)
    loaders = bundle_loaders(directory)
    truth = read_ground_truth(ground_truth) if ground_truth else None
    if truth is not None:
        missing = sorted(set(loaders) - set(truth))
        if missing:
            raise FacebenchError(f"{ground_truth}: no accuracy for model(s) {', '.join(missing)}")
    # A bundle that cannot be read is an error for every metric on that model, not the end of the run.
    from .bundle import FeatureBundle
    from .errors import BadInputError

    bundles: dict[str, FeatureBundle] = {}
    load_errors: dict[str, str] = {}
    for model, load in loaders.items():
        try:
            bundles[model] = load()
        except BadInputError as exc:
            load_errors[model] = str(exc)
    for model, message in load_errors.items():
        click.echo(f"facebench: error: {message}", err=True)
    progress = _progress(len(metrics) * len(bundles))
    result = score_zoo(metrics, bundles, on_progress=lambda m, b: progress.update(1)) if bundles else ZooScores()
    progress.close()
    failed = _report_errors(result) + len(load_errors)
    corr = None
    if truth is not None:
        corr = {m: correlations(result.scores.get(m, {}), truth) for m in metrics}
        for m in metrics:
            reason = undefined_reason(result.scores.get(m, {}), truth) if result.scores.get(m) else None
            if reason:
                click.echo(f"facebench: warning: {m}: no correlation reported: {reason}", err=True)
    _print(result, list(metrics), fmt, corr)
    return 1 if failed else 0


def _progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc="scoring", unit="score", file=sys.stderr, disable=not sys.stderr.isatty(), leave=False)


def _print(result: ZooScores, metrics: list[str], fmt: str, corr: dict[str, dict[str, float]] | None) -> None:
    scores = {m: result.scores.get(m, {}) for m in metrics}
    if fmt == "json":
        click.echo(dumps(scores if corr is None else {"scores": scores, "correlations": corr}))
        return
    models = sorted({model for s in scores.values() for model in s})
    width = max([len(m) for m in models] + [5])
    cols = [max(len(m), 10) for m in metrics]
    click.echo(f"{'model':<{width}}  " + "  ".join(f"{m:>{c}}" for m, c in zip(metrics, cols)))
    for model in models:
        cells = [_fmt(scores[m].get(model, float("nan"))) for m in metrics]
        click.echo(f"{model:<{width}}  " + "  ".join(f"{v:>{c}}" for v, c in zip(cells, cols)))
    if corr:
        click.echo("")
        mw = max(len(m) for m in metrics)
        click.echo(f"{'metric':<{mw}}  " + "  ".join(f"{s:>9}" for s in STATISTICS))
        for m in metrics:
            click.echo(f"{m:<{mw}}  " + "  ".join(f"{_fmt(corr[m][s]):>9}" for s in STATISTICS))


def score_store(store: str, metric_names: list[str], params, fmt: str) -> int:
    """Score metrics on every cached benchmark of a results store (no extraction, no fine-tuning)."""
    from .runner.only_score import score_cached  # provided by the runner package

    return score_cached(store, metric_names, params, fmt)
