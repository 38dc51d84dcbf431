"""ETran's energy score (Gholami, Akbari, Wang, Zhang; "ETran: energy-based transferability
estimation", ICCV 2023).

An energy-based model reads a feature vector h_i (d values) as logits; its free energy is
E(h_i) = -T ln sum_j exp(h_ij / T), and -E is high for inputs the model finds "in distribution".
ETran's energy score averages -E over a tail of the target samples:

    S_en = (1/|S|) sum_{i in S} T ln sum_j exp(h_ij / T),

S the ``percent`` % of the samples with the lowest (``tail="bottom"``) or highest (``"top"``)
-E, at least one sample; T = 1. The defaults are those of the authors' evaluation script
(``Energy_Score(X_features, 0.5, 'bot')``: the lowest 0.5 %). Higher is better. Only the energy
term of ETran is computed here, not its LDA and spectral-reconstruction terms.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from ..bundle import FeatureBundle
from .base import Metric


def energy_score(features: np.ndarray, percent: float = 0.5, tail: str = "bottom", temperature: float = 1.0) -> float:
    """Mean of T logsumexp(h_i / T) over the ``percent`` % lowest (or highest) samples (at least one)."""
    neg_energy = temperature * logsumexp(features / temperature, axis=1)
    count = max(1, math.floor(percent * features.shape[0] / 100.0 + 1e-9))
    ordered = np.sort(neg_energy)
    chosen = ordered[:count] if tail == "bottom" else ordered[-count:]
    return float(chosen.mean())


class EnergyScore(Metric):
    """ETran energy score: mean free-energy score T logsumexp(h/T) of a tail of the samples (Gholami et al., ICCV 2023).

    ``percent`` of the samples (0.5), from the ``tail`` "bottom" or "top", ``temperature`` T (1).
    Labels are not used. Needs features only.
    """

    name = "etran-energy"
    summary = "ETran energy score: mean logsumexp of the features over the lowest 0.5% of samples (Gholami et al. 2023)"
    source = "Gholami et al., ETran: energy-based transferability estimation, ICCV 2023 (energy score S_en)"
    reference_code = "mgholamikn/ETran metrics.py Energy_Score + evaluate_metric.py @ d4551ed"
    departures = (
        "at least one sample is kept: the code's int(10 percent) n // 1000 samples is none when n < 200 "
        "(a mean of nothing)",
        "only ETran's energy term; its LDA and spectral-reconstruction terms are not part of this metric",
    )

    def __init__(self, percent: float = 0.5, tail: str = "bottom", temperature: float = 1.0) -> None:
        if tail not in ("bottom", "top"):
            raise ValueError(f"tail must be 'bottom' or 'top', got {tail!r}")
        if not 0.0 < percent <= 100.0:
            raise ValueError(f"percent must be in (0, 100], got {percent!r}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        self.percent, self.tail, self.temperature = float(percent), tail, float(temperature)

    def compute(self, bundle: FeatureBundle) -> float:
        return energy_score(bundle.features, self.percent, self.tail, self.temperature)
