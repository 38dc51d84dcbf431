"""The critical-difference diagram names every metric once, and no two names overlap however
close the metrics' values are (the case that made the old staggered labels unreadable)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from facebench.evaluate.significance import Comparison
from facebench.leaderboard import cd_plot


def _drawn(monkeypatch, taus: dict[str, float], groups: list[list[str]]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figures = []
    monkeypatch.setattr(cd_plot, "to_png", lambda fig: figures.append(fig) or b"")
    metrics = list(taus)
    comparison = Comparison(metrics, taus, [], groups, {m: "a" for m in metrics}, 100, 0.95, "maxt", 6)
    cd_plot.cd_diagram(comparison, "title")
    (fig,) = figures
    FigureCanvasAgg(fig).draw()
    return fig


@pytest.mark.parametrize("n, spread", [(25, 0.01), (24, 1.5), (2, 0.3), (7, 0.0)])
def test_every_metric_named_once_without_overlap(monkeypatch, n, spread):
    rng = np.random.default_rng(n)
    taus = {f"metric-with-a-long-name-{i}": float(v) for i, v in enumerate(0.4 + spread * (rng.random(n) - 0.5))}
    fig = _drawn(monkeypatch, taus, [list(taus)[: n // 2 + 1], list(taus)[n // 2:]])
    renderer = fig.canvas.get_renderer()
    names = [t for t in fig.axes[0].texts if t.get_text().startswith("metric-with") and "(" in t.get_text()]
    assert sorted(t.get_text().split(" (")[0] for t in names) == sorted(taus)
    boxes = [t.get_window_extent(renderer) for t in names]
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    width, height = fig.bbox.width, fig.bbox.height
    assert all(b.x0 >= 0 and b.x1 <= width and b.y0 >= 0 and b.y1 <= height for b in boxes)  # inside the figure


def test_lower_half_named_on_the_left(monkeypatch):
    taus = {"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.9}
    fig = _drawn(monkeypatch, taus, [["a", "b", "c", "d"]])
    sides = {t.get_text().split(" (")[0]: t.get_horizontalalignment() for t in fig.axes[0].texts
             if " (" in t.get_text()}
    assert sides == {"a": "right", "b": "right", "c": "left", "d": "left"}  # right-aligned: at the left edge
