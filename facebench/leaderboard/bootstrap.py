"""Bootstrap intervals of the correlation statistics over the models of a zoo.

A zoo has few models (6 to 15), so a metric's tau_w on one target is uncertain. We resample the
models with replacement (``n_boot`` resamples from ``numpy.random.default_rng(seed)``; the same
resamples for every metric of a zoo of the same size, so intervals are paired), recompute each
statistic of :mod:`facebench.evaluate.correlations` on every resample, skip degenerate resamples (fewer than
two distinct models, or a statistic that is undefined because the scores or the accuracies are
constant), and report the percentile interval ``[q_(1-level)/2, q_(1+level)/2]``. With fewer than
``min_valid`` x ``n_boot`` usable resamples the interval is NaN.

The statistics are computed for all resamples at once by :mod:`facebench.evaluate.rowstats` (the
same definitions as scipy's), all of them from one snapped copy of each side; the ground truth's
side (the same resampled accuracies for every metric of a target) is prepared once and reused.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..evaluate.rowstats import ROW_STATISTICS, Rows, row_statistics

DEFAULT_N_BOOT = 1000
DEFAULT_SEED = 0
DEFAULT_LEVEL = 0.95
MIN_VALID_FRACTION = 0.5


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    n_valid: int  # resamples that were not degenerate

    @classmethod
    def nan(cls, n_valid: int = 0) -> "Interval":
        return cls(math.nan, math.nan, n_valid)


@functools.lru_cache(maxsize=64)
def _distinct(n: int, n_boot: int, seed: int) -> np.ndarray:
    """Resamples with at least two distinct models."""
    idx = bootstrap_indices(n, n_boot, seed)
    distinct = (np.diff(idx, axis=1) != 0).sum(axis=1) + 1 >= 2
    distinct.setflags(write=False)
    return distinct


@functools.lru_cache(maxsize=4)
def _resampled(values: bytes, n: int, n_boot: int, seed: int) -> Rows:
    """The resampled rows of one side (keyed by its bytes: the ground truth of a target is the same
    for every metric scored on all its models; a board asks for each target's truths in turn)."""
    return Rows(np.frombuffer(values, dtype=np.float64)[bootstrap_indices(n, n_boot, seed)])


@functools.lru_cache(maxsize=64)
def bootstrap_indices(n: int, n_boot: int = DEFAULT_N_BOOT, seed: int = DEFAULT_SEED) -> np.ndarray:
    """(n_boot, n) model indices, each row sorted (the statistics depend on the multiset only)."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.integers(0, n, size=(n_boot, n)), axis=1)
    idx.setflags(write=False)
    return idx


def bootstrap_intervals(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
    statistics: tuple[str, ...] = tuple(ROW_STATISTICS),
    min_valid: float = MIN_VALID_FRACTION,
) -> dict[str, Interval]:
    """Percentile bootstrap interval of each statistic of scores ``x`` vs accuracies ``y`` (per model)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = x.size
    if n < 2 or n_boot <= 0:
        return {s: Interval.nan() for s in statistics}
    idx = bootstrap_indices(n, n_boot, seed)
    distinct = _distinct(n, n_boot, seed)
    yb = _resampled(np.ascontiguousarray(y).tobytes(), n, n_boot, seed)
    alpha = (1.0 - level) / 2.0
    out = {}
    for stat, values in row_statistics(Rows(x[idx]), yb, statistics).items():
        ok = distinct & np.isfinite(values)
        n_valid = int(ok.sum())
        if n_valid < max(1, math.ceil(min_valid * n_boot)):
            out[stat] = Interval.nan(n_valid)
            continue
        lo, hi = np.quantile(values[ok], [alpha, 1.0 - alpha])
        out[stat] = Interval(float(lo), float(hi), n_valid)
    return out
