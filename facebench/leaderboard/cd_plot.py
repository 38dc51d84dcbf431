"""A critical-difference-style diagram of one metric comparison (:mod:`facebench.evaluate.significance`).

Like Demsar's (JMLR 2006) diagram, with the metrics' mean tau_w on the axis instead of their
average rank: each metric is a dot on the axis, joined by an elbow line to its name at the side,
the lower half of the metrics on the left and the upper half on the right, one row each (names
never overlap however close the values; lines never cross: the metric nearest an edge takes the
row nearest the axis). Every letter of the compact letter display (a maximal set of metrics no
two of which differ significantly) is a row under the axis: a thin line across its span and a
thick mark at each of its metrics (a letter's metrics need not be neighbours on the axis).
"""
from __future__ import annotations

import math
import textwrap

import numpy as np

from ..evaluate.significance import Comparison, letter_name as _letter_name
from .plots import figure, to_png

ROW = 0.2  # inches between two name rows, and between two letter rows
CHAR = 0.068  # inches per character of an 8-point name (DejaVu Sans, a little over its mean advance)
AXIS = 3.2  # inches at least for the axis between the two columns of names


def cd_diagram(c: Comparison, title: str) -> bytes:
    order = sorted(c.metrics, key=lambda m: (c.mean_tau_w[m], m))
    values = np.array([c.mean_tau_w[m] for m in order], dtype=np.float64)
    lo, hi = float(min(values.min(), 0.0)), float(max(values.max(), 0.0))
    span = max(hi - lo, 0.2)
    left, right = order[: math.ceil(len(order) / 2)], order[math.ceil(len(order) / 2):]
    name_rows = max(len(left), len(right))
    # each letter's members, wrapped to the figure's width, under its row
    members = [textwrap.wrap(f"{_letter_name(k)}: " + ", ".join(g), 150) for k, g in enumerate(c.groups)]
    rows_y, y = [], -ROW * 1.5
    for lines in members:
        rows_y.append(y)
        y -= ROW * (1 + 0.55 * len(lines))
    # data units: y = inches above the axis (the axes' height in inches equals its y span)
    top, bottom = ROW * (name_rows + 1.2), y - ROW * 0.3
    height = (top - bottom) + 0.75
    # room for the longest name on each side; the figure widens beyond 8 inches rather than clip it
    side_in = CHAR * max(len(f"{m} ({c.mean_tau_w[m]:.2f})") for m in order) + 0.3
    axes_in = max(0.96 * 8.0, AXIS + 2 * side_in)
    fig = figure(figsize=(axes_in / 0.96, height))
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.05 / height, top=1 - 0.7 / height)
    ax = fig.subplots()
    side_frac = side_in / axes_in
    width = span / (1 - 2 * side_frac)
    ax.set_xlim(lo - side_frac * width, hi + side_frac * width)
    ax.set_ylim(bottom, top)
    ax.plot([lo, hi], [0, 0], color="0.2", lw=1.2)
    for tick in np.linspace(lo, hi, 5):
        ax.plot([tick, tick], [0, -0.04], color="0.2", lw=0.8)
        ax.text(tick, -0.06, f"{tick:.2f}", ha="center", va="top", fontsize=7, color="0.3")
    edge = 0.03 * width
    for side, names in (("left", left), ("right", right[::-1])):
        for row, m in enumerate(names):  # names[0]: nearest the edge, nearest the axis
            v, y = c.mean_tau_w[m], ROW * (row + 1)
            x_end = lo - edge if side == "left" else hi + edge
            ax.plot([v, v, x_end], [0, y, y], color="tab:blue", lw=0.8)
            ax.plot([v], [0], "o", ms=4, color="tab:blue")
            ax.text(x_end + (-0.01 if side == "left" else 0.01) * width, y, f"{m} ({v:.2f})",
                    ha="right" if side == "left" else "left", va="center", fontsize=8)
    for group, y, lines in zip(c.groups, rows_y, members):
        vs = [c.mean_tau_w[m] for m in group]
        ax.plot([min(vs), max(vs)], [y, y], color="0.6", lw=1)
        for v in vs:
            ax.plot([v - span * 0.004, v + span * 0.004], [y, y], color="black", lw=4, solid_capstyle="round")
        ax.text(0.5 * (lo + hi), y - 0.07, "\n".join(lines), ha="center", va="top", fontsize=6, color="0.25")
    ax.set_axis_off()
    ax.set_title(f"{title}\nmean τ_w; each row under the axis joins metrics that cannot be told apart "
                 f"({c.level:.0%}, {c.correction})", fontsize=9)
    return to_png(fig)
