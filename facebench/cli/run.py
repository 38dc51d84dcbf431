"""``facebench run``: run a benchmark config (or, with ``--plan``, list what it would run)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import FacebenchError
from ..package_data import DEFAULT_CONFIG

LEADERBOARDS = Path("leaderboards")


def default_config_path() -> Path:
    """The embedded default config, shipped with the package (``configs/embedded/default.yaml``)."""
    return DEFAULT_CONFIG


def default_board_dir(config_name: str) -> Path:
    """Where a config's boards go unless ``--out`` says otherwise: ``leaderboards/<config name>/``."""
    return LEADERBOARDS / config_name


# The bar's layout with its ETA taken from the store's recorded job costs (tqdm's default r_bar with
# {remaining} replaced): see Progress.estimate.
ESTIMATED_BAR = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<%s, {rate_fmt}{postfix}]"


def eta_text(est) -> str | None:
    """The ETA the bar shows for a :class:`~facebench.runner.estimate.RunEstimate` of the jobs still to run:
    its wall time ("04:10 est"; "04:10+ est, 3 unestimated" when some jobs have no basis and are not counted),
    or None when none has a basis (the bar then shows tqdm's own, from its rate)."""
    from tqdm import tqdm

    if est is None or not any(p.with_basis for p in est.phases):
        return None
    text = tqdm.format_interval(est.wall_seconds)
    return f"{text}+ est, {est.without_basis} unestimated" if est.without_basis else f"{text} est"


class Progress:
    """Job progress on stderr: a tqdm bar, or with ``quiet`` one line per job that ran.

    The bar's ETA is the run's estimate from the store's recorded job costs (what ``--plan`` prints),
    updated as jobs finish (:meth:`estimate`); with no basis for any job still to run it is tqdm's own.
    """

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.count = 0
        self.total = 0
        self.bar = None

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self.total = total
        self.bar = tqdm(total=total, desc="facebench run", unit="job", disable=self.quiet, file=sys.stderr,
                        dynamic_ncols=True)

    def estimate(self, est) -> None:
        """Show ``est`` (the estimate of the jobs still to run) as the bar's ETA (:func:`eta_text`)."""
        if self.bar is None or self.bar.disable:
            return
        text = eta_text(est)
        self.bar.bar_format = None if text is None else ESTIMATED_BAR % text.replace("{", "{{").replace("}", "}}")
        if self.bar.n == 0:  # before the first job: show it now (later, the job's step redraws the bar)
            self.bar.refresh()

    def step(self, event) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(event.job.label[:60])
        if self.quiet and event.status != "cached":
            status = f"FAILED: {event.error}" if event.status == "failed" else event.status
            click.echo(f"[{self.count}/{self.total}] {event.job.label}: {status} ({event.seconds:.1f}s)", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    @staticmethod
    def inner(iterable, *, total=None, desc: str = ""):
        """A transient bar for a task's inner loop (epochs), below the job bar."""
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def estimate_line(est) -> str:
    """"estimated wall time: 5.2 min (pretrain 1.0 min, ...), from the store's records; N jobs without a basis"."""
    if not any(p.with_basis for p in est.phases):
        return "estimated wall time: no basis (the store records no job like these yet)"
    parts = ", ".join(f"{p.kind} {_duration(p.wall_seconds)}" for p in est.phases)
    missing = f"; {est.without_basis} job(s) without a basis, not counted" if est.without_basis else ""
    return (f"estimated wall time: {_duration(est.wall_seconds)} ({parts}; {est.workers} worker(s)), from the store's "
            f"recorded job costs{missing}")


def print_plan(planned) -> None:
    """The jobs a run would do, and those the store already holds."""
    todo = [p.job for p in planned if not p.done]
    done = [p.job for p in planned if p.done]
    click.echo(f"{len(todo)} job(s) would run, {len(done)} already in the store")
    est = getattr(planned, "estimate", None)
    if todo and est is not None:
        click.echo(estimate_line(est))
    for note in getattr(planned, "notes", ()):
        click.echo(note)
    for title, jobs in (("would run", todo), ("in the store", done)):
        if jobs:
            click.echo(f"{title}:")
            for job in jobs:
                click.echo(f"  {job.kind:<9} {job.label}")


@click.command("run")
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--device", help="cuda, cuda:1, cpu ... (default: cuda if available, else cpu).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars: one log line per job (for logs and CI).")
@click.option("--only-score", is_flag=True, help="Only score metrics on cached features (no extraction or fine-tuning).")
@click.option("--allow-download", is_flag=True, default=None, help="Let datasets and weights download (network needed).")
@click.option("--store", help="Results store path (default: the config's, .facebench/results.sqlite).")
@click.option("--cache-dir", help="Feature and model cache directory (default: the config's, .facebench/cache).")
@click.option("--out", "out_dir", default=None, help="Where to write the leaderboards (default: leaderboards/<config name>/).")
@click.option("--no-leaderboard", is_flag=True, help="Do not write leaderboards at the end.")
@click.option("--plan", "plan_only", is_flag=True, help="Validate, list the jobs that would run and those already done; run nothing.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Run a phase's independent jobs in N processes (default: the config's 'workers', else 1).")
@click.option("--executor", "executor_name", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this machine; ray: a Ray cluster (the config's 'ray' section).")
@click.option("--address", default=None, help="With --executor ray: the cluster to join (default: the config's, "
              "else a local cluster).")
def run_cmd(config, device, quiet, only_score, allow_download, store, cache_dir, out_dir, no_leaderboard,
            plan_only, workers, executor_name, address) -> None:
    """Run a benchmark config (default: the embedded, offline default) and write the leaderboards.

    Finished jobs are recorded in the results store; running the same config again resumes an
    interrupted run and skips everything already done.
    """
    from ..config import load_config
    from ..runner import RunOptions, plan_run, run_benchmarks
    from ..runner.execute.choose import make_executor

    path = Path(config) if config else default_config_path()
    if not path.exists():
        raise FacebenchError(f"{path}: config not found")
    cfg = load_config(path)
    if address and executor_name != "ray":
        raise FacebenchError("--address needs --executor ray")
    progress = Progress(quiet)
    in_this_process = executor_name == "local" and (workers or cfg.workers) == 1
    opts = RunOptions(
        device=device, quiet=quiet, only_score=only_score, download=allow_download, store=store,
        cache_dir=cache_dir, leaderboard_dir=None if no_leaderboard else str(out_dir or default_board_dir(cfg.name)),
        on_start=progress.start, on_job=progress.step, on_estimate=progress.estimate,
        progress=progress.inner if in_this_process else None,  # no inner bars from several processes
    )
    if plan_only:
        print_plan(plan_run(cfg, opts))
        return
    opts.executor = make_executor(cfg, executor_name, workers=workers, address=address)
    try:
        summary = run_benchmarks(cfg, opts, config_text=path.read_text())
    finally:
        progress.close()
    click.echo(
        f"facebench run: {summary.done} jobs done, {summary.skipped} cached, {len(summary.failed)} failed "
        f"in {summary.seconds:.0f}s; store {summary.store}",
        err=True,
    )
    for p in summary.leaderboards:
        click.echo(f"  wrote {p}", err=True)
    for name, why in summary.broken_plugins.items():
        click.echo(f"facebench: warning: plugin {name} left out, its import failed: {why}", err=True)
    for line in summary.metric_errors:
        click.echo(f"facebench: warning: {line}", err=True)
    for label, error in summary.failed:
        click.echo(f"facebench: error: {label}: {error}", err=True)
    sys.exit(1 if summary.failed else 0)
