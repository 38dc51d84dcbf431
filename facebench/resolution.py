"""When is a vector of numbers constant? Up to float64 rounding, not only exactly.

A metric whose scores differ between the models of a zoo only in the last bits (H-score with
n <= d is the rank of the between-class covariance, K - 1, for every model: 9.0,
9.000000000000002, 8.999999999999998) ranks nothing: any correlation of those scores with the
ground truth is a correlation of rounding noise. A vector ``x`` is *unresolved* when

    max(x) - min(x) <= UNRESOLVED_SPREAD * max |x|,

with UNRESOLVED_SPREAD = 1e-10, about 5e5 units in the last place of float64 (eps = 2.2e-16):
far above what rounding in a metric's arithmetic leaves, far below any difference that means
something. Used by FaCe's zoo step (a term with no resolvable spread is dropped), by every
statistic of :mod:`facebench.evaluation`, and by the leaderboard's bootstrap.
"""
from __future__ import annotations

import numpy as np

#: Relative spread below which a vector is treated as constant (see the module docstring).
UNRESOLVED_SPREAD = 1e-10


def resolution_floor(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    """The spread at or below which ``x`` (along ``axis``) counts as constant."""
    scale = np.max(np.abs(x), axis=axis)
    return UNRESOLVED_SPREAD * np.maximum(scale, np.finfo(np.float64).tiny)


def is_unresolved(x: np.ndarray, axis: int | None = None) -> np.ndarray | bool:
    """True where ``x`` is constant up to float64 rounding (empty or one value: constant too)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return True
    spread = np.ptp(x, axis=axis)
    out = spread <= resolution_floor(x, axis=axis)
    return bool(out) if axis is None else out


def top_ties(x: np.ndarray) -> np.ndarray:
    """Indices of the values of ``x`` that cannot be told from its maximum (within resolution)."""
    x = np.asarray(x, dtype=np.float64)
    return np.flatnonzero(x >= x.max() - resolution_floor(x))
