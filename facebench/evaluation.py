"""How well a metric's scores rank the models' fine-tuned results (one zoo, one target).

* ``tau_w``: weighted Kendall tau, ``scipy.stats.weightedtau(scores, accuracies)`` with scipy's
  defaults (hyperbolic weigher 1/(r+1), additive, rank=True: the mean of the weighted taus
  ranked by scores and by accuracies). This is the convention of the LogME / SFDA / FaCe line of
  work (You et al., ICML 2021), which gives the top of the ranking the most weight.
* ``pearson``, ``spearman``, ``kendall``: ``scipy.stats`` correlations.
* ``top1_rel``: accuracy of the model the metric ranks first / best accuracy in the zoo (ties
  in the score: the first such model in sorted model order).
A correlation that is undefined (fewer than 2 models, constant scores or accuracies) is NaN.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
from scipy import stats

STATISTICS = ("tau_w", "pearson", "spearman", "kendall", "top1_rel")


def correlations(scores: Mapping[str, float], accuracies: Mapping[str, float]) -> dict[str, float]:
    """All statistics over the models present in both mappings."""
    models = sorted(set(scores) & set(accuracies))
    nan = {k: math.nan for k in STATISTICS}
    if len(models) < 2:
        if len(models) == 1:
            nan["top1_rel"] = 1.0
        return nan
    x = np.array([float(scores[m]) for m in models])
    y = np.array([float(accuracies[m]) for m in models])
    best = y.max()
    top = int(np.argmax(x))
    out = dict(nan)
    out["top1_rel"] = float(y[top] / best) if best != 0 else math.nan
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return out
    out["tau_w"] = float(stats.weightedtau(x, y).statistic)
    out["pearson"] = float(stats.pearsonr(x, y).statistic)
    out["spearman"] = float(stats.spearmanr(x, y).statistic)
    out["kendall"] = float(stats.kendalltau(x, y).statistic)
    return out
