"""Number formatting and best / second-best marking shared by the Markdown and HTML renderers.

Marking follows the paper's tables: in each column the best value is bold and the second best
underlined. It is decided on the values *as shown* (rounded to ``DECIMALS``), so two cells that
read the same get the same mark; NaN cells (failed or undefined) get none.
"""
from __future__ import annotations

import math
from typing import Sequence

DECIMALS = 2
MISSING = "—"

STAT_LABELS = {
    "tau_w": "Kendall τ_w",
    "pearson": "Pearson ρ",
    "spearman": "Spearman ρ_s",
    "kendall": "Kendall τ",
    "top1_rel": "Top-1 relative accuracy",
    "regret1": "Regret@1 (best minus top pick; lower is better)",
    "top3_hit": "Top-3 hit rate (a best model among the top 3)",
}


def is_num(v: object) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def fmt(v: object, decimals: int = DECIMALS) -> str:
    if not is_num(v):
        return MISSING
    s = f"{v:.{decimals}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s  # no "-0.00"


def fmt_interval(low: float, high: float, decimals: int = DECIMALS) -> str:
    return f"[{fmt(low, decimals)}, {fmt(high, decimals)}]" if is_num(low) and is_num(high) else MISSING


def fmt_seconds(s: float) -> str:
    if not is_num(s):
        return MISSING
    if s < 60:
        return f"{s:.2f} s"
    if s < 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


def fmt_ratio(r: float) -> str:
    """A cost ratio: 3 significant digits and a times sign ("0.0123×")."""
    return MISSING if not is_num(r) else f"{r:.3g}×"


def fmt_bytes(b: int | None) -> str:
    if b is None:
        return MISSING
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if b >= size:
            return f"{b / size:.1f} {unit}"
    return f"{b} B"


def marks(values: Sequence[float], decimals: int = DECIMALS, lower: bool = False) -> list[str]:
    """'best', 'second' or '' for each value (ties share a mark; ``lower``: the smallest is best)."""
    sign = -1.0 if lower else 1.0
    shown = [sign * round(float(f"{v:.{decimals}f}"), decimals) if is_num(v) else None for v in values]
    distinct = sorted({v for v in shown if v is not None}, reverse=True)
    best = distinct[0] if distinct else None
    second = distinct[1] if len(distinct) > 1 else None
    return ["best" if v is not None and v == best else "second" if v is not None and v == second else ""
            for v in shown]


def split_range(r) -> str:
    """A reliability's lowest-highest tau_w over the seed splits ("0.74–0.93"), or the missing mark."""
    if not (math.isfinite(r.seeds_tau_w_low) and math.isfinite(r.seeds_tau_w_high)):
        return MISSING
    return f"{fmt(r.seeds_tau_w_low)}–{fmt(r.seeds_tau_w_high)}"
