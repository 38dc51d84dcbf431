"""Row-wise (vectorised) correlation statistics: one value per row of two (B, n) arrays.

Used for many resamples at once by the leaderboard's bootstrap intervals, by the ground-truth
reliability and noise ceiling (:mod:`facebench.evaluate.reliability`) and by the paired significance
bootstrap (:mod:`facebench.evaluate.significance`). O(B n^2) in numpy, with exactly the definitions scipy
uses (checked against scipy in the tests):

* weighted tau (``scipy.stats.weightedtau`` defaults: hyperbolic weigher w(r) = 1/(r+1), additive,
  rank=True): tau = (T(w_x) + T(w_y)) / 2 with
  T(w) = sum_ij W_ij s^x_ij s^y_ij / sqrt(sum_ij W_ij |s^x_ij| * sum_ij W_ij |s^y_ij|),
  W_ij = w_i + w_j, s^x_ij = sign(x_i - x_j), and w_x the weights of the ranks of the models
  sorted by decreasing (x, then y) (w_y: by decreasing (y, then x)); each T is clipped to [-1, 1];
* Kendall tau-b: the same with W = 1; Spearman: Pearson of average ranks; top1_rel: the mean y
  of the models whose x ties for the maximum divided by max y; regret1 and top3_hit: the decision
  statistics of :mod:`facebench.evaluate.correlations`.

Values are compared at their own resolution: ties within float64 rounding are merged first
(:func:`facebench.resolution.snap_ties`, in x and in y). A row whose x or y is then constant gives
NaN, exactly as :func:`facebench.evaluate.correlations.correlations` gives no value.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from ..resolution import is_unresolved, snap_ties


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


def _rows(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y as float64 (B, n) rows with ties at float64 resolution merged."""
    return snap_ties(np.atleast_2d(x).astype(float), axis=1), snap_ties(np.atleast_2d(y).astype(float), axis=1)


def weighted_tau_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise ``scipy.stats.weightedtau(x[b], y[b]).statistic`` (defaults); NaN if x or y constant."""
    x, y = _rows(x, y)
    sx, sy = _signs(x), _signs(y)
    tau = 0.5 * (_tau_from_signs(sx, sy, _hyperbolic_rank_weights(x, y))
                 + _tau_from_signs(sx, sy, _hyperbolic_rank_weights(y, x)))
    return np.where(_constant(x) | _constant(y), np.nan, tau)


def kendall_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise Kendall tau-b."""
    x, y = _rows(x, y)
    tau = _tau_from_signs(_signs(x), _signs(y), None)
    return np.where(_constant(x) | _constant(y), np.nan, tau)


def pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x, y = _rows(x, y)
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=1) / np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    return np.where(_constant(x) | _constant(y), np.nan, np.clip(r, -1.0, 1.0))


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x, y = _rows(x, y)
    r = pearson_rows(rankdata(x, axis=1), rankdata(y, axis=1))
    return np.where(_constant(x) | _constant(y), np.nan, r)


def _top_pick_truth(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean y of the models whose (snapped) x ties for the maximum: the top pick's expected result."""
    tied = x == x.max(axis=1, keepdims=True)
    return (y * tied).sum(axis=1) / tied.sum(axis=1)


def top1_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x, y = _rows(x, y)
    best = y.max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((best != 0) & ~_constant(x), _top_pick_truth(x, y) / best, np.nan)


def regret1_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Best y minus the expected y of the metric's top pick (ties broken at random): 0 is perfect."""
    x, y = _rows(x, y)
    return np.where(~_constant(x), y.max(axis=1) - _top_pick_truth(x, y), np.nan)


def top3_hit_rows(x: np.ndarray, y: np.ndarray, k: int = 3) -> np.ndarray:
    """Probability that a best model (highest y) is among the metric's top k, ties in x broken at random."""
    x, y = _rows(x, y)
    above = (x[:, None, :] > x[:, :, None]).sum(axis=2)  # (B, n): models scored strictly higher
    level = (x[:, None, :] == x[:, :, None]).sum(axis=2)  # models tied with it, itself included
    p_in = np.clip((k - above) / level, 0.0, 1.0)
    best = y == y.max(axis=1, keepdims=True)
    hit = np.where(best, p_in, 0.0).max(axis=1)
    return np.where(~_constant(x) & ~_constant(y), hit, np.nan)


def _constant(v: np.ndarray) -> np.ndarray:
    return is_unresolved(v, axis=1)


ROW_STATISTICS = {
    "tau_w": weighted_tau_rows,
    "pearson": pearson_rows,
    "spearman": spearman_rows,
    "kendall": kendall_rows,
    "top1_rel": top1_rows,
    "regret1": regret1_rows,
    "top3_hit": top3_hit_rows,
}
