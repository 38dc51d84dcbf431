"""Formatting shared by the commands: numbers for tables, strict JSON (NaN -> null)."""
from __future__ import annotations

import json
import math
from typing import Any


def fmt_number(x: float | None) -> str:
    """A table cell: 6 significant digits, 'nan' for a missing or undefined value."""
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.6g}"


def dumps(obj: Any) -> str:
    """JSON with non-finite floats written as null (strict JSON)."""

    def clean(o: Any) -> Any:
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        return o

    return json.dumps(clean(obj), indent=2, sort_keys=False)


def format_card(card: Any, indent: str = "") -> str:
    """A metric card (:class:`facebench.metrics.base.MetricCard`) as indented text lines."""
    return "\n".join(indent + line for line in card.lines())
