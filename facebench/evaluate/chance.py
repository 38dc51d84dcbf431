"""What a ranking that knows nothing scores: the tau_w of random orderings of the zoo against its ground truth.

For one target with ground truth ``y`` (n models), ``draws`` random permutations of the models
(``default_rng(seed)``) are scored as if they were a metric's ranking; their tau_w values give the
band a metric must leave to show that it ranks anything (its mean is about 0; tau_w weighs the
top of the ranking, so the band is not symmetric). A ground truth that is constant gives no band.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .rowstats import weighted_tau_rows

DEFAULT_DRAWS = 2000
DEFAULT_SEED = 0


@dataclass(frozen=True)
class ChanceBand:
    mean: float
    sd: float
    low: float  # 2.5th percentile
    high: float  # 97.5th percentile


def random_ranking_band(truth: np.ndarray, *, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED) -> ChanceBand:
    """tau_w of ``draws`` random orderings against ``truth``: mean, sd and central 95% band."""
    y = np.asarray(truth, dtype=np.float64)
    if y.size < 2:
        return ChanceBand(math.nan, math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    x = np.argsort(rng.random((draws, y.size)), axis=1).astype(np.float64)  # random permutations as scores
    taus = weighted_tau_rows(x, np.broadcast_to(y, x.shape))
    taus = taus[np.isfinite(taus)]
    if taus.size < 2:
        return ChanceBand(math.nan, math.nan, math.nan, math.nan)
    low, high = np.quantile(taus, [0.025, 0.975])
    return ChanceBand(float(taus.mean()), float(taus.std(ddof=1)), float(low), float(high))
