"""The leaderboard's figures as PNG bytes (matplotlib's Agg canvas; pyplot's global state untouched).

* :func:`scatter_grid`: the paper's Fig. 4 for one target: a small multiple per metric of the
  zoo score (x) against the models' mean fine-tuned result (y; bars: std over seeds);
* :func:`trace_plot`: a per-epoch diagnostic for one target (variance collapse: the paper's Fig. 1): each model's value per
  fine-tuning epoch (mean over seeds, band: min-max over seeds);
* :func:`ranking_plot`: mean tau_w per metric over all targets.
"""
from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from .fmt import fmt
from .parallel import Background, fork_map
from .tables import DiagnosticTrace, RankRow, TargetData

DPI = 90
MAX_LABELLED_MODELS = 12


def to_png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


# The scatter grids' figures, one per layout (rows, columns), kept by the process that draws them:
# a grid's axes are emptied and drawn again (:func:`_empty`) rather than made anew, since new axes
# build their ticks anew, about a fifth of a grid's drawing. The same pixels as on new axes (tested).
_GRIDS: dict[tuple[int, int], tuple[Figure, np.ndarray]] = {}


def _grid(nrows: int, ncols: int) -> tuple[Figure, np.ndarray]:
    """The figure and (nrows, ncols) axes of a scatter grid: this process's, emptied, else new."""
    if (nrows, ncols) in _GRIDS:
        fig, axes = _GRIDS[(nrows, ncols)]
        for ax in axes.flat:
            _empty(ax)
        return fig, axes
    width, height = 3.3 * ncols, 2.9 * nrows + 0.6
    fig = Figure(figsize=(width, height))
    # Fixed margins (in inches): constrained layout doubles the drawing time.
    fig.subplots_adjust(left=0.75 / width, right=1 - 0.15 / width, bottom=0.5 / height, top=1 - 1.05 / height,
                        wspace=0.45, hspace=0.9)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    _GRIDS[(nrows, ncols)] = fig, axes
    return fig, axes


def _empty(ax) -> None:
    """An axes of a drawn grid as :meth:`Figure.subplots` leaves a new one, as far as
    :func:`scatter_grid` can tell: no data artists or limits, view (0, 1) autoscaled, visible.
    Its ticks, title and labels stay (scatter_grid sets their text and style again)."""
    for artist in [*ax.collections, *ax.lines, *ax.texts]:
        artist.remove()
    ax.containers.clear()
    ax.dataLim.set_points(Bbox.null().get_points())
    ax.ignore_existing_data_limits = True
    ax.set_xlim(0, 1, auto=True)
    ax.set_ylim(0, 1, auto=True)
    ax.set_visible(True)


def scatter_grid(target: TargetData, truth: str, metrics: list[str], title: str, *,
                 title_clear_of_offsets: bool = False) -> bytes:
    """The grid of one target and ground truth (the paper's Fig. 4).

    Each axes' title sits where matplotlib places it: right above the axes, unless the y axis shows
    an offset (say "+9.5e-1") under it, which pushes the title up. Finding that out costs about 5%
    of the drawing, so the titles are pinned above the axes and, if a y axis then shows an offset,
    the grid is drawn again on new axes with ``title_clear_of_offsets`` (matplotlib's placement).
    """
    metrics = [m for m in metrics if m in target.scores] or metrics
    ncols = max(1, min(4, len(metrics)))
    nrows = max(1, math.ceil(len(metrics) / ncols))
    if title_clear_of_offsets:
        _GRIDS.pop((nrows, ncols), None)  # new axes: their titles are placed by matplotlib
    fig, axes = _grid(nrows, ncols)
    pinned = {} if title_clear_of_offsets else {"y": 1.0}
    acc = target.truth_mean.get(truth, {})
    spread = target.spread.get(truth, {})
    for ax, metric in zip(axes.flat, metrics):
        scores = target.scores.get(metric, {})
        models = sorted(set(scores) & set(acc))
        cell = target.cells.get((metric, truth))
        tau = fmt(cell.values.get("tau_w")) if cell else "—"
        rho = fmt(cell.values.get("pearson")) if cell else "—"
        ax.set_title(f"{metric}\nτ_w = {tau}, ρ = {rho}", fontsize=9, **pinned)
        ax.set_xlabel("score", fontsize=8)
        ax.set_ylabel(f"{truth} (mean over seeds)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if not models:
            ax.text(0.5, 0.5, "no scores", ha="center", va="center", transform=ax.transAxes, color="0.4")
            continue
        x = np.array([scores[m] for m in models])
        y = np.array([acc[m] for m in models])
        err = np.array([spread[m].std if m in spread and math.isfinite(spread[m].std) else 0.0 for m in models])
        ax.margins(x=0.18, y=0.12)
        ax.errorbar(x, y, yerr=err, fmt="o", ms=4, capsize=2, lw=0.8, color="tab:blue", ecolor="0.5")
        if len(models) <= MAX_LABELLED_MODELS:
            for xi, yi, m in zip(x, y, models):
                ax.annotate(m, (xi, yi), fontsize=6, xytext=(3, 3), textcoords="offset points", color="0.25")
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=11)
    png = to_png(fig)
    if pinned and any(ax.yaxis.offsetText.get_text() for ax in list(axes.flat)[:len(metrics)]):
        return scatter_grid(target, truth, metrics, title, title_clear_of_offsets=True)
    return png


ScatterJob = tuple[TargetData, str, list[str], str]
_STARTED: list[tuple[list[ScatterJob], Background]] = []  # at most one: the grids drawing in the background


def start_scatter_grids(jobs: list[ScatterJob]) -> None:
    """Start drawing :func:`scatter_grids` of ``jobs`` in forked processes now (:class:`.parallel.Background`):
    the board's statistics are computed meanwhile, and :func:`scatter_grids` of the same jobs (the
    same objects) collects the figures. Drawing is the slow part of a board."""
    _STARTED.clear()
    _STARTED.append((list(jobs), Background(_scatter_job, jobs)))


def _same_jobs(a: list[ScatterJob], b: list[ScatterJob]) -> bool:
    return len(a) == len(b) and all(x[0] is y[0] and tuple(x[1:]) == tuple(y[1:]) for x, y in zip(a, b))


def scatter_grids(jobs: list[ScatterJob]) -> list[bytes]:
    """:func:`scatter_grid` of every ``(target, truth, metrics, title)``: those :func:`start_scatter_grids`
    started, else drawn now on every core (:func:`.parallel.fork_map`); the figures are independent."""
    try:
        if _STARTED and _same_jobs(_STARTED[0][0], jobs):
            return _STARTED.pop()[1].results()
        _STARTED.clear()  # started for other jobs (a board that was not rendered): ended
        return fork_map(_scatter_job, jobs)
    finally:
        _GRIDS.clear()  # drawn here when there is one core: not kept past the board


def _scatter_job(job: tuple[TargetData, str, list[str], str]) -> bytes:
    return scatter_grid(*job)


def trace_plot(nc: DiagnosticTrace, title: str, quantity: str = "variance collapse") -> bytes:
    fig = Figure(figsize=(7.5, 3.8))
    fig.subplots_adjust(left=0.1, right=0.74, bottom=0.14, top=0.84)
    ax = fig.subplots()
    for model, curve in nc.curves.items():
        epochs = np.arange(len(curve))
        (line,) = ax.plot(epochs, curve, marker="o", ms=3, lw=1.2, label=model)
        ax.fill_between(epochs, nc.low[model], nc.high[model], color=line.get_color(), alpha=0.15, lw=0)
    values = np.array([v for c in nc.curves.values() for v in c if v is not None and math.isfinite(v)])
    if values.size and (values > 0).all() and values.max() / values.min() > 100:
        ax.set_yscale("log")
    ax.set_xlabel("fine-tuning epoch (0 = pre-trained)")
    ax.set_ylabel(quantity)
    ax.set_title(f"{title}\nKendall τ (epoch 0 vs last) = {fmt(nc.kendall)}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return to_png(fig)


def ranking_plot(rows: list[RankRow], title: str = "Mean τ_w over all benchmark targets") -> bytes:
    rows = [r for r in rows if math.isfinite(r.mean_tau_w)]
    height = 0.35 * max(len(rows), 1) + 1.2
    fig = Figure(figsize=(6.4, height))
    fig.subplots_adjust(left=0.25, right=0.95, bottom=0.55 / height, top=1 - 0.45 / height)
    ax = fig.subplots()
    names = [f"{r.rank}. {r.metric}" for r in rows][::-1]
    values = [r.mean_tau_w for r in rows][::-1]
    colors = ["tab:green" if v >= 0 else "tab:red" for v in values]
    ax.barh(names, values, color=colors)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlim(-1, 1)
    ax.set_xlabel("mean τ_w")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return to_png(fig)
