"""How well a metric's scores rank the models' fine-tuned results (one zoo, one target).

* ``tau_w``: weighted Kendall tau, ``scipy.stats.weightedtau(scores, truth)`` with scipy's
  defaults (hyperbolic weigher 1/(r+1), additive, rank=True: the mean of the weighted taus
  ranked by scores and by the ground truth). This is the convention of the LogME / SFDA / FaCe
  line of work (You et al., ICML 2021), which gives the top of the ranking the most weight.
* ``pearson``, ``spearman``, ``kendall``: ``scipy.stats`` correlations.
* ``top1_rel``: ground truth of the model the metric ranks first / the best ground truth in the
  zoo. When several models tie for the top score, the mean of their ratios: the expected value
  when the tie is broken at random, never the first name.
* Decisions a practitioner reads: ``regret1`` (regret@1: the best ground truth in the zoo minus
  that of the metric's top pick, ties broken at random; 0 is perfect, in the ground truth's unit)
  and ``top3_hit`` (the probability that a best model, by ground truth, is among the metric's
  three top-scored models, ties broken at random; a random ranking of n models hits 3/n).

Scores and ground truth are compared at their own resolution: values tied within float64
rounding (:mod:`facebench.resolution`) are merged first. Every statistic is undefined (NaN, with a
reason from :func:`undefined_reason`) when the scores are then constant over the zoo: such a
metric ranks nothing, and a correlation of its rounding noise would be a number without meaning.
The correlations are undefined too when the ground truth is constant, or with fewer than 2 models.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
from scipy import stats

from ..resolution import is_unresolved, snap_ties
from .rowstats import top3_hit_rows

STATISTICS = ("tau_w", "pearson", "spearman", "kendall", "top1_rel", "regret1", "top3_hit")
LOWER_IS_BETTER = frozenset({"regret1"})


def _common(scores: Mapping[str, float], truth: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    models = sorted(set(scores) & set(truth))
    return (np.array([float(scores[m]) for m in models], dtype=np.float64),
            np.array([float(truth[m]) for m in models], dtype=np.float64))


def undefined_reason(scores: Mapping[str, float], truth: Mapping[str, float]) -> str | None:
    """Why the statistics of these scores against this ground truth are undefined (None if defined)."""
    x, y = _common(scores, truth)
    if x.size < 2:
        return f"{x.size} model(s) with both a score and a ground truth (2 needed)"
    if is_unresolved(x):
        return f"scores constant over the zoo up to float64 rounding ({x.min():.17g} .. {x.max():.17g})"
    if is_unresolved(y):
        return "ground truth constant over the zoo"
    return None


def correlations(scores: Mapping[str, float], truth: Mapping[str, float]) -> dict[str, float]:
    """All statistics over the models present in both mappings (NaN where undefined)."""
    x, y = _common(scores, truth)
    out = {k: math.nan for k in STATISTICS}
    if x.size < 2 or is_unresolved(x):
        return out
    x, y = snap_ties(x), snap_ties(y)
    best = y.max()
    top = float(y[x == x.max()].mean())  # the models tied for the top score (x is snapped)
    out["top1_rel"] = float(top / best) if best != 0 else math.nan
    out["regret1"] = float(best - top)
    if is_unresolved(y):
        return out
    out["top3_hit"] = float(top3_hit_rows(x, y)[0])
    out["tau_w"] = float(stats.weightedtau(x, y).statistic)
    out["pearson"] = float(stats.pearsonr(x, y).statistic)
    out["spearman"] = float(stats.spearmanr(x, y).statistic)
    out["kendall"] = float(stats.kendalltau(x, y).statistic)
    return out
