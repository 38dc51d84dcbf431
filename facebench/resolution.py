"""When do two numbers differ? Beyond float64 rounding at their own magnitude, not relative to a vector.

A metric whose scores differ between the models of a zoo only in the last bits (H-score with
n <= d is the rank of the between-class covariance, K - 1, for every model: 9.0,
9.000000000000002, 8.999999999999998) ranks nothing: any correlation of those scores with the
ground truth is a correlation of rounding noise. Two values ``a``, ``b`` are *tied* when

    |a - b| <= TIE_ULPS * ulp(max(|a|, |b|)),

``ulp(v) = numpy.spacing(v)``, the gap between v and the next float64 (2.2e-16 |v| or so), and
TIE_ULPS = 1024: about 2.3e-13 relative to the pair's own magnitude, far above the few ulps
that rounding in a metric's arithmetic leaves on a degenerate score, far below any difference
that means something. The floor depends on the two values compared, not on the spread or the
largest value of the vector: an offset added to every score changes a verdict only where float64
itself can no longer hold the differences (an offset of 1e6 with gaps of 1e-5 stays resolved).

Ties are applied where values are compared: :func:`snap_ties` merges every run of sorted values
whose neighbours are tied (single linkage) into one value before tau_w, Kendall, Spearman and
top-1 see them (:mod:`facebench.evaluate.correlations`, :mod:`facebench.evaluate.rowstats`), and a
vector whose values are all tied is *unresolved* (constant: no statistic; FaCe's zoo step drops
such a term).
"""
from __future__ import annotations

import numpy as np

#: Units in the last place within which two values are tied (see the module docstring).
TIE_ULPS = 1024


def tie_floor(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The largest difference at which ``a`` and ``b`` (elementwise) still count as tied."""
    return TIE_ULPS * np.spacing(np.maximum(np.abs(a), np.abs(b)))


def snap_ties(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``x`` with each run of tied neighbours (sorted along ``axis``) replaced by the run's smallest value.

    Float64, same shape; NaN stays NaN. Values that differ beyond the floor keep their order.
    """
    x = np.asarray(x, dtype=np.float64)
    moved = np.moveaxis(x, axis, -1)
    order = np.argsort(moved, axis=-1, kind="stable")
    s = np.take_along_axis(moved, order, axis=-1)
    if s.shape[-1] < 2:
        return x.copy()
    with np.errstate(invalid="ignore"):
        tied = np.diff(s, axis=-1) <= tie_floor(s[..., 1:], s[..., :-1])
    start = np.concatenate([np.ones(s.shape[:-1] + (1,), dtype=bool), ~tied], axis=-1)
    idx = np.where(start, np.arange(s.shape[-1]), 0)
    first = np.maximum.accumulate(idx, axis=-1)  # index of each value's run start
    snapped_sorted = np.take_along_axis(s, first, axis=-1)
    out = np.empty_like(moved)
    np.put_along_axis(out, order, snapped_sorted, axis=-1)
    return np.moveaxis(out, -1, axis)


def is_unresolved(x: np.ndarray, axis: int | None = None) -> np.ndarray | bool:
    """True where :func:`snap_ties` leaves one value (empty or one value: constant too)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return True
    if axis is None:
        return bool(np.ptp(snap_ties(x.ravel())) == 0)
    return np.ptp(snap_ties(x, axis=axis), axis=axis) == 0
