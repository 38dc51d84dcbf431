"""How much a metric's verdict rests on its free parameters: tau_w per parameter combination and target.

A metric names the parameters worth varying and the values to try in its class attribute
:attr:`facebench.metrics.base.Metric.sensitivity` (FaCe: the PCA dimension, the covariance and the
reading of Eq. (6)'s row). A run config may name them instead, or for a metric that names none::

    sensitivity:
      face: {pca_dim: [16, 64]}      # replaces face's own grid
      my-metric: {k: [5, 10, 20]}    # a plugin metric gets a table without code in facebench
      logme: {}                      # no table for logme

For every benchmark and target, every combination of the values (the other parameters as the
metric was scored) is built through :func:`facebench.metric_factory.create_metrics`, the door the
run uses, scored on the zoo's cached features by :func:`facebench.score.zoo.score_zoo` (one call per
target, so variants that share work, such as FaCe's class distances, compute it once) and
correlated (tau_w) with each model's mean ground truth of the task's primary statistic. The row
of the parameters the board's scores were computed with is marked as the default. Nothing is
stored: a target whose feature files are missing or fail their checksum is left out, with the
reason.

The tables depend on nothing else the board computes: :func:`start_sensitivity_tables` computes
them in a forked process (its own connection to the store) while the board reads its scores and
statistics, and :func:`board_sensitivity` collects them.
"""
from __future__ import annotations

import itertools
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..bundle import FeatureBundle
from ..checksum import sidecar_matches
from ..config import parse_sensitivity
from ..errors import ConfigError, FacebenchError
from ..evaluate.correlations import correlations
from ..metric_factory import create_metrics
from ..plugins import Plugins
from ..score.zoo import score_zoo
from ..store import ResultsStore
from .cards import recorded_configs, store_plugins
from .parallel import Background, fork_map

if TYPE_CHECKING:
    from .tables import Leaderboard

Grid = dict[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Variant:
    """One combination of the varied parameters (in the grid's order) and whether the board's scores used it."""

    values: tuple[tuple[str, Any], ...]
    default: bool = False

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values)


@dataclass
class SensitivityTable:
    """tau_w of one metric per variant (rows) and target (columns) of one benchmark."""

    benchmark: str
    metric: str
    params: dict[str, Any]  # the parameters the board's scores were computed with
    grid: Grid
    variants: list[Variant]
    targets: list[str] = field(default_factory=list)
    tau: dict[Variant, dict[str, float]] = field(default_factory=dict)  # variant -> target -> tau_w
    skipped: dict[str, str] = field(default_factory=dict)  # target -> why it was left out

    def mean(self, v: Variant) -> float:
        vals = [x for x in self.tau.get(v, {}).values() if math.isfinite(x)]
        return sum(vals) / len(vals) if vals else math.nan

    def as_dict(self) -> dict:
        return {
            "benchmark": self.benchmark, "metric": self.metric, "params": self.params,
            "grid": {k: list(v) for k, v in self.grid.items()}, "targets": self.targets,
            "rows": [{"params": dict(v.values), "default": v.default, "tau_w": self.tau.get(v, {}),
                      "mean": self.mean(v)} for v in self.variants],
            "skipped": self.skipped,
        }


def configured_grids(store: ResultsStore) -> dict[str, Grid]:
    """The ``sensitivity:`` blocks of the configs recorded in the store (a later run's entry wins; a
    block the config parser refuses is left out)."""
    out: dict[str, Grid] = {}
    for raw in recorded_configs(store):
        try:
            out.update(parse_sensitivity(raw.get("sensitivity"), "a recorded config"))
        except ConfigError:
            continue
    return out


def grid_for(metric: str, plugins: Plugins, configured: Mapping[str, Grid]) -> Grid:
    """The configured grid of ``metric``, else its class's own; empty when neither names one."""
    if metric in configured:
        return dict(configured[metric])
    try:
        cls = plugins.metrics.get(metric)
    except Exception:  # noqa: BLE001 - a metric whose plugin is not loaded here has no table
        return {}
    return {str(k): tuple(v) for k, v in dict(getattr(cls, "sensitivity", {}) or {}).items()}


def variants(grid: Grid, params: Mapping[str, Any]) -> list[Variant]:
    """Every combination of the grid's values (last parameter fastest); the scored parameters' row
    is marked default, and added first when the grid does not contain it."""
    keys = list(grid)
    default = tuple((k, params.get(k)) for k in keys)
    out = [Variant(tuple(zip(keys, combo)), tuple(zip(keys, combo)) == default)
           for combo in itertools.product(*(grid[k] for k in keys))]
    if not any(v.default for v in out):
        out.insert(0, Variant(default, True))
    return out


def _bundles(files: dict[str, tuple[str, str]]) -> dict[str, FeatureBundle]:
    """model -> bundle, each file verified against its checksum (nothing is removed or rewritten)."""
    missing = [m for m, (p, _key) in files.items() if not Path(p).is_file()]
    if missing:
        raise FacebenchError(f"feature files missing for {', '.join(sorted(missing))}")
    corrupt = [m for m, (p, _key) in files.items() if not sidecar_matches(p)]
    if corrupt:
        raise FacebenchError(f"feature files fail their checksum for {', '.join(sorted(corrupt))}")
    return {m: FeatureBundle.load_npz(p) for m, (p, _key) in files.items()}


def _truth_mean(store: ResultsStore, benchmark: str, target: str) -> dict[str, float]:
    """Each model's mean over seeds of the statistic that ranks the metrics (the task's primary;
    in a store that did not record it, the mean over the target's statistics, as the ranking does)."""
    primary = store.primary_truth(benchmark)
    stats = [primary] if primary else store.truth_statistics(benchmark, target)
    means = [store.mean_ground_truth(benchmark, target, s) for s in stats]
    if len(means) == 1:
        return means[0]
    models = set.intersection(*(set(m) for m in means)) if means else set()
    return {m: sum(x[m] for x in means) / len(means) for m in models}


def _scored_params(store: ResultsStore, metric: str) -> dict[str, Any] | None:
    """The parameters ``metric`` was scored with (None when the store holds several sets)."""
    sets = store.metric_params(metric)
    if len(sets) != 1:
        return None
    return json.loads(sets[0]) if sets[0] else {}


def sensitivity_tables(store: ResultsStore, plugins: Plugins, benchmark: str, targets: list[str],
                       metrics: list[str], configured: Mapping[str, Grid] | None = None) -> list[SensitivityTable]:
    """One table per metric of ``metrics`` with a grid (declared, or ``configured``: by default the
    store's :func:`configured_grids`), for one benchmark."""
    configured = configured_grids(store) if configured is None else configured
    tables: list[SensitivityTable] = []
    built: dict[str, Any] = {}  # "<metric>|<variant label>" -> metric instance
    for name in metrics:
        grid = grid_for(name, plugins, configured)
        params = _scored_params(store, name)
        if not grid or params is None:
            continue
        table = SensitivityTable(benchmark, name, params, grid, variants(grid, params))
        try:
            for v in table.variants:
                built[f"{name}|{v.label}"] = create_metrics({name: {**params, **dict(v.values)}}, plugins.metrics)[name]
        except Exception as exc:  # noqa: BLE001 - a grid value the metric refuses: said on the board
            table.skipped = {t: f"cannot build a variant: {exc}" for t in targets}
            tables.append(table)
            continue
        tables.append(table)
    wanted = [t for t in tables if not t.skipped]
    if not wanted:
        return tables
    named = {key: m for key, m in built.items() if key.split("|", 1)[0] in {t.metric for t in wanted}}
    inputs = []
    for target in targets:
        truth = _truth_mean(store, benchmark, target)
        files = store.feature_files(benchmark, target)
        why = "fewer than 2 models with features and ground truth" if len(truth) < 2 or len(files) < 2 else ""
        inputs.append((target, truth, files, why))
    # the targets are independent: scored on every core (the variants of one target share their work)
    results = fork_map(lambda item: _score_target(named, item), inputs)
    for (target, truth, _files, _why), (why, scores) in zip(inputs, results):
        if why:
            for t in wanted:
                t.skipped[target] = why
            continue
        for t in wanted:
            t.targets.append(target)
            for v in t.variants:
                t.tau.setdefault(v, {})[target] = correlations(scores.get(f"{t.metric}|{v.label}", {}), truth)["tau_w"]
    return tables


def _score_target(named: dict, item: tuple) -> tuple[str, dict[str, dict[str, float]]]:
    """(why it was left out, or "") and the zoo scores of every variant on one target."""
    _target, _truth, files, why = item
    if why:
        return why, {}
    try:
        bundles = _bundles(files)
    except (FacebenchError, OSError, ValueError) as exc:
        return str(exc), {}
    return "", score_zoo(named, bundles).scores


def start_sensitivity_tables(store_path: str | os.PathLike[str]) -> Background:
    """Start computing the tables of every benchmark of the store in a forked process, which opens
    the store itself (:class:`.parallel.Background`; on one core, :func:`board_sensitivity` computes
    them). Each benchmark gets the tables of every metric the store holds, a benchmark's own
    metrics among them; :func:`board_sensitivity` keeps those."""
    return Background(_store_tables, [str(store_path)])


def _store_tables(store_path: str) -> dict[str, list[SensitivityTable]]:
    """benchmark -> :func:`sensitivity_tables` of all the store's metrics, with the store's plugins and grids."""
    store = ResultsStore(store_path)
    try:
        plugins, grids, metrics = store_plugins(store), configured_grids(store), store.metrics()
        targets: dict[str, list[str]] = {}
        for row in store.benchmarks():  # the board's benchmarks and targets, in its order
            targets.setdefault(row["benchmark"], []).append(row["target"])
        return {bench: sensitivity_tables(store, plugins, bench, names, metrics, grids)
                for bench, names in targets.items()}
    finally:
        store.close()


def board_sensitivity(board: "Leaderboard", started: Background) -> list[SensitivityTable]:
    """The tables :func:`start_sensitivity_tables` computed, per benchmark those of its metrics (in the
    board's order): what :func:`sensitivity_tables` gives for each benchmark's metrics, since a
    metric's table does not depend on the other metrics scored with it."""
    (tables,) = started.results()
    return [table for b in board.benchmarks for table in tables.get(b.benchmark, []) if table.metric in b.metrics]
