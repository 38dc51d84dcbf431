"""The ``facebench`` command line. Thin: every command delegates to a module that does the work."""
from __future__ import annotations

import sys
from typing import Any

import click

from . import __version__
from .errors import FacebenchError


def _parse_params(items: tuple[str, ...]) -> dict[str, dict[str, Any]]:
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="facebench")
def cli() -> None:
    """facebench: benchmark transferability-estimation metrics (FaCe and its baselines)."""


@cli.command("plugins")
def plugins_cmd() -> None:
    """List loaded plugins, their versions and what each registers."""
    from .plugins import get_plugins

    for info in get_plugins().plugin_infos():
        click.echo(f"{info.name}  [{info.version}; {info.source}]")
        for kind, names in info.registers.items():
            click.echo(f"    {kind}: {', '.join(names)}")


@cli.command("list")
@click.argument("kind", type=click.Choice(["metrics", "tasks", "zoos", "datasets"]))
def list_cmd(kind: str) -> None:
    """List the entries of a registry with a one-line description."""
    from .plugins import get_plugins

    entries = get_plugins().registry(kind).entries()
    width = max((len(e.name) for e in entries), default=0)
    for e in sorted(entries, key=lambda e: e.name):
        click.echo(f"{e.name:<{width}}  {e.summary}  [{e.plugin}]")


@cli.command("score")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--metric", "-m", "metric_names", multiple=True, help="Metric to score (repeatable); default: all registered.")
@click.option("--param", "-p", "params", multiple=True, help="Metric parameter METRIC.NAME=VALUE, e.g. face.t=0.1.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--ground-truth", type=click.Path(dir_okay=False), help="CSV 'model,accuracy': add correlations.")
@click.option("--store", type=click.Path(dir_okay=False), help="Score cached benchmarks of a results store instead of DIR.")
def score_cmd(directory, metric_names, params, fmt, ground_truth, store) -> None:
    """Score feature bundles: DIR holds one <model>.npz per model (features, labels, optional probs).

    With --format json, stdout gets exactly one JSON object {metric: {model: score}}, or with
    --ground-truth {"scores": {...}, "correlations": {metric: {statistic: value}}}. Errors go to
    stderr, one line each; the exit status is 1 if any metric failed on any model.
    """
    from .score_command import score_directory, score_store

    param_map = _parse_params(params)
    if store:
        code = score_store(store, list(metric_names), param_map, fmt)
    else:
        if directory is None:
            raise FacebenchError("score: give a directory of <model>.npz files, or --store DB")
        code = score_directory(directory, list(metric_names), param_map, fmt, ground_truth)
    sys.exit(code)


def default_config_path():
    """The embedded default config: ``configs/embedded/default.yaml`` of the source tree."""
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "configs" / "embedded" / "default.yaml"


@cli.command("run")
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--device", help="cuda, cuda:1, cpu ... (default: cuda if available, else cpu).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars: one log line per job (for logs and CI).")
@click.option("--only-score", is_flag=True, help="Only score metrics on cached features (no extraction or fine-tuning).")
@click.option("--allow-download", is_flag=True, default=None, help="Let datasets and weights download (network needed).")
@click.option("--store", help="Results store path (default: the config's, .facebench/results.sqlite).")
@click.option("--cache-dir", help="Feature and model cache directory (default: the config's, .facebench/cache).")
@click.option("--out", "out_dir", default="leaderboards", show_default=True, help="Where to write the leaderboards.")
@click.option("--no-leaderboard", is_flag=True, help="Do not write leaderboards at the end.")
def run_cmd(config, device, quiet, only_score, allow_download, store, cache_dir, out_dir, no_leaderboard) -> None:
    """Run a benchmark config (default: the embedded, offline default) and write the leaderboards.

    Finished jobs are recorded in the results store; running the same config again resumes an
    interrupted run and skips everything already done.
    """
    from pathlib import Path

    from .config import load_config
    from .runner import RunOptions, run_benchmarks

    path = Path(config) if config else default_config_path()
    if not path.exists():
        raise FacebenchError(f"{path}: config not found")
    cfg = load_config(path)
    opts = RunOptions(
        device=device, quiet=quiet, only_score=only_score, download=allow_download, store=store,
        cache_dir=cache_dir, leaderboard_dir=None if no_leaderboard else out_dir,
    )
    summary = run_benchmarks(cfg, opts, config_text=path.read_text())
    click.echo(
        f"facebench run: {summary.done} jobs done, {summary.skipped} cached, {len(summary.failed)} failed "
        f"in {summary.seconds:.0f}s; store {summary.store}",
        err=True,
    )
    for p in summary.leaderboards:
        click.echo(f"  wrote {p}", err=True)
    for label, error in summary.failed:
        click.echo(f"facebench: error: {label}: {error}", err=True)
    sys.exit(1 if summary.failed else 0)


@cli.command("leaderboard")
@click.option("--store", "store_path", type=click.Path(dir_okay=False), default=None,
              help="Results store (default: the config's store, else .facebench/results.sqlite).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config whose store to read and whose text to show.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="leaderboards", show_default=True)
@click.option("--date", default=None, help="Date printed in the header (default: today).")
@click.option("--n-boot", type=int, default=1000, show_default=True, help="Bootstrap resamples for the intervals.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--no-figures", is_flag=True, help="Leave the plots out of the HTML (faster).")
def leaderboard_cmd(store_path, config_path, out_dir, date, n_boot, seed, no_figures) -> None:
    """Write leaderboard.{md,csv,json,html} from a results store."""
    from pathlib import Path

    from .leaderboard import build_leaderboards

    config_text = None
    if config_path:
        from .config import load_config

        cfg = load_config(config_path)
        store_path = store_path or cfg.store
        config_text = Path(config_path).read_text()
    store_path = store_path or ".facebench/results.sqlite"
    if not Path(store_path).exists():
        raise FacebenchError(f"{store_path}: no such results store (run 'facebench run' first)")
    for p in build_leaderboards(store_path, out_dir, config_text=config_text, date=date, n_boot=n_boot, seed=seed,
                                figures=not no_figures):
        click.echo(str(p))


@cli.command("new-metric")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Where to create the plugin package.")
def new_metric_cmd(name, directory) -> None:
    """Scaffold a metric plugin package (entry point, hook, metric class, conformance test, README)."""
    from .scaffold import new_metric, next_steps

    click.echo(next_steps(new_metric(name, directory)))


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit status 2, never a traceback."""
    try:
        cli.main(args=argv, prog_name="facebench", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except FacebenchError as exc:
        click.echo(f"facebench: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("facebench: interrupted", err=True)
        sys.exit(130)
