"""``facebench score``: score bundles from a directory (or a results store) and print the result."""
from __future__ import annotations

import sys
from typing import Any

import click

from ..byof import bundle_loaders, read_ground_truth
from ..errors import FacebenchError
from ..evaluate.correlations import STATISTICS, correlations, undefined_reason
from ..output import dumps, fmt_number as _fmt
from ..metric_factory import create_metrics
from ..score.zoo import ZooScores, score_zoo


def metric_spec(names: list[str], params: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``--metric``/``--param`` as a spec for :func:`facebench.metric_factory.create_metrics` (all when no name)."""
    from ..plugins import get_plugins

    names = names or get_plugins().metrics.names()
    for metric in params:
        if metric not in names:
            raise FacebenchError(f"--param given for metric {metric!r}, which is not being scored")
    return {name: params.get(name, {}) for name in dict.fromkeys(names)}


def build_metrics(names: list[str], params: dict[str, dict[str, Any]]):
    """Instantiate metrics by name through the one door, :func:`facebench.metric_factory.create_metrics`."""
    from ..plugins import get_plugins

    return create_metrics(metric_spec(names, params), get_plugins().metrics)


def _report_errors(result: ZooScores) -> int:
    lines = result.error_lines()
    for line in lines:
        click.echo(f"facebench: error: {line}", err=True)
    for metric, warns in result.warnings.items():
        for w in warns:
            click.echo(f"facebench: warning: {w}", err=True)
    return len(lines)


def score_directory(directory: str, metric_names: list[str], params, fmt: str, ground_truth: str | None) -> int:
    metrics = build_metrics(metric_names, params)
    if not metric_names:  # <model>.npz files carry no meta: the data-free controls only when named
        metrics = {name: m for name, m in metrics.items() if not getattr(m, "control", False) or name in params}
    loaders = bundle_loaders(directory)
    truth = read_ground_truth(ground_truth) if ground_truth else None
    if truth is not None:
        missing = sorted(set(loaders) - set(truth))
        if missing:
            raise FacebenchError(f"{ground_truth}: no accuracy for model(s) {', '.join(missing)}")
    # A bundle that cannot be read is an error for every metric on that model, not the end of the run.
    from ..bundle import FeatureBundle
    from ..errors import BadInputError

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


MAX_ERROR_LINES = 20  # a metric failing on every model of every target would print one line each


def score_store(store: str, metric_names: list[str], params, fmt: str, pack: str | None = None) -> int:
    """Score metrics on every cached benchmark of a results store (no extraction, no fine-tuning);
    with ``pack``, on the store of that benchmark pack (unpacked first, or reused)."""
    from ..plugins import get_plugins
    from ..runner.only_score import score_pack, score_store as run_score_store

    unpacked = None
    if pack is not None:
        unpacked, result = score_pack(pack, metric_spec(metric_names, params), get_plugins().metrics)
    else:
        result = run_score_store(store, metric_spec(metric_names, params), get_plugins().metrics)
    for where in result.skipped:
        click.echo(f"facebench: warning: {where}: no cached features, skipped", err=True)
    # a metric's failure on a whole target is always printed; one model's, recorded in the store and
    # listed on the board, up to MAX_ERROR_LINES of them
    for line in [*result.failures, *result.errors[:MAX_ERROR_LINES]]:
        click.echo(f"facebench: error: {line}", err=True)
    if len(result.errors) > MAX_ERROR_LINES:
        click.echo(f"facebench: error: ... and {len(result.errors) - MAX_ERROR_LINES} more on single models (each is "
                   "in the store; the board lists them per target)", err=True)
    if fmt == "json":
        click.echo(dumps(result.results))
    else:
        for bt, per_metric in result.results.items():
            click.echo(bt)
            for name, res in per_metric.items():
                taus = ", ".join(f"{s}: tau_w={c['tau_w']:.3f}" for s, c in res["correlations"].items())
                short = res["models"] < res["models_with_features"]
                on = f" (on {res['models']} of {res['models_with_features']} models)" if short else ""
                click.echo(f"  {name:<18} {(taus or 'no ground truth') + on}")
    if unpacked is not None:  # on stderr: stdout stays the table, or one JSON object
        click.echo(f"facebench: {pack}: {'already unpacked, verified' if unpacked.reused else 'verified and unpacked'}"
                   f"; scores recorded in {unpacked.store}", err=True)
        click.echo(f"facebench: the full board: {unpacked.commands()[1]}", err=True)
    return 1 if result.errors or result.failures else 0


def parse_params(items: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``metric.key=value`` -> {metric: {key: value}} (values parsed as YAML scalars)."""
    import yaml

    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        metric, dot, param = key.partition(".")
        if not sep or not dot or not metric or not param:
            raise FacebenchError(f"--param {item!r}: expected METRIC.NAME=VALUE, e.g. face.t=0.1")
        out.setdefault(metric, {})[param] = yaml.safe_load(value)
    return out


@click.command("score")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--metric", "-m", "metric_names", multiple=True,
              help="Metric to score (repeatable); default: all registered (with DIR: but the data-free controls).")
@click.option("--param", "-p", "params", multiple=True, help="Metric parameter METRIC.NAME=VALUE, e.g. face.t=0.1.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--ground-truth", type=click.Path(dir_okay=False), help="CSV 'model,accuracy': add correlations.")
@click.option("--store", type=click.Path(dir_okay=False), help="Score cached benchmarks of a results store instead of DIR.")
@click.option("--pack", type=click.Path(dir_okay=False),
              help="Score a benchmark pack (facebench pack): unpacked into .facebench/packs/<name>/ first, or reused.")
def score_cmd(directory, metric_names, params, fmt, ground_truth, store, pack) -> None:
    """Score feature bundles: DIR holds one <model>.npz per model (features, labels, optional probs).

    With --format json, stdout gets exactly one JSON object {metric: {model: score}}, or with
    --ground-truth {"scores": {...}, "correlations": {metric: {statistic: value}}}. Errors go to
    stderr, one line each; the exit status is 1 if any metric failed on any model.
    """
    param_map = parse_params(params)
    if pack and (directory or store):
        raise FacebenchError("score: give --pack FILE alone, without DIR or --store")
    if store or pack:
        code = score_store(store, list(metric_names), param_map, fmt, pack=pack)
    else:
        if directory is None:
            raise FacebenchError("score: give a directory of <model>.npz files, --store DB or --pack FILE")
        code = score_directory(directory, list(metric_names), param_map, fmt, ground_truth)
    sys.exit(code)
