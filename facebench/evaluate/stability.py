"""How much does a metric's tau_w depend on which models happen to be in the zoo?

Agostinelli et al. (ECCV 2022, "How stable are transferability metrics evaluations?") found that
small changes of the zoo flip which metric wins. For one target, a metric's tau_w is recomputed
on every subset of the zoo that leaves ``drop`` models out (all ``C(n, drop)`` subsets when there
are at most ``max_subsets`` of them, else ``max_subsets`` distinct random ones from
``default_rng(seed)``), against the same mean ground truth; the spread of those values (standard
deviation, lowest and highest) says how far the verdict on this target rests on single models.
Subsets on which the scores or the ground truth are constant give no value and are left out.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .rowstats import weighted_tau_rows

DEFAULT_DROP = 2
DEFAULT_MAX_SUBSETS = 200
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Stability:
    """tau_w over the zoo subsets of one metric on one target."""

    n_subsets: int
    sd: float
    low: float
    high: float


def subsets(n: int, drop: int = DEFAULT_DROP, *, max_subsets: int = DEFAULT_MAX_SUBSETS,
            seed: int = DEFAULT_SEED) -> np.ndarray:
    """(k, n - drop) sorted model indices of the subsets (none when fewer than 3 models would be left)."""
    keep = n - drop
    if keep < 3 or drop < 1:
        return np.zeros((0, max(keep, 0)), dtype=int)
    if math.comb(n, drop) <= max_subsets:
        return np.array([[i for i in range(n) if i not in out] for out in itertools.combinations(range(n), drop)])
    rng = np.random.default_rng(seed)
    seen: set[tuple[int, ...]] = set()
    while len(seen) < max_subsets:
        seen.add(tuple(sorted(rng.choice(n, size=keep, replace=False).tolist())))
    return np.array(sorted(seen))


def zoo_stability(scores: np.ndarray, truth: np.ndarray, drop: int = DEFAULT_DROP, *,
                  max_subsets: int = DEFAULT_MAX_SUBSETS, seed: int = DEFAULT_SEED) -> Stability:
    """The spread of tau_w(scores, truth) over the subsets of :func:`subsets`."""
    x, y = np.asarray(scores, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    idx = subsets(x.size, drop, max_subsets=max_subsets, seed=seed)
    if idx.size == 0:
        return Stability(0, math.nan, math.nan, math.nan)
    taus = weighted_tau_rows(x[idx], y[idx])
    taus = taus[np.isfinite(taus)]
    if taus.size == 0:
        return Stability(0, math.nan, math.nan, math.nan)
    sd = float(taus.std(ddof=1)) if taus.size > 1 else math.nan
    return Stability(int(taus.size), sd, float(taus.min()), float(taus.max()))
