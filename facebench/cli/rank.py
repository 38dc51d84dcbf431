"""``facebench rank``: which model of a zoo to fine-tune on your dataset (:mod:`facebench.runner.rank`)."""
from __future__ import annotations

import sys

import click

from .score import parse_params


def parse_options(items: tuple[str, ...]) -> dict:
    """``--option KEY=VALUE`` -> {key: value} (values parsed as YAML scalars)."""
    import yaml

    from ..errors import FacebenchError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise FacebenchError(f"--option {item!r}: expected KEY=VALUE, e.g. image_size=32")
        out[key] = yaml.safe_load(value)
    return out


@click.command("rank")
@click.option("--zoo", "zoo", required=True,
              help="A registered zoo (facebench list zoos) or a zoo file of model references (YAML).")
@click.option("--data", "data", required=True,
              help="A registered dataset, or a folder of images with one sub-folder per class.")
@click.option("--metric", "-m", "metric_names", multiple=True,
              help="Metric to rank by (repeatable); default: the leaders of the committed default board.")
@click.option("--param", "-p", "params", multiple=True, help="Metric parameter METRIC.NAME=VALUE, e.g. face.t=0.1.")
@click.option("--task", default=None, help="The task, where neither the zoo nor the dataset says it.")
@click.option("--option", "-o", "options", multiple=True,
              help="Task option KEY=VALUE (e.g. image_size=32, train_per_class=50); part of the features' cache key.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--cache-dir", default=None, help="Feature cache (default: .facebench/cache, shared with facebench run).")
@click.option("--allow-download", is_flag=True, help="Let references and datasets download (default: local files only).")
@click.option("--device", default=None, help="cpu, cuda, ... (default: cuda if available).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def rank_cmd(zoo, data, metric_names, params, task, options, fmt, cache_dir, allow_download, device, quiet) -> None:
    """Rank a zoo's models on a dataset by transferability metrics, without fine-tuning.

    Extracts each model's features of the dataset's train split (cached: a second call, e.g. with
    another --metric, reads them back) and prints model, score per metric, rank, and the time of
    extraction and scoring. With --format json or csv, stdout gets only the table; notes go to
    stderr. Exit status 1 if some model could not be ranked (said on its row), 2 on bad input.
    """
    from ..errors import FacebenchError
    from ..runner.rank import DEFAULT_CACHE_DIR, rank

    param_map = parse_params(params)
    metrics = None
    if metric_names:
        metrics = {name: param_map.get(name, {}) for name in dict.fromkeys(metric_names)}
    elif param_map:
        raise FacebenchError("--param needs --metric naming the metric it sets")
    try:
        table = rank(zoo, data, metrics, task=task, cache_dir=cache_dir or DEFAULT_CACHE_DIR,
                     allow_download=allow_download, device=device, options=parse_options(options), progress=not quiet)
    except FacebenchError as exc:  # one line per problem (several references may fail to resolve)
        for line in str(exc).splitlines():
            if line.strip():
                click.echo(f"facebench: error: {line.strip()}", err=True)
        sys.exit(2)
    if fmt == "table":
        click.echo(str(table))
    else:
        click.echo(table.to_json() if fmt == "json" else table.to_csv(), nl=fmt == "json")
        for line in table.notes:
            click.echo(f"facebench: {line}", err=True)
        for row in table.rows:
            for error in row.errors:
                click.echo(f"facebench: error: {row.model}: {error}", err=True)
    sys.exit(1 if table.failed else 0)
