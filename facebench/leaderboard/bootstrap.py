"""Bootstrap intervals of the correlation statistics over the models of a zoo.

A zoo has few models (6 to 15), so a metric's tau_w on one target is uncertain. We resample the
models with replacement (``n_boot`` resamples from ``numpy.random.default_rng(seed)``; the same
resamples for every metric of a zoo of the same size, so intervals are paired), recompute each
statistic of :mod:`facebench.evaluation` on every resample, skip degenerate resamples (fewer than
two distinct models, or a statistic that is undefined because the scores or the accuracies are
constant), and report the percentile interval ``[q_(1-level)/2, q_(1+level)/2]``. With fewer than
``min_valid`` x ``n_boot`` usable resamples the interval is NaN.

The statistics are computed for all resamples at once, O(B n^2) in numpy, with exactly the
definitions scipy uses (checked against scipy in the tests):

* weighted tau (``scipy.stats.weightedtau`` defaults: hyperbolic weigher w(r) = 1/(r+1), additive,
  rank=True): tau = (T(w_x) + T(w_y)) / 2 with
  T(w) = sum_ij W_ij s^x_ij s^y_ij / sqrt(sum_ij W_ij |s^x_ij| * sum_ij W_ij |s^y_ij|),
  W_ij = w_i + w_j, s^x_ij = sign(x_i - x_j), and w_x the weights of the ranks of the models
  sorted by decreasing (x, then y) (w_y: by decreasing (y, then x)); each T is clipped to [-1, 1];
* Kendall tau-b: the same with W = 1; Spearman: Pearson of average ranks; top1_rel: the mean y
  of the models whose x ties for the maximum (within float64 resolution) divided by max y, as in
  :func:`facebench.evaluation.correlations`.

A resample whose scores are constant up to float64 rounding (:mod:`facebench.resolution`) gives
no value of any statistic, exactly as :func:`facebench.evaluation.correlations` gives none.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from ..resolution import is_unresolved, resolution_floor

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
def bootstrap_indices(n: int, n_boot: int = DEFAULT_N_BOOT, seed: int = DEFAULT_SEED) -> np.ndarray:
    """(n_boot, n) model indices, each row sorted (the statistics depend on the multiset only)."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.integers(0, n, size=(n_boot, n)), axis=1)
    idx.setflags(write=False)
    return idx


def _signs(v: np.ndarray) -> np.ndarray:
    return np.sign(v[:, :, None] - v[:, None, :])


def _tau_from_signs(sx: np.ndarray, sy: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    if w is None:
        big_w = np.ones_like(sx)
    else:
        big_w = w[:, :, None] + w[:, None, :]
    num = (big_w * sx * sy).sum(axis=(1, 2))
    den = np.sqrt((big_w * np.abs(sx)).sum(axis=(1, 2))) * np.sqrt((big_w * np.abs(sy)).sum(axis=(1, 2)))
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = num / den
    return np.clip(tau, -1.0, 1.0)


def _hyperbolic_rank_weights(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """w = 1/(rank+1), rank 0 for the largest (primary, then secondary), as scipy ranks them."""
    b, n = primary.shape
    perm = np.lexsort((secondary, primary), axis=-1)[:, ::-1]  # decreasing order
    rank = np.empty_like(perm)
    np.put_along_axis(rank, perm, np.broadcast_to(np.arange(n), (b, n)), axis=1)
    return 1.0 / (rank + 1.0)


def weighted_tau_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise ``scipy.stats.weightedtau(x[b], y[b]).statistic`` (defaults); NaN if x or y constant."""
    x, y = np.atleast_2d(x).astype(float), np.atleast_2d(y).astype(float)
    sx, sy = _signs(x), _signs(y)
    tau = 0.5 * (_tau_from_signs(sx, sy, _hyperbolic_rank_weights(x, y))
                 + _tau_from_signs(sx, sy, _hyperbolic_rank_weights(y, x)))
    return np.where(_constant(x) | _constant(y), np.nan, tau)


def kendall_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise Kendall tau-b."""
    x, y = np.atleast_2d(x).astype(float), np.atleast_2d(y).astype(float)
    tau = _tau_from_signs(_signs(x), _signs(y), None)
    return np.where(_constant(x) | _constant(y), np.nan, tau)


def pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x, y = np.atleast_2d(x).astype(float), np.atleast_2d(y).astype(float)
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=1) / np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    return np.where(_constant(x) | _constant(y), np.nan, np.clip(r, -1.0, 1.0))


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x, y = np.atleast_2d(x).astype(float), np.atleast_2d(y).astype(float)
    r = pearson_rows(rankdata(x, axis=1), rankdata(y, axis=1))
    return np.where(_constant(x) | _constant(y), np.nan, r)


def top1_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x, y = np.atleast_2d(x).astype(float), np.atleast_2d(y).astype(float)
    tied = x >= (x.max(axis=1) - resolution_floor(x, axis=1))[:, None]
    top = (y * tied).sum(axis=1) / tied.sum(axis=1)
    best = y.max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((best != 0) & ~_constant(x), top / best, np.nan)


def _constant(v: np.ndarray) -> np.ndarray:
    return is_unresolved(v, axis=1)


ROW_STATISTICS = {
    "tau_w": weighted_tau_rows,
    "pearson": pearson_rows,
    "spearman": spearman_rows,
    "kendall": kendall_rows,
    "top1_rel": top1_rows,
}


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
    xb, yb = x[idx], y[idx]
    distinct = (np.diff(idx, axis=1) != 0).sum(axis=1) + 1 >= 2
    alpha = (1.0 - level) / 2.0
    out = {}
    for stat in statistics:
        values = ROW_STATISTICS[stat](xb, yb)
        ok = distinct & np.isfinite(values)
        n_valid = int(ok.sum())
        if n_valid < max(1, math.ceil(min_valid * n_boot)):
            out[stat] = Interval.nan(n_valid)
            continue
        lo, hi = np.quantile(values[ok], [alpha, 1.0 - alpha])
        out[stat] = Interval(float(lo), float(hi), n_valid)
    return out
