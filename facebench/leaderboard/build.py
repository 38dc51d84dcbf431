"""Build every leaderboard file of a results store into one directory."""
from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

from .. import __version__, phase_probe
from ..atomic import replacing
from ..errors import FacebenchError
from ..evaluate.reliability import DEFAULT_THRESHOLD
from ..evaluate.significance import CORRECTIONS
from ..store import ResultsStore
from .bootstrap import DEFAULT_LEVEL, DEFAULT_N_BOOT, DEFAULT_SEED
from .cards import attach_about, metric_cards, store_plugins, verdict_settings
from .csvjson import render_csv, render_json
from .html import data_figures, render_html, verdict_figures
from .markdown import render_markdown
from .plots import start_figures
from .sensitivity import board_sensitivity, start_sensitivity_tables
from .tables import Leaderboard, load_leaderboard
from .trust import attach_trust

FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.html")


def _write(path: Path, text: str) -> Path:
    phase_probe.enter("leaderboard", "write", path.name)  # test-only probe (crash harness); free otherwise
    try:
        with replacing(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:  # a full disk, a read-only directory: one line; the previous file is left whole
        raise FacebenchError(f"{path}: cannot write the leaderboard ({exc.strerror or exc})") from None
    return path


def configs_of(store: ResultsStore) -> str:
    """The config text(s) recorded with the store's runs (several runs: one YAML document each)."""
    runs = [r for r in store.runs() if (r.get("config") or "").strip()]
    if len(runs) == 1:
        return runs[0]["config"]
    docs = [f"# run {r['name']} ({r['digest']}, facebench {r['version']})\n{r['config'].strip()}" for r in runs]
    return "\n---\n".join(docs)


def load(store_path: str | os.PathLike[str], *, config_text: str | None = None, version: str = __version__,
         date: str | _dt.date | None = None, n_boot: int = DEFAULT_N_BOOT, seed: int = DEFAULT_SEED,
         level: float = DEFAULT_LEVEL, sensitivity: bool = True, reliability_threshold: float | None = None,
         correction: str = "maxt", exclude_flagged: bool | None = None, figures: bool = False) -> Leaderboard:
    """Read a store into a :class:`Leaderboard` (what the renderers take).

    ``sensitivity``: recompute the sensitivity tables (:mod:`.sensitivity`) of every metric that
    names parameters worth varying, from the cached features; ``reliability_threshold``,
    ``exclude_flagged`` and ``correction``: see :func:`build_leaderboards`; ``figures``: start
    drawing the HTML's figures in forked processes as soon as what they show is known
    (:func:`.plots.start_figures`; :func:`.html.render_html` collects them), so that they are
    drawn while the rest is computed: the scatter grids and diagnostic traces once the scores are
    read, the ranking plot and the critical-difference diagrams once the verdict is.
    """
    path = Path(store_path)
    if not path.is_file():
        raise FacebenchError(f"{path}: no results store there (run a benchmark config first)")
    if not 0 < level < 1:
        raise FacebenchError(f"bootstrap level must be in (0, 1), got {level}")
    if reliability_threshold is not None and not -1 <= reliability_threshold <= 1:
        raise FacebenchError(f"reliability threshold must be in [-1, 1] (a tau_w), got {reliability_threshold}")
    if correction not in CORRECTIONS:
        raise FacebenchError(f"multiple-comparison correction must be one of {', '.join(CORRECTIONS)}, "
                             f"got {correction!r}")
    store = ResultsStore(path)
    try:
        plugins = store_plugins(store)  # imported once, here: the forked processes below inherit the modules
        # computed in a forked process meanwhile: they need nothing else of the board
        started_sensitivity = start_sensitivity_tables(path) if sensitivity else None
        recorded = verdict_settings(store)
        if reliability_threshold is None:
            reliability_threshold = recorded.get("reliability_threshold", DEFAULT_THRESHOLD)
        if exclude_flagged is None:
            exclude_flagged = recorded.get("exclude_flagged", False)
        board = load_leaderboard(store, n_boot=n_boot, seed=seed, level=level)
        if figures:
            start_figures(data_figures(board))
        attach_trust(board, store, threshold=reliability_threshold, n_boot=n_boot, seed=seed, level=level,
                     correction=correction, exclude_flagged=exclude_flagged)
        if figures:
            start_figures(verdict_figures(board), processes=1)
        board.config_text = configs_of(store) if config_text is None else config_text
        attach_about(board, store, plugins)
        board.cards = metric_cards(store, board.metrics, plugins)
        board.controls = [m for m in board.metrics if m in plugins.metrics
                          and getattr(plugins.metrics.get(m), "control", False)]
        if started_sensitivity is not None:
            board.sensitivity = board_sensitivity(board, started_sensitivity)
    finally:
        store.close()
    board.version = version
    board.date = date.isoformat() if isinstance(date, _dt.date) else (date or _dt.date.today().isoformat())
    return board


def build_leaderboards(
    store_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    config_text: str | None = None,
    version: str = __version__,
    date: str | _dt.date | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
    figures: bool = True,
    sensitivity: bool = True,
    reliability_threshold: float | None = None,
    correction: str = "maxt",
    exclude_flagged: bool | None = None,
) -> list[Path]:
    """Write leaderboard.{md,csv,json,html} for the store into ``out_dir``; returns their paths.

    ``config_text``: the config to show in the header (default: the configs recorded in the
    store's runs); ``date``: the date to print (default: today), fixed for reproducible files;
    ``n_boot``/``seed``/``level``: the bootstrap; ``figures=False`` leaves the plots out of the HTML;
    ``sensitivity=False`` leaves out the sensitivity tables (which read the cached features);
    ``reliability_threshold``: a target whose ground-truth reliability (tau_w) is below it is
    flagged; ``exclude_flagged``: flagged targets are left out of the verdict (comparisons, the
    Ranking's mean); both default to the recorded config's ``verdict:`` block, else 0.8 and false;
    ``correction``: multiple-comparison correction of the metric comparisons ("maxt": step-down max-T, "holm", "none").
    """
    board = load(store_path, config_text=config_text, version=version, date=date, n_boot=n_boot, seed=seed,
                 level=level, sensitivity=sensitivity, reliability_threshold=reliability_threshold, correction=correction,
                 exclude_flagged=exclude_flagged, figures=figures)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    renderers = {
        "leaderboard.md": render_markdown,
        "leaderboard.csv": render_csv,
        "leaderboard.json": render_json,
        "leaderboard.html": lambda b: render_html(b, figures=figures),
    }
    return [_write(out / name, renderers[name](board)) for name in FILES]
