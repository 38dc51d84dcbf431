"""How far can a ground truth be trusted? Split-half reliability and the noise ceiling of one target.

The ground truth of a target is, per model i, the mean over seeds of a fine-tuned result
(``ybar_i = mean_k Y_ik``, ``Y`` an (n models x S seeds) matrix); for accuracy it is also the
mean over the N test samples of a per-sample correctness ``C_ikt`` in {0, 1}, when the runner
stored the test predictions (:mod:`facebench.predictions`). Both averages are noisy: another set
of seeds, or another test set of the same size, would rank the models differently. Everything
below is float64 and deterministic given ``seed`` (one ``numpy.random.default_rng`` stream per
quantity, ``default_rng([seed, k])``, so adding a quantity never changes another).

Agreement of two rankings is measured with the statistics of :mod:`facebench.evaluate.correlations`
(tau_w: ``scipy.stats.weightedtau`` defaults, and Kendall tau-b), computed for many draws at
once by :mod:`facebench.evaluate.rowstats`; a draw where one side is constant up to float64 rounding
gives no value (:mod:`facebench.resolution`) and is left out of the mean.

**Split-half reliability over seeds** (``seeds``). With ``h = floor(S / 2)`` (S >= 2), a split is
an unordered pair of disjoint seed sets ``A, B`` with ``|A| = |B| = h`` (for odd S one seed sits
out). All such splits are used when there are at most ``max_splits`` of them
(``C(S, h) C(S - h, h) / 2``: 1 for S = 2, 3 for S = 3 or 4, 10 for S = 6), otherwise a seeded
sample of ``max_splits`` random splits. The reliability is the mean over splits of
``tau(mean_{k in A} Y_.k, mean_{k in B} Y_.k)``: the agreement of two independent replications
of the experiment with h seeds each (the test set held fixed, so test-set noise is not in it).
The lowest and highest tau_w over the splits (``seeds_tau_w_low``, ``seeds_tau_w_high``) stand
beside it: how far one replication pair can disagree from another on these very seeds. The
splits share seeds, so this range is not a confidence interval.

**Test-set reliability** (``test``, needs the stored predictions): two independent bootstrap
resamples ``a, b`` of the N test samples (within each class when the true labels are known, as
the test splits are class-balanced; the same resample for every model: paired, because models
err on the same hard images), each model's accuracy ``acc^a_i = (1/N) sum_t m^a_t Cbar_it``
(``m^a``: bootstrap counts, ``Cbar``: correctness averaged over all seeds), and the mean over
``n_draws`` pairs of ``tau(acc^a, acc^b)``. By the plug-in principle this estimates the agreement
of the rankings of *these* fine-tuned networks measured on two independent test sets of size N
(the bootstrap world replaces the population by the test split).

**Reliability of both** (``both``, needs the predictions): seed halves ``A, B`` (cycled through the
splits) evaluated on two disjoint halves of the test set (a random half of each class, drawn
anew for each of ``n_draws`` draws): ``tau(acc^{A, T1}, acc^{B, T2})``. Nothing is shared between
the two sides, so this is the agreement of two independent replications of the experiment with
h seeds and about N / 2 test samples each, every source of noise the stored data show included.
(Resampling the test samples of both seed halves with replacement instead would count the
samples on which two seeds disagree twice, Owen 2007.)

**Full-seed reliability** (``full``): the split-half figure is the agreement of two replications
with h = floor(S / 2) seeds each, so targets with different S are not comparable on it (two 3-seed
runs for S = 6, two 1-seed runs for S = 3), and the board's ground truth, the mean of all S seeds,
is more reliable than either half. With the spread factor c calibrated on the seed split-half
(step 2 below, ``sigma^2 / h`` noise per side), ``full = E tau_w(mu(c) + e_A, mu(c) + e_B)`` with
``e_A, e_B ~ N(0, sigma^2 / S I)``: the agreement of two independent replications of the whole
ground truth with S seeds each, on the same test set (a Spearman-Brown step for tau_w through the
noise model). The board flags on it (``Reliability.value``), so one threshold means the same for
every target; the split-half and test-set figures stand beside it.

**Noise ceiling** (``ceiling``): the tau_w that a perfect metric, one that scores every model by
its noise-free expected result ``mu_i``, would reach in expectation against this noisy ground
truth: ``E tau_w(mu, ybar)`` with ``ybar`` the mean over all S seeds (and, with stored
predictions, the N test samples as a draw from their population). ``mu`` is unknown, and
plugging ``ybar`` in for it overstates its spread (pure noise looks like a ranking), so the
estimator *calibrates* a Gaussian noise model (:class:`NoiseModel`) on the observed reliability:

1. noise of a mean over s seeds on m test samples: ``e ~ N(0, cov(s, m))``, with the seed variance
   ``sigma^2`` pooled over models (mean of the per-model sample variances, ddof = 1: each model
   alone has only S - 1 degrees of freedom) and, with stored predictions, its split into what
   differs between the seeds' networks as a whole and per test sample, plus the covariance
   between models over test samples (see :class:`NoiseModel`);
2. candidate truths ``mu(c) = mean(ybar) + c (ybar - mean(ybar))``, c >= 0 (the observed order, its
   spread scaled by c); ``R(c)`` = the simulated reliability, ``E tau_w(mu(c) + e_A, mu(c) + e_B)``
   with ``e_A, e_B`` independent draws of the noise of one side of the observed reliability
   (``cov(h, N/2)`` for ``both``, ``sigma^2 / h`` for ``seeds``; the same draws for every c, so R is
   a smooth function of c); c solves ``R(c) = r`` by bisection on [0, ``MAX_SPREAD``], r the
   observed reliability (``both`` if available, else ``seeds``); r <= 0 gives c = 0;
3. ``ceiling = E tau_w(mu(c), mu(c) + e)`` with ``e ~ N(0, cov(S, N))`` (``sigma^2 / S`` without
   predictions: the test set's own noise is then left out, and the ceiling is too high by that
   much); the same for Kendall. A zero spread (c = 0) gives ceiling 0: the data show no ranking
   that noise would not explain.

Assumptions: Gaussian noise; seed noise homoscedastic and independent across models (per-model
seed variances from 2-5 seeds are too noisy to use one by one); the true results are the
observed ones up to one common scale of their deviations from the mean. A noiseless ground truth
(sigma = 0 and no test noise) has reliability 1 and ceiling 1 exactly.

How close these estimates come to the truth on synthetic ground truths with a known answer is
measured in ``docs/statistics.md`` (and checked in ``tests/test_reliability.py``).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..resolution import is_unresolved
from .rowstats import row_statistics, weighted_tau_rows

DEFAULT_MAX_SPLITS = 100
DEFAULT_DRAWS = 400  # test-resample / combined draws
DEFAULT_SIM_DRAWS = 500  # noise-model draws for the ceiling
DEFAULT_SEED = 0
DEFAULT_THRESHOLD = 0.8
MAX_SPREAD = 4.0  # largest spread factor c the calibration may pick
BISECTION_STEPS = 16  # c to within MAX_SPREAD / 2^16

# stream ids of default_rng([seed, stream])
_SPLITS, _TEST, _BOTH, _SIM, _FULL = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class GroundTruth:
    """One target's ground truth for one statistic, complete: every model has every seed."""

    models: tuple[str, ...]
    seeds: tuple[int, ...]
    values: np.ndarray  # (n_models, n_seeds) float64
    correct: np.ndarray | None = None  # (n_models, n_seeds, n_test) per-sample correctness, or None
    labels: np.ndarray | None = None  # (n_test,) class of each test sample: stratifies test resamples

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64)
        if values.shape != (len(self.models), len(self.seeds)):
            raise ValueError(f"values has shape {values.shape}, expected (models, seeds) = "
                             f"({len(self.models)}, {len(self.seeds)})")
        if not np.isfinite(values).all():
            raise ValueError("values must be finite (drop incomplete models first)")
        object.__setattr__(self, "values", values)
        if self.correct is not None:
            correct = np.asarray(self.correct, dtype=np.float64)
            if correct.ndim != 3 or correct.shape[:2] != values.shape or correct.shape[2] == 0:
                raise ValueError(f"correct has shape {correct.shape}, expected (models, seeds, n_test) with "
                                 f"(models, seeds) = {values.shape}")
            object.__setattr__(self, "correct", correct)
            if self.labels is not None:
                labels = np.asarray(self.labels).ravel()
                if labels.size != correct.shape[2]:
                    raise ValueError(f"{labels.size} labels for {correct.shape[2]} test samples")
                object.__setattr__(self, "labels", labels)

    @property
    def mean(self) -> np.ndarray:
        return self.values.mean(axis=1)

    @property
    def n_test(self) -> int:
        return 0 if self.correct is None else int(self.correct.shape[2])


@dataclass(frozen=True)
class Reliability:
    """Reliability and noise ceiling of one target's ground truth (NaN where undefined)."""

    n_models: int
    n_seeds: int
    n_test: int  # test samples with stored predictions (0: none)
    n_splits: int
    seeds_tau_w: float
    seeds_kendall: float
    seeds_tau_w_low: float  # lowest tau_w over the seed splits
    seeds_tau_w_high: float  # highest
    test_tau_w: float
    test_kendall: float
    both_tau_w: float
    both_kendall: float
    ceiling_tau_w: float
    ceiling_kendall: float
    seed_sd: float  # pooled seed standard deviation sigma
    spread_factor: float  # calibrated c (NaN when no ceiling)
    full_tau_w: float = math.nan  # two independent replications with all S seeds each (noise model)

    @property
    def value(self) -> float:
        """The reliability the board flags on: the full-seed agreement (tau_w) of the module docstring."""
        return self.full_tau_w

    def flagged(self, threshold: float) -> bool:
        """True when the reliability is below ``threshold`` or undefined."""
        return not (math.isfinite(self.value) and self.value >= threshold)

    def as_dict(self) -> dict[str, float | int | str]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out.update(reliability=self.value)
        return out


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), stream])


def _finite(v: np.ndarray) -> np.ndarray:
    return v[np.isfinite(v)]


def _finite_mean(v: np.ndarray) -> float:
    """Mean of the defined values (NaN left out; NaN if none)."""
    v = _finite(v)
    return float(v.mean()) if v.size else math.nan


def _mean_tau(x: np.ndarray, y: np.ndarray, kendall: bool = True) -> tuple[float, float]:
    """Mean over rows of tau_w and Kendall (NaN rows left out; NaN if none)."""
    if not kendall:
        return _finite_mean(weighted_tau_rows(x, y)), math.nan
    both = row_statistics(x, y, ("tau_w", "kendall"))  # one snap and one set of signs for both
    return _finite_mean(both["tau_w"]), _finite_mean(both["kendall"])


def seed_splits(n_seeds: int, *, max_splits: int = DEFAULT_MAX_SPLITS, seed: int = DEFAULT_SEED) -> np.ndarray:
    """(n_splits, 2, h) seed indices of the balanced split halves, h = n_seeds // 2 (see module doc)."""
    h = n_seeds // 2
    if h < 1:
        return np.zeros((0, 2, 0), dtype=int)
    total = math.comb(n_seeds, h) * math.comb(n_seeds - h, h) // 2
    if total <= max_splits:
        splits = []
        for a in itertools.combinations(range(n_seeds), h):
            rest = [k for k in range(n_seeds) if k not in a]
            splits += [(a, b) for b in itertools.combinations(rest, h) if a < b]
        return np.array(splits, dtype=int).reshape(-1, 2, h)
    perms = np.argsort(_rng(seed, _SPLITS).random((max_splits, n_seeds)), axis=1)
    return np.sort(perms[:, : 2 * h].reshape(max_splits, 2, h), axis=2)


def split_half_taus(values: np.ndarray, splits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """tau_w and Kendall between the two half means of each split, one per split (NaN where undefined)."""
    a = values[:, splits[:, 0, :]].mean(axis=2).T  # (n_splits, models)
    b = values[:, splits[:, 1, :]].mean(axis=2).T
    both = row_statistics(a, b, ("tau_w", "kendall"))
    return both["tau_w"], both["kendall"]


def split_half_reliability(values: np.ndarray, splits: np.ndarray) -> tuple[float, float]:
    """Mean tau_w and Kendall between the half means of every split (values: (models, seeds))."""
    if len(splits) == 0:
        return math.nan, math.nan
    tau_w, kendall = split_half_taus(values, splits)
    return _finite_mean(tau_w), _finite_mean(kendall)


def resample_counts(n: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(draws, n) bootstrap counts (float64): how often each of n items is in a resample of size n.

    Counts, not weights: sums of counts times 0/1 correctness are exact integers in float64, so
    two models with the same number of right answers on a resample tie exactly (a division
    by the same n at the end keeps the tie), whatever the order of summation.
    """
    idx = rng.integers(0, n, size=(draws, n)) + n * np.arange(draws)[:, None]
    return np.bincount(idx.ravel(), minlength=draws * n).reshape(draws, n).astype(np.float64)


def _classes(labels: np.ndarray | None, n_test: int) -> list[np.ndarray]:
    """Indices of the test samples of each class (one block of all samples without labels)."""
    if labels is None:
        return [np.arange(n_test)]
    return [np.flatnonzero(labels == c) for c in np.unique(labels)]


def stratified_resample_counts(labels: np.ndarray | None, n_test: int, draws: int,
                               rng: np.random.Generator) -> np.ndarray:
    """(draws, n_test) bootstrap counts, resampling within each class (its size kept)."""
    out = np.zeros((draws, n_test))
    for members in _classes(labels, n_test):
        out[:, members] = resample_counts(members.size, draws, rng)
    return out


def stratified_halves(labels: np.ndarray | None, n_test: int, draws: int,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint (draws, n_test) 0/1 masks: each class split at random into two halves of
    floor(m / 2) samples (an odd class leaves one sample out)."""
    first, second = np.zeros((draws, n_test)), np.zeros((draws, n_test))
    rows = np.arange(draws)[:, None]
    for members in _classes(labels, n_test):
        half = members.size // 2
        order = members[np.argsort(rng.random((draws, members.size)), axis=1)]
        first[rows, order[:, :half]] = 1.0
        second[rows, order[:, half: 2 * half]] = 1.0
    return first, second


def resampled_test_set_reliability(correct: np.ndarray, labels: np.ndarray | None = None, *,
                                   draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED) -> tuple[float, float]:
    """Mean tau_w and Kendall between accuracies on independent (class-stratified) test resamples."""
    csum = correct.sum(axis=1)  # (models, n_test): right answers over seeds, integer-valued
    rng = _rng(seed, _TEST)
    n_test = csum.shape[1]
    scale = n_test * correct.shape[1]
    wa, wb = (stratified_resample_counts(labels, n_test, draws, rng) for _ in range(2))
    return _mean_tau(wa @ csum.T / scale, wb @ csum.T / scale)


def combined_reliability(correct: np.ndarray, splits: np.ndarray, labels: np.ndarray | None = None, *,
                         draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED) -> tuple[float, float]:
    """Mean tau_w and Kendall between seed halves evaluated on disjoint halves of the test set."""
    if len(splits) == 0:
        return math.nan, math.nan
    rng = _rng(seed, _BOTH)
    n_test = correct.shape[2]
    xs, ys = [], []
    for s, (a, b) in enumerate(splits):
        k = len(range(s, draws, len(splits)))  # draws d with d mod n_splits == s
        if k == 0:
            continue
        ca, cb = correct[:, a, :].sum(axis=1), correct[:, b, :].sum(axis=1)  # integer-valued
        first, second = stratified_halves(labels, n_test, k, rng)
        scale = first.sum(axis=1, keepdims=True) * len(a)
        xs.append(first @ ca.T / scale)
        ys.append(second @ cb.T / scale)
    return _mean_tau(np.concatenate(xs), np.concatenate(ys))


def pooled_seed_variance(values: np.ndarray) -> float:
    """sigma^2: the mean over models of the sample variance over seeds (ddof=1); NaN for one seed.

    0 exactly when every model's results are equal over seeds up to float64 rounding.
    """
    if values.shape[1] < 2:
        return math.nan
    if np.all(is_unresolved(values, axis=1)):
        return 0.0
    return float(values.var(axis=1, ddof=1).mean())


@dataclass(frozen=True)
class NoiseModel:
    """Gaussian noise of a model's mean result over s seeds measured on m test samples.

    ``cov(s, m) = (tau2 I + diag(r) / m) / s + K / m`` (``m = None``: the given test set, whose
    own noise is then shared by every replication: ``(sigma2 / s) I``):

    * ``sigma2``: seed variance of the accuracy on the given test set (pooled, ddof = 1);
    * ``r_i``: per test sample, the variance over seeds of model i's correctness (ddof = 1),
      averaged over samples: how much two seeds of the same model disagree sample by sample;
    * ``tau2 = max(0, sigma2 - mean(r) / N)``: the seed variance that is left on an infinite
      test set (what differs between the seeds' networks as a whole);
    * ``K``: covariance between models, over test samples, of the expected (seed-mean)
      correctness: the within-class covariance of ``Cbar`` (when labels stratify the test set)
      minus ``diag(r) / S`` (the seeds' own disagreement, which the seed term already holds; the
      covariance between two models has no such part, their seeds being independent).

    Without stored predictions only ``sigma2`` is known and the test set's noise is left out.
    """

    sigma2: float
    n_test: int = 0
    tau2: float = math.nan
    r: np.ndarray | None = None
    k: np.ndarray | None = None

    def cov(self, n_models: int, s: int, m: int | None = None) -> np.ndarray:
        if m is None or self.k is None:
            return np.eye(n_models) * (self.sigma2 / s)
        return (np.eye(n_models) * self.tau2 + np.diag(self.r) / m) / s + self.k / m


def noise_model(values: np.ndarray, correct: np.ndarray | None = None,
                labels: np.ndarray | None = None) -> NoiseModel:
    """Estimate the :class:`NoiseModel` of one target's ground truth."""
    sigma2 = pooled_seed_variance(values)
    if correct is None or values.shape[1] < 2 or not math.isfinite(sigma2):
        return NoiseModel(sigma2)
    n, s, n_test = correct.shape
    r = correct.var(axis=1, ddof=1).mean(axis=1)  # (models,)
    cbar = correct.mean(axis=1)
    centred = np.concatenate([cbar[:, m] - cbar[:, m].mean(axis=1, keepdims=True)
                              for m in _classes(labels, n_test)], axis=1)
    n_groups = len(_classes(labels, n_test))
    k = centred @ centred.T / max(n_test - n_groups, 1) - np.diag(r) / s
    np.fill_diagonal(k, np.clip(np.diag(k), 0.0, None))
    return NoiseModel(sigma2, n_test, max(0.0, sigma2 - float(r.mean()) / n_test), r, k)


def _factor(cov: np.ndarray) -> np.ndarray:
    """A matrix L with L L^T = cov (eigen-decomposition, clipped to positive semi-definite)."""
    w, v = np.linalg.eigh(cov)
    return v * np.sqrt(np.clip(w, 0.0, None))


def calibrated_spread(simulated, observed: float) -> float:
    """The spread factor c in [0, ``MAX_SPREAD``] at which ``simulated(c)`` (a reliability that grows
    with c) equals ``observed``, by bisection (``MAX_SPREAD`` when even that falls short)."""
    lo, hi = 0.0, MAX_SPREAD
    if simulated(hi) <= observed:
        return hi
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if simulated(mid) < observed else (lo, mid)
    return 0.5 * (lo + hi)


def noise_ceiling(mean: np.ndarray, observed: float, half_cov: np.ndarray, full_cov: np.ndarray, *,
                  draws: int = DEFAULT_SIM_DRAWS, seed: int = DEFAULT_SEED) -> tuple[float, float, float]:
    """(ceiling tau_w, ceiling Kendall, spread factor c) by the calibrated simulation of the module doc.

    ``mean``: ybar per model; ``observed``: the reliability the calibration matches, measured
    between two independent replications whose noise has covariance ``half_cov`` each;
    ``full_cov``: the noise covariance of the ground truth itself.
    """
    mean = np.asarray(mean, dtype=np.float64)
    n = mean.size
    if (n < 2 or not math.isfinite(observed) or is_unresolved(mean)
            or not (np.isfinite(half_cov).all() and np.isfinite(full_cov).all())):
        return math.nan, math.nan, math.nan
    full, half = _factor(full_cov), _factor(half_cov)
    dev = mean - mean.mean()
    if not np.any(full):  # no noise at all: the ground truth is the truth
        return 1.0, 1.0, 1.0
    if observed <= 0:
        return 0.0, 0.0, 0.0
    rng = _rng(seed, _SIM)
    za, zb, zc = (rng.standard_normal((draws, n)) for _ in range(3))
    ea, eb, ec = za @ half.T, zb @ half.T, zc @ full.T

    c = calibrated_spread(lambda c: _mean_tau(c * dev + ea, c * dev + eb, kendall=False)[0], observed)
    mu = np.broadcast_to(c * dev, (draws, n))
    tau_w, kendall = _mean_tau(mu, mu + ec)
    return tau_w, kendall, c


def full_seed_reliability(mean: np.ndarray, observed: float, sigma2: float, h: int, s: int, *,
                          draws: int = DEFAULT_SIM_DRAWS, seed: int = DEFAULT_SEED) -> float:
    """tau_w of two independent S-seed replications, the noise model calibrated on ``observed``, the
    split-half agreement of two h-seed replications (``sigma2``: the pooled seed variance)."""
    mean = np.asarray(mean, dtype=np.float64)
    n = mean.size
    if n < 2 or h < 1 or not (math.isfinite(observed) and math.isfinite(sigma2)) or is_unresolved(mean):
        return math.nan
    if sigma2 == 0:
        return 1.0
    if observed <= 0:
        return 0.0  # no ranking beyond noise (c = 0): more seeds of noise agree no better
    dev = mean - mean.mean()
    rng = _rng(seed, _FULL)
    za, zb = (rng.standard_normal((draws, n)) for _ in range(2))
    half_sd, full_sd = math.sqrt(sigma2 / h), math.sqrt(sigma2 / s)

    def agreement(c: float, sd: float) -> float:
        return _mean_tau(c * dev + sd * za, c * dev + sd * zb, kendall=False)[0]

    return agreement(calibrated_spread(lambda c: agreement(c, half_sd), observed), full_sd)


def reliability(gt: GroundTruth, *, max_splits: int = DEFAULT_MAX_SPLITS, draws: int = DEFAULT_DRAWS,
                sim_draws: int = DEFAULT_SIM_DRAWS, seed: int = DEFAULT_SEED) -> Reliability:
    """All the figures of the module docstring for one target's ground truth."""
    n, s = gt.values.shape
    splits = seed_splits(s, max_splits=max_splits, seed=seed)
    nan2 = (math.nan, math.nan)
    usable = n >= 2 and not is_unresolved(gt.mean)
    seeds = seeds_range = nan2
    if usable and len(splits):  # the mean over the splits, and the lowest and highest split
        tau_w, kendall = split_half_taus(gt.values, splits)
        seeds = _finite_mean(tau_w), _finite_mean(kendall)
        if _finite(tau_w).size:
            seeds_range = float(_finite(tau_w).min()), float(_finite(tau_w).max())
    test = both = nan2
    if gt.correct is not None and usable:
        test = resampled_test_set_reliability(gt.correct, gt.labels, draws=draws, seed=seed)
        both = combined_reliability(gt.correct, splits, gt.labels, draws=draws, seed=seed)
    model = noise_model(gt.values, gt.correct, gt.labels)
    h = s // 2
    if math.isfinite(both[0]):  # halves of the seeds and of the test set
        m_half = sum(m.size // 2 for m in _classes(gt.labels, gt.n_test))
        observed, half_cov = both[0], model.cov(n, h, m_half)
    else:
        observed, half_cov = seeds[0], model.cov(n, max(h, 1))
    full_cov = model.cov(n, s, gt.n_test or None)
    ceiling = (noise_ceiling(gt.mean, observed, half_cov, full_cov, draws=sim_draws, seed=seed)
               if h >= 1 and math.isfinite(model.sigma2) else (math.nan, math.nan, math.nan))
    full = (full_seed_reliability(gt.mean, seeds[0], model.sigma2, h, s, draws=sim_draws, seed=seed)
            if usable else math.nan)
    return Reliability(
        n_models=n, n_seeds=s, n_test=gt.n_test, n_splits=len(splits),
        seeds_tau_w=seeds[0], seeds_kendall=seeds[1], seeds_tau_w_low=seeds_range[0], seeds_tau_w_high=seeds_range[1],
        test_tau_w=test[0], test_kendall=test[1],
        both_tau_w=both[0], both_kendall=both[1], ceiling_tau_w=ceiling[0], ceiling_kendall=ceiling[1],
        seed_sd=math.sqrt(model.sigma2) if math.isfinite(model.sigma2) else math.nan, spread_factor=ceiling[2],
        full_tau_w=full,
    )
