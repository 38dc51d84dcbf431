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

Several statistics of the same rows share their work: :class:`Rows` holds one side snapped, with
what the statistics derive from it (its constant rows, pairwise signs, ranks, centred values),
each computed once on first use; :func:`row_statistics` computes any set of the statistics from
two of them (the bootstrap of every metric against one ground truth reuses the ground truth's
:class:`Rows`). The values are those of the one-statistic functions, bit for bit (tested).
"""
from __future__ import annotations

from functools import cached_property
from typing import Iterable

import numpy as np
from scipy.stats import rankdata

from ..resolution import is_unresolved, snap_ties


def _signs(v: np.ndarray) -> np.ndarray:
    return np.sign(v[:, :, None] - v[:, None, :])


def _tau_from_signs(sx: np.ndarray, sy: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    # Written as it is on purpose: the memory layout of the temporaries (numpy reuses a temporary's
    # buffer in place; a broadcast input gives rows that are not C-ordered) decides the summation
    # order, so another grouping, or a cached np.abs(sx), can move the last bit.
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


class Rows:
    """One side of the statistics (B rows of n values), snapped at float64 resolution, with what the
    statistics derive from it, each computed on first use and then shared.

    ``Rows(v)``: ``v`` is snapped (:func:`facebench.resolution.snap_ties` along each row); the
    statistics of two :class:`Rows` equal those of the one-statistic functions of the raw arrays.
    """

    def __init__(self, v: np.ndarray, *, snapped: bool = False) -> None:
        v = np.atleast_2d(v).astype(float)
        self.v = v if snapped else snap_ties(v, axis=1)

    @cached_property
    def constant(self) -> np.ndarray:
        """Rows with a single value after snapping (no statistic)."""
        return _constant(self.v)

    @cached_property
    def signs(self) -> np.ndarray:
        """(B, n, n) sign(v_i - v_j)."""
        return _signs(self.v)

    @cached_property
    def centered(self) -> np.ndarray:
        return self.v - self.v.mean(axis=1, keepdims=True)

    @cached_property
    def sum_squares(self) -> np.ndarray:
        return (self.centered**2).sum(axis=1)

    @cached_property
    def ranks(self) -> "Rows":
        """Average ranks per row. Distinct ranks differ by 1/2 at least, far beyond the tie floor,
        so snapping them would change nothing: they are taken as snapped."""
        return Rows(rankdata(self.v, axis=1), snapped=True)

    @cached_property
    def max(self) -> np.ndarray:
        return self.v.max(axis=1)

    @cached_property
    def is_max(self) -> np.ndarray:
        """(B, n): the values that tie for the row's maximum."""
        return self.v == self.v.max(axis=1, keepdims=True)


def _as_rows(v: "np.ndarray | Rows") -> Rows:
    return v if isinstance(v, Rows) else Rows(v)


def _pearson(x: Rows, y: Rows) -> np.ndarray:
    """Pearson per row, unmasked (clipped to [-1, 1])."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (x.centered * y.centered).sum(axis=1) / np.sqrt(x.sum_squares * y.sum_squares)
    return np.clip(r, -1.0, 1.0)


def _top_pick_truth(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean y of the models whose (snapped) x ties for the maximum: the top pick's expected result."""
    tied = x == x.max(axis=1, keepdims=True)
    return (y * tied).sum(axis=1) / tied.sum(axis=1)


class _Pair:
    """Two :class:`Rows` and what several statistics of the pair share."""

    def __init__(self, x: Rows, y: Rows) -> None:
        self.x, self.y = x, y

    @cached_property
    def either_constant(self) -> np.ndarray:
        return self.x.constant | self.y.constant

    @cached_property
    def top_pick(self) -> np.ndarray:
        return _top_pick_truth(self.x.v, self.y.v)

    def _tau(self, w: np.ndarray | None) -> np.ndarray:
        return _tau_from_signs(self.x.signs, self.y.signs, w)

    def tau_w(self) -> np.ndarray:
        x, y = self.x.v, self.y.v
        tau = 0.5 * (self._tau(_hyperbolic_rank_weights(x, y)) + self._tau(_hyperbolic_rank_weights(y, x)))
        return np.where(self.either_constant, np.nan, tau)

    def kendall(self) -> np.ndarray:
        return np.where(self.either_constant, np.nan, self._tau(None))

    def pearson(self) -> np.ndarray:
        return np.where(self.either_constant, np.nan, _pearson(self.x, self.y))

    def spearman(self) -> np.ndarray:
        # Pearson of the ranks; ranks are constant only where the values are, so the values' mask suffices
        return np.where(self.either_constant, np.nan, _pearson(self.x.ranks, self.y.ranks))

    def top1_rel(self) -> np.ndarray:
        best = self.y.max
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where((best != 0) & ~self.x.constant, self.top_pick / best, np.nan)

    def regret1(self) -> np.ndarray:
        return np.where(~self.x.constant, self.y.max - self.top_pick, np.nan)

    def top3_hit(self, k: int = 3) -> np.ndarray:
        x = self.x.v
        above = (x[:, None, :] > x[:, :, None]).sum(axis=2)  # (B, n): models scored strictly higher
        level = (x[:, None, :] == x[:, :, None]).sum(axis=2)  # models tied with it, itself included
        p_in = np.clip((k - above) / level, 0.0, 1.0)
        hit = np.where(self.y.is_max, p_in, 0.0).max(axis=1)
        return np.where(~self.x.constant & ~self.y.constant, hit, np.nan)


def row_statistics(x: "np.ndarray | Rows", y: "np.ndarray | Rows",
                   statistics: Iterable[str] = ("tau_w", "pearson", "spearman", "kendall", "top1_rel", "regret1",
                                                "top3_hit")) -> dict[str, np.ndarray]:
    """Several statistics of the same rows at once (their shared work done once): ``{name: (B,) values}``,
    equal to ``ROW_STATISTICS[name](x, y)``. ``x``/``y``: arrays, or :class:`Rows` to share one side's
    work across calls."""
    pair = _Pair(_as_rows(x), _as_rows(y))
    return {stat: getattr(pair, stat)() for stat in statistics}


def weighted_tau_rows(x: "np.ndarray | Rows", y: "np.ndarray | Rows") -> np.ndarray:
    """Row-wise ``scipy.stats.weightedtau(x[b], y[b]).statistic`` (defaults); NaN if x or y constant."""
    return _Pair(_as_rows(x), _as_rows(y)).tau_w()


def kendall_rows(x: "np.ndarray | Rows", y: "np.ndarray | Rows") -> np.ndarray:
    """Row-wise Kendall tau-b."""
    return _Pair(_as_rows(x), _as_rows(y)).kendall()


def pearson_rows(x: "np.ndarray | Rows", y: "np.ndarray | Rows") -> np.ndarray:
    return _Pair(_as_rows(x), _as_rows(y)).pearson()


def spearman_rows(x: "np.ndarray | Rows", y: "np.ndarray | Rows") -> np.ndarray:
    return _Pair(_as_rows(x), _as_rows(y)).spearman()


def top1_rows(x: "np.ndarray | Rows", y: "np.ndarray | Rows") -> np.ndarray:
    return _Pair(_as_rows(x), _as_rows(y)).top1_rel()


def regret1_rows(x: "np.ndarray | Rows", y: "np.ndarray | Rows") -> np.ndarray:
    """Best y minus the expected y of the metric's top pick (ties broken at random): 0 is perfect."""
    return _Pair(_as_rows(x), _as_rows(y)).regret1()


def top3_hit_rows(x: "np.ndarray | Rows", y: "np.ndarray | Rows", k: int = 3) -> np.ndarray:
    """Probability that a best model (highest y) is among the metric's top k, ties in x broken at random."""
    return _Pair(_as_rows(x), _as_rows(y)).top3_hit(k)


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
