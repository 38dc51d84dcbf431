"""``facebench leaderboard``: write the boards of a results store."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import FacebenchError
from .run import LEADERBOARDS, default_board_dir


@click.command("leaderboard")
@click.option("--store", "store_path", type=click.Path(dir_okay=False), default=None,
              help="Results store (default: the config's store, else .facebench/results.sqlite).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config whose store to read and whose text to show.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Where to write (default: leaderboards/<config name>/ with --config, else leaderboards/).")
@click.option("--date", default=None, help="Date printed in the header (default: today).")
@click.option("--n-boot", type=int, default=1000, show_default=True, help="Bootstrap resamples for the intervals.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--no-figures", is_flag=True, help="Leave the plots out of the HTML (faster).")
@click.option("--reliability-threshold", type=float, default=None,
              help="Flag targets whose ground-truth reliability (full-seed tau_w) is below this "
                   "(default: the recorded config's verdict.reliability_threshold, else 0.8).")
@click.option("--exclude-flagged/--keep-flagged", default=None,
              help="Leave flagged targets out of the verdict (comparisons, the Ranking's mean) "
                   "(default: the recorded config's verdict.exclude_flagged, else keep).")
@click.option("--correction", type=click.Choice(["maxt", "holm", "none"]), default="maxt", show_default=True,
              help="Multiple-comparison correction when telling metrics apart (maxt: step-down max-T).")
def leaderboard_cmd(store_path, config_path, out_dir, date, n_boot, seed, no_figures, reliability_threshold,
                    exclude_flagged, correction) -> None:
    """Write leaderboard.{md,csv,json,html} from a results store."""
    from ..leaderboard import build_leaderboards

    config_text = None
    default_out = LEADERBOARDS
    if config_path:
        from ..config import load_config

        cfg = load_config(config_path)
        store_path = store_path or cfg.store
        config_text = Path(config_path).read_text()
        default_out = default_board_dir(cfg.name)
    store_path = store_path or ".facebench/results.sqlite"
    if not Path(store_path).exists():
        raise FacebenchError(f"{store_path}: no such results store (run 'facebench run' first)")
    for p in build_leaderboards(store_path, out_dir or default_out, config_text=config_text, date=date, n_boot=n_boot,
                                seed=seed, figures=not no_figures, reliability_threshold=reliability_threshold,
                                correction=correction, exclude_flagged=exclude_flagged):
        click.echo(str(p))
