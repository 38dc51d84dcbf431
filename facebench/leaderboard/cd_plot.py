"""A critical-difference-style diagram of one metric comparison (:mod:`facebench.evaluate.significance`).

Like Demsar's (JMLR 2006) diagram, with the metrics' mean tau_w on the axis instead of their
average rank: each metric is a tick on the axis, labelled above it (three staggered rows); every
letter of the compact letter display (a maximal set of metrics no two of which differ
significantly) is a row under the axis: a thin line across its span and a thick mark at each of
its metrics (a letter's metrics need not be neighbours on the axis).
"""
from __future__ import annotations

import numpy as np

from ..evaluate.significance import Comparison, letter_name as _letter_name
from .plots import figure, to_png


def cd_diagram(c: Comparison, title: str) -> bytes:
    metrics = c.metrics
    values = np.array([c.mean_tau_w[m] for m in metrics], dtype=np.float64)
    lo, hi = float(min(values.min(), 0.0)), float(max(values.max(), 0.0))
    pad = 0.08 * max(hi - lo, 0.2)
    n_groups = len(c.groups)
    height = 2.2 + 0.3 * n_groups
    fig = figure(figsize=(8.0, height))
    fig.subplots_adjust(left=0.04, right=0.96, bottom=0.05, top=1 - 0.45 / height)
    ax = fig.subplots()
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(-(n_groups + 1) * 0.3 - 0.2, 1.25)
    ax.axhline(0, color="0.2", lw=1.2)
    for tick in np.linspace(lo, hi, 5):
        ax.plot([tick, tick], [0, 0.05], color="0.2", lw=0.8)
        ax.text(tick, 0.09, f"{tick:.2f}", ha="center", va="bottom", fontsize=7, color="0.3")
    for i, (m, v) in enumerate(zip(metrics, values)):
        y = 0.35 + 0.27 * (i % 3)  # three label rows, so neighbours do not overlap
        ax.plot([v, v], [0, y], color="tab:blue", lw=0.8)
        ax.plot([v], [0], "o", ms=4, color="tab:blue")
        ax.text(v, y + 0.02, f"{m} ({v:.2f})", ha="center", va="bottom", fontsize=8)
    for k, group in enumerate(c.groups):
        vs = [c.mean_tau_w[m] for m in group]
        y = -0.3 - 0.3 * k
        ax.plot([min(vs), max(vs)], [y, y], color="0.6", lw=1)
        for v in vs:
            ax.plot([v - pad * 0.05, v + pad * 0.05], [y, y], color="black", lw=4, solid_capstyle="round")
        right = max(vs) > 0.5 * (lo + hi)  # label on the side with room, just under the row
        ax.text(max(vs) if right else min(vs), y - 0.06, f"{_letter_name(k)}: " + ", ".join(group),
                ha="right" if right else "left", va="top", fontsize=7, color="0.25")
    ax.set_axis_off()
    ax.set_title(f"{title}\nmean τ_w; each row joins metrics that cannot be told apart "
                 f"({c.level:.0%}, {c.correction})", fontsize=9)
    return to_png(fig)
