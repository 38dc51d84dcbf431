"""The leaderboard's figures as PNG bytes (matplotlib's Agg canvas; pyplot's global state untouched).

* :func:`scatter_grid`: the paper's Fig. 4 for one target: a small multiple per metric of the
  zoo score (x) against the models' mean fine-tuned result (y, shared by the panels; bars: std
  over seeds), each model one colour in every panel and named once in the figure's legend;
* :func:`trace_plot`: a per-epoch diagnostic for one target (variance collapse: the paper's Fig. 1): each model's value per
  fine-tuning epoch (mean over seeds, band: min-max over seeds);
* :func:`ranking_plot`: mean tau_w per metric over all targets.

A board's figures are drawn in forked processes while the board is computed (:func:`start_figures`,
:func:`draw_all`, :func:`figure_png`). matplotlib is imported on first use; the PNGs are compressed
at zlib level 1.
"""
from __future__ import annotations

import io
import math
from types import SimpleNamespace
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from .fmt import fmt
from .parallel import Background, fork_map
from .tables import DiagnosticTrace, RankRow, TargetData

if TYPE_CHECKING:  # matplotlib is imported on first use (:func:`_mpl`): a board without figures never needs it
    from matplotlib.figure import Figure

DPI = 90
MAX_LABELLED_MODELS = 20  # models told apart by colour (tab20); more are drawn in one colour, unnamed
# zlib level of the PNGs: 1 instead of matplotlib's 6 costs less CPU and, for these flat-coloured figures,
# even gives smaller files (the pixels are the same: PNG is lossless)
PNG_COMPRESS_LEVEL = 1


def _mpl() -> SimpleNamespace:
    """What the figures need of matplotlib (``Figure``, ``Canvas``, ``Line2D``, ``MaxNLocator``, ...),
    imported on first use: 0.3 s."""
    global _MPL
    if _MPL is None:
        from matplotlib import colormaps
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator
        from matplotlib.transforms import Bbox

        _MPL = SimpleNamespace(Figure=Figure, Bbox=Bbox, Canvas=FigureCanvasAgg, Line2D=Line2D, colormaps=colormaps,
                               MaxNLocator=MaxNLocator)
    return _MPL


_MPL: SimpleNamespace | None = None


def import_matplotlib() -> None:
    """Import what the figures need now (forked processes that draw them then inherit it)."""
    _mpl()


def _palette(n: int) -> list:
    """``n`` distinct colours: tab10 up to 10, tab20 up to 20."""
    cmap = _mpl().colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i) for i in range(n)]


def figure(**kwargs) -> Figure:
    """A new ``matplotlib.figure.Figure`` (not pyplot's: no global state)."""
    return _mpl().Figure(**kwargs)


def to_png(fig: Figure) -> bytes:
    _mpl().Canvas(fig)  # matplotlib's Agg canvas
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None},
                pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return buf.getvalue()


# The scatter grids' figures, one per layout (rows, columns), kept by the process that draws them:
# a grid's axes are emptied and drawn again (:func:`_empty`) rather than made anew, since new axes
# build their ticks anew, about a fifth of a grid's drawing. The same pixels as on new axes (tested).
_GRIDS: dict[tuple[int, int, int], tuple[Figure, np.ndarray]] = {}


def _grid(nrows: int, ncols: int, legend_rows: int = 0) -> tuple[Figure, np.ndarray]:
    """The figure and (nrows, ncols) axes of a scatter grid, with room for a legend of
    ``legend_rows`` rows under it: this process's, emptied, else new."""
    key = (nrows, ncols, legend_rows)
    if key in _GRIDS:
        fig, axes = _GRIDS[key]
        for ax in axes.flat:
            _empty(ax)
        for legend in list(fig.legends):
            legend.remove()
        return fig, axes
    legend_height = 0.18 * legend_rows + (0.15 if legend_rows else 0.0)
    width, height = 3.3 * ncols, 2.9 * nrows + 0.6 + legend_height
    fig = figure(figsize=(width, height))
    # Fixed margins (in inches): constrained layout doubles the drawing time.
    fig.subplots_adjust(left=0.75 / width, right=1 - 0.15 / width, bottom=(0.5 + legend_height) / height,
                        top=1 - 1.05 / height, wspace=0.3, hspace=0.9)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    _GRIDS[key] = fig, axes
    return fig, axes


def _std(spread, model: str) -> float:
    """The std over seeds of ``model``'s ground truth (0 where unknown): its error bar."""
    s = spread.get(model)
    return s.std if s is not None and math.isfinite(s.std) else 0.0


def _padded_range(values: list[float], margin: float) -> tuple[float, float] | None:
    """(low, high) of the finite ``values`` widened by ``margin`` of their span each side, as
    ``Axes.margins`` pads; None when there is no span (autoscaling then decides)."""
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
    if v.size == 0 or v.max() == v.min():
        return None
    pad = margin * (v.max() - v.min())
    return float(v.min() - pad), float(v.max() + pad)


def _empty(ax) -> None:
    """An axes of a drawn grid as :meth:`Figure.subplots` leaves a new one, as far as
    :func:`scatter_grid` can tell: no data artists or limits, view (0, 1) autoscaled, visible.
    Its ticks, title and labels stay (scatter_grid sets their text and style again)."""
    for artist in [*ax.collections, *ax.lines, *ax.texts]:
        artist.remove()
    ax.containers.clear()
    ax.dataLim.set_points(_mpl().Bbox.null().get_points())
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
    acc = target.truth_mean.get(truth, {})
    spread = target.spread.get(truth, {})
    shown = sorted({m for metric in metrics for m in target.scores.get(metric, {})} & set(acc))
    # each model one colour in every panel, named once in the legend (up to the palette's 20 models)
    colour = dict(zip(shown, _palette(len(shown)))) if len(shown) <= MAX_LABELLED_MODELS else {}
    legend_cols = min(4, len(colour))
    legend_rows = math.ceil(len(colour) / legend_cols) if colour else 0
    if title_clear_of_offsets:
        _GRIDS.pop((nrows, ncols, legend_rows), None)  # new axes: their titles are placed by matplotlib
    fig, axes = _grid(nrows, ncols, legend_rows)
    pinned = {} if title_clear_of_offsets else {"y": 1.0}
    # one y range for the grid: every panel plots the same models' ground truth, so the panels line
    # up and only the first column carries the y tick labels and the y label (set, not shared: sharing
    # axes costs a tenth of the drawing here)
    ylim = _padded_range([v for m in shown for v in (acc[m] - _std(spread, m), acc[m] + _std(spread, m))], 0.12)
    for i, (ax, metric) in enumerate(zip(axes.flat, metrics)):
        scores = target.scores.get(metric, {})
        models = sorted(set(scores) & set(acc))
        cell = target.cells.get((metric, truth))
        tau = fmt(cell.values.get("tau_w")) if cell else "—"
        rho = fmt(cell.values.get("pearson")) if cell else "—"
        ax.set_title(f"{metric}\nτ_w = {tau}, ρ = {rho}", fontsize=9, **pinned)
        ax.set_xlabel("score" if i + ncols >= len(metrics) else "", fontsize=8)  # the lowest panel of its column
        ax.set_ylabel(f"{truth} (mean over seeds)" if i % ncols == 0 else "", fontsize=8)
        ax.tick_params(labelsize=7, labelleft=i % ncols == 0)
        # at most 6 ticks on each axis, at the steps of matplotlib's default locator: a panel is 2.5
        # inches wide, and every tick is a text to lay out (most of a grid's drawing)
        ax.xaxis.set_major_locator(_mpl().MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        ax.yaxis.set_major_locator(_mpl().MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        ax.grid(alpha=0.3)
        if ylim is not None:
            ax.set_ylim(*ylim)
        if not models:
            ax.text(0.5, 0.5, "no scores", ha="center", va="center", transform=ax.transAxes, color="0.4")
            continue
        x = np.array([scores[m] for m in models])
        y = np.array([acc[m] for m in models])
        err = np.array([_std(spread, m) for m in models])
        ax.margins(x=0.18, y=0.12)
        ax.errorbar(x, y, yerr=err, fmt="none", capsize=2, lw=0.8, ecolor="0.5")
        ax.scatter(x, y, s=18, c=[colour.get(m, "tab:blue") for m in models], zorder=3, linewidths=0)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=11)
    if colour:
        handles = [_mpl().Line2D([], [], ls="", marker="o", ms=5, color=c, label=m) for m, c in colour.items()]
        fig.legend(handles=handles, loc="lower center", ncol=legend_cols, fontsize=7, frameon=False,
                   bbox_to_anchor=(0.5, 0.0), handletextpad=0.2, columnspacing=1.5)
    png = to_png(fig)
    if pinned and any(ax.yaxis.offsetText.get_text() for ax in list(axes.flat)[:len(metrics)]):
        return scatter_grid(target, truth, metrics, title, title_clear_of_offsets=True)
    return png


def trace_plot(nc: DiagnosticTrace, title: str, quantity: str = "variance collapse") -> bytes:
    fig = figure(figsize=(7.5, 3.8))
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
    fig = figure(figsize=(6.4, height))
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


# -- figures drawn in the background -----------------------------------------------------------
FigureJob = tuple[Callable[..., bytes], tuple]  # a figure function of the board and its arguments
_STARTED: list[tuple[list[FigureJob], Background]] = []  # figures being drawn in forked processes
_READY: list[tuple[FigureJob, bytes]] = []  # figures collected or drawn by draw_all, until forget()


def start_figures(jobs: Sequence[FigureJob], *, processes: int | None = None) -> None:
    """Start drawing ``fn(*args)`` of every ``(fn, args)`` of ``jobs`` in forked processes now (at most
    ``processes``; :class:`.parallel.Background`), so that they are drawn while this process computes the
    rest of the board; :func:`draw_all` collects them. Drawing is the slow part of a board."""
    import_matplotlib()  # here, once, rather than in each process
    _STARTED.append((list(jobs), Background(_draw, jobs, processes=processes)))


def draw_all(jobs: Sequence[FigureJob]) -> None:
    """Have the figure of every job of ``jobs`` ready for :func:`figure_png`: collects those
    :func:`start_figures` started and draws the others now, on every core (:func:`.parallel.fork_map`).
    A start none of whose figures is wanted (a board that was not rendered) is ended."""
    for started in list(_STARTED):
        _STARTED.remove(started)
        if any(_find(job, jobs) is not None for job in started[0]):
            _READY.extend(zip(started[0], started[1].results()))
    missing = [job for job in jobs if _find(job, [done for done, _ in _READY]) is None]
    _READY.extend(zip(missing, fork_map(_draw, missing)))


def figure_png(fn: Callable[..., bytes], *args) -> bytes:
    """``fn(*args)``: the figure :func:`draw_all` made ready, else drawn now."""
    k = _find((fn, args), [done for done, _ in _READY])
    return _READY[k][1] if k is not None else fn(*args)


def forget() -> None:
    """Drop the figures of a rendered board, the grids this process kept, and what is still started."""
    _READY.clear()
    _STARTED.clear()
    _GRIDS.clear()


def _draw(job: FigureJob) -> bytes:
    fn, args = job
    return fn(*args)


def _find(job: FigureJob, jobs: Sequence[FigureJob]) -> int | None:
    """The index in ``jobs`` of the same figure as ``job``: the same function, with arguments that are the
    same objects (strings, numbers and lists of them: equal ones)."""
    for k, (fn, args) in enumerate(jobs):
        if fn is job[0] and len(args) == len(job[1]) and all(map(_same, args, job[1])):
            return k
    return None


def _same(a, b) -> bool:
    if a is b:
        return True
    if isinstance(a, (list, tuple)) and type(a) is type(b):
        return len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and isinstance(a, (str, int, float)) and a == b
