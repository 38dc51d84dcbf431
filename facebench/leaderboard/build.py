"""Build every leaderboard file of a results store into one directory."""
from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

from .. import __version__
from ..errors import FacebenchError
from ..store import ResultsStore
from .ablation import ablation_table
from .bootstrap import DEFAULT_LEVEL, DEFAULT_N_BOOT, DEFAULT_SEED
from .cards import metric_cards
from .csvjson import render_csv, render_json
from .html import render_html
from .markdown import render_markdown
from .tables import Leaderboard, load_leaderboard

FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.html")


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
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
         level: float = DEFAULT_LEVEL, ablation: bool = True) -> Leaderboard:
    """Read a store into a :class:`Leaderboard` (what the renderers take).

    ``ablation``: recompute FaCe's sensitivity table (:mod:`.ablation`) from the cached features
    of every benchmark on which a FaCe metric was scored.
    """
    path = Path(store_path)
    if not path.is_file():
        raise FacebenchError(f"{path}: no results store there (run a benchmark config first)")
    if not 0 < level < 1:
        raise FacebenchError(f"bootstrap level must be in (0, 1), got {level}")
    store = ResultsStore(path)
    try:
        board = load_leaderboard(store, n_boot=n_boot, seed=seed, level=level)
        board.config_text = configs_of(store) if config_text is None else config_text
        board.cards = metric_cards(store, board.metrics)
        if ablation:
            board.ablations = [ablation_table(store, b.benchmark, [t.target for t in b.targets])
                               for b in board.benchmarks if {"face", "face-cf"} & set(b.metrics)]
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
    ablation: bool = True,
) -> list[Path]:
    """Write leaderboard.{md,csv,json,html} for the store into ``out_dir``; returns their paths.

    ``config_text``: the config to show in the header (default: the configs recorded in the
    store's runs); ``date``: the date to print (default: today), fixed for reproducible files;
    ``n_boot``/``seed``/``level``: the bootstrap; ``figures=False`` leaves the plots out of the HTML;
    ``ablation=False`` leaves out FaCe's sensitivity table (which reads the cached features).
    """
    board = load(store_path, config_text=config_text, version=version, date=date, n_boot=n_boot, seed=seed,
                 level=level, ablation=ablation)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    renderers = {
        "leaderboard.md": render_markdown,
        "leaderboard.csv": render_csv,
        "leaderboard.json": render_json,
        "leaderboard.html": lambda b: render_html(b, figures=figures),
    }
    return [_write(out / name, renderers[name](board)) for name in FILES]
