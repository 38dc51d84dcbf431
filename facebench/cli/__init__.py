"""The ``facebench`` command line: all of facebench's printing is in this package.

Thin: every command parses its options, calls the module that does the work (runner,
leaderboard, scoring...), and prints what comes back. Commands: :mod:`.registry` (``plugins``,
``list``), :mod:`.score` (``score``), :mod:`.run` (``run``), :mod:`.leaderboard`
(``leaderboard``), :mod:`.rank` (``rank``), :mod:`.pack` (``pack``, ``unpack``), ``new-metric`` below.
No module outside this package imports it.
"""
from __future__ import annotations

import sys

import click

from .. import __version__
from ..errors import FacebenchError
from .leaderboard import leaderboard_cmd
from .pack import pack_cmd, unpack_cmd
from .rank import rank_cmd
from .registry import list_cmd, plugins_cmd
from .run import default_config_path, run_cmd
from .score import parse_params as _parse_params, score_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="facebench")
def cli() -> None:
    """facebench: benchmark transferability-estimation metrics (FaCe and its baselines)."""


@click.command("new-metric")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Where to create the plugin package.")
def new_metric_cmd(name, directory) -> None:
    """Scaffold a metric plugin package (entry point, hook, metric class, conformance test, README)."""
    from ..scaffold import new_metric, next_steps

    click.echo(next_steps(new_metric(name, directory)))


for _command in (plugins_cmd, list_cmd, score_cmd, run_cmd, leaderboard_cmd, rank_cmd, new_metric_cmd, pack_cmd,
                 unpack_cmd):
    cli.add_command(_command)

__all__ = ["cli", "main", "default_config_path", "_parse_params"]


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
