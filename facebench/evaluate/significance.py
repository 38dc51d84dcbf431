"""Can two metrics be told apart? A paired bootstrap of their difference in mean tau_w, step-down max-T.

A metric's verdict on a set of targets (a benchmark, or all of them) is its mean over targets of
tau_w against each target's primary ground truth, the quantity the board's Ranking shows. Its
uncertainty has three sources, all resampled here, independently per target and *paired* across
metrics (every metric sees the same resample, so what the metrics share cancels in a difference):

* the models of the zoo: ``n`` model indices drawn with replacement (a resample with fewer than
  two distinct models gives no value);
* the seeds: ``S`` seed indices drawn with replacement, a model's ground truth being the mean of
  its result over the drawn seeds;
* the test samples, where the runner stored the test predictions (accuracy only): ``N`` sample
  indices drawn with replacement within each class, each seed's accuracy recomputed on them.
  Resampling seeds and samples at once counts their interaction twice (Owen, Ann. Appl. Stat.
  2007): conservative, never too narrow.

Targets are not equally informative (6 models and 3 seeds against 11 models and 6 seeds), so the
mean over targets is *precision-weighted*: target t has weight ``w_t`` proportional to ``1 / v_t``,
``v_t`` the variance of tau_w over the replicates on that target, averaged over the metrics (the
same weights for every metric, so that a difference is a difference of like with like; the
inverse-variance weighting is the least-variance unbiased combination of independent estimates).
``weighting="equal"`` keeps the plain mean. For metrics a, b:
``Delta = sum_t w_t (tau(t, a) - tau(t, b)) / sum_t w_t`` over the targets where both have a
value, ``Delta_r`` the same on replicate r (same weights), ``se`` the standard deviation of the ``Delta_r`` and
``T = Delta / se``. The interval is the percentile interval of ``Delta_r`` at ``level``.

**The test** (``correction="maxt"``, the default): the step-down max-T procedure of Romano and
Wolf (Econometrica 2005; Westfall and Young 1993) on the centred, studentised replicates
``T_r = (Delta_r - Delta) / se``, which share the replicates' dependence between pairs. With the
pairs ordered by ``|T|`` (largest first), the k-th pair's adjusted p is

    p_k = max(p_{k-1}, (#{r : max_{j >= k} |T_{r,j}| >= |T_k|} + 1) / (R_k + 1)),

``R_k`` the replicates with a value for some pair j >= k (all R unless a pair is undefined on some
replicates: a few models, ties), and never below the pair's own p. So the family-wise error rate is
controlled at ``1 - level`` over all pairs, and the smallest attainable adjusted p is ``1 / (R + 1)``
whatever the number of pairs (with Holm on the per-pair bootstrap p-values, whose floor is
``1 / (R + 1)``, it is ``pairs / (R + 1)``: 210 pairs and R = 1000 cannot go below 0.21).
A pair whose Delta does not vary over the replicates (spread below ``SD_FLOOR``: a few models and no
noise, where the bootstrap cannot speak) is not tested.
``"holm"`` (Holm's step-down on the per-pair two-sided studentised p-values) and ``"none"`` (each
pair at ``1 - level``) are kept as options.

**Letters**: a compact letter display (Piepho, J. Comput. Graph. Stat. 2004, insert-and-absorb):
two metrics share a letter exactly when their difference is not significant. Letters are
assigned in the order of the metrics' mean tau_w, so "a" holds the best metric.

The models and seeds of a target are the largest complete matrix of its results
(:func:`facebench.leaderboard.trust.complete_truth`); each metric is
measured on the ones it scored, as the board's tables measure it, so that one metric's failure on
a model (a plugin's bug, a data-free control undefined for a model) does not change the other
metrics' values. The replicates are paired on the models both metrics of a pair scored.
Deterministic given ``seed``: target t draws its seeds and test samples from
``default_rng([seed, crc32(benchmark/target)])``, and its models from ``default_rng([seed,
crc32("zoo:" + benchmark)])`` when it names its zoo (from its own generator when it does not).
"""
from __future__ import annotations

import contextlib
import math
import string
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from .reliability import GroundTruth, resample_counts, stratified_resample_counts
from .rowstats import Rows, weighted_tau_rows

DEFAULT_N_BOOT = 1000
DEFAULT_LEVEL = 0.95
DEFAULT_SEED = 0
MIN_VALID_FRACTION = 0.5
SD_FLOOR = 1e-12  # a spread of Delta over the replicates below this is rounding (tau_w is in [-1, 1])
CORRECTIONS = ("maxt", "holm", "none")
WEIGHTINGS = ("precision", "equal")


@dataclass(frozen=True)
class TargetData:
    """One benchmark target: its ground truths (same models and seeds) and each metric's scores."""

    benchmark: str
    target: str
    truths: tuple[GroundTruth, ...]
    scores: dict[str, np.ndarray]  # metric -> (n_models,) aligned with truths[0].models; NaN: no value
    zoo: tuple[str, ...] = ()  # the models of the zoo the target shares with the benchmark's other targets
    # a metric's observed tau_w on the first truth where it is not that of these models and seeds (the
    # board's table value on all the target's results, when the complete matrix left some out)
    observed: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.truths:
            raise ValueError(f"{self.benchmark} {self.target}: no ground truth")
        first = self.truths[0]
        for gt in self.truths[1:]:
            if gt.models != first.models or gt.seeds != first.seeds:
                raise ValueError(f"{self.benchmark} {self.target}: ground truths with different models or seeds")
        for metric, s in self.scores.items():
            if np.shape(s) != (len(first.models),):
                raise ValueError(f"{self.benchmark} {self.target}: scores of {metric} do not match the models")
        if self.zoo and not set(first.models) <= set(self.zoo):
            raise ValueError(f"{self.benchmark} {self.target}: models {sorted(set(first.models) - set(self.zoo))} "
                             "are not in the zoo")


@dataclass(frozen=True)
class TauDraws:
    """tau_w of every metric on one target: observed (M,) and per bootstrap replicate (B, M)."""

    metrics: tuple[str, ...]
    observed: np.ndarray
    boot: np.ndarray
    label: str = ""  # target_label(benchmark, target)

    @property
    def variance(self) -> float:
        """The target's sampling variance of tau_w: over replicates, averaged over the metrics (NaN if none)."""
        with _quiet():
            per_metric = np.nanvar(self.boot, axis=0, ddof=1) if self.boot.shape[0] > 1 else np.full(len(self.metrics), np.nan)
            return float(np.nanmean(per_metric)) if np.isfinite(per_metric).any() else math.nan


@dataclass(frozen=True)
class PairDelta:
    a: str
    b: str
    delta: float  # mean tau_w(a) - mean tau_w(b) over the targets where both have a value
    low: float
    high: float
    p: float
    p_adjusted: float
    significant: bool
    n_valid: int


@dataclass
class Comparison:
    """The metrics of one scope (a benchmark, or all of them) compared pairwise."""

    metrics: list[str]  # by mean tau_w, descending
    mean_tau_w: dict[str, float]
    pairs: list[PairDelta]
    groups: list[list[str]]  # the metrics of each letter (the columns of the letter display)
    letters: dict[str, str]
    n_boot: int
    level: float
    correction: str
    n_targets: int
    extra: dict[str, object] = field(default_factory=dict)

    def pair(self, a: str, b: str) -> PairDelta | None:
        for p in self.pairs:
            if (p.a, p.b) == (a, b):
                return p
            if (p.b, p.a) == (a, b):
                return PairDelta(a, b, -p.delta, -p.high, -p.low, p.p, p.p_adjusted, p.significant, p.n_valid)
        return None


def target_label(benchmark: str, target: str) -> str:
    """How a comparison names a target (its weights are keyed by it)."""
    return f"{benchmark} {target}"


def _rng(seed: int, target: TargetData) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(f"{target.benchmark}/{target.target}".encode())])


def _zoo_rng(seed: int, benchmark: str) -> np.random.Generator:
    """The model draws of every target of one zoo (one stream per benchmark, apart from the targets')."""
    return np.random.default_rng([int(seed), zlib.crc32(f"zoo:{benchmark}".encode())])


def _model_draws(target: TargetData, n_boot: int, seed: int, rng: np.random.Generator) -> np.ndarray:
    """(B, Z) index into the target's models of each drawn model, -1 where the drawn zoo model is not
    on this target. With ``target.zoo`` the draw is the zoo's, shared by all its targets (Z its size);
    without, the target's own (Z = its number of models, from ``rng``)."""
    models = target.truths[0].models
    if not target.zoo:
        return np.sort(rng.integers(0, len(models), size=(n_boot, len(models))), axis=1)
    zoo = sorted(set(target.zoo))
    position = {m: k for k, m in enumerate(models)}
    where = np.array([position.get(m, -1) for m in zoo])
    return where[np.sort(_zoo_rng(seed, target.benchmark).integers(0, len(zoo), size=(n_boot, len(zoo))), axis=1)]


def _two_distinct(idx: np.ndarray) -> np.ndarray:
    """(B,) rows of ``idx`` holding at least two distinct values."""
    return (idx != idx[:, :1]).any(axis=1) if idx.shape[1] else np.zeros(idx.shape[0], dtype=bool)


def _resampled_truth(gt: GroundTruth, seed_counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(B, n_models) ground truth of each replicate: mean over the drawn seeds of (resampled-test) results.

    With test samples, right answers are counted in integers (exact in float64) and divided by
    S N at the end, so models with as many right answers on a replicate tie exactly.
    """
    n, s = gt.values.shape
    if gt.correct is None:
        return seed_counts @ gt.values.T / s
    n_test = gt.correct.shape[2]
    test_counts = stratified_resample_counts(gt.labels, n_test, seed_counts.shape[0], rng)  # (B, N)
    right = (test_counts @ gt.correct.reshape(n * s, n_test).T).reshape(-1, n, s)  # (B, n, S)
    return np.einsum("bis,bs->bi", right, seed_counts) / (s * n_test)


def target_draws(target: TargetData, *, n_boot: int = DEFAULT_N_BOOT, seed: int = DEFAULT_SEED) -> TauDraws:
    """tau_w of each metric on the target, observed and on ``n_boot`` paired replicates.

    The models are drawn as :func:`_model_draws` says: from the zoo, the same draw on every target
    of a benchmark, when ``target.zoo`` names it (a model that is good or bad for a metric on one
    target tends to be so on the others: resampling each target's models apart would count that as
    independent evidence); else per target. A metric with NaN scores (models it gave no value on) is
    measured on the models it scored: observed on those, and on each replicate on the drawn models
    among them (the same draw as every other metric's, so the pairing holds on the models both
    scored). Fewer than two distinct models on a replicate gives no value there.
    """
    metrics = tuple(sorted(target.scores))
    first = target.truths[0]
    n, s = first.values.shape
    rng = _rng(seed, target)
    idx = _model_draws(target, n_boot, seed, rng)
    present = idx >= 0
    take = np.where(present, idx, 0)
    seed_counts = resample_counts(s, n_boot, rng)
    observed = np.full((len(target.truths), len(metrics)), np.nan)
    boot = np.full((len(target.truths), n_boot, len(metrics)), np.nan)
    for i, gt in enumerate(target.truths):
        resampled = np.take_along_axis(_resampled_truth(gt, seed_counts, rng), take, axis=1)
        y, mean = (Rows(resampled) if present.all() else None), Rows(gt.mean)
        for j, m in enumerate(metrics):
            x = np.asarray(target.scores[m], dtype=np.float64)
            scored = np.isfinite(x)
            if scored.sum() < 2:
                continue
            if i == 0 and m in target.observed:
                observed[i, j] = target.observed[m]
            elif scored.all():
                observed[i, j] = weighted_tau_rows(x, mean)[0]
            else:
                observed[i, j] = weighted_tau_rows(x[scored], gt.mean[scored])[0]
            if y is not None and scored.all():
                # the common case: every drawn model is on the target and scored (the truth's Rows shared)
                boot[i, :, j] = np.where(_two_distinct(take), weighted_tau_rows(x[take], y), np.nan)
            else:
                boot[i, :, j] = _subset_taus(x, present & scored[take], take, resampled)
    with _quiet():
        return TauDraws(metrics, np.nanmean(observed, axis=0), np.nanmean(boot, axis=0),
                        target_label(target.benchmark, target.target))


def _subset_taus(x: np.ndarray, keep: np.ndarray, idx: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(B,) tau_w of each replicate on its kept draws: ``keep`` (B, Z) which draws count (the model is on
    the target and the metric scored it), ``idx`` (B, Z) the target's model at each draw, ``truth``
    (B, Z) the replicate's ground truth there. Replicates that keep as many draws are computed
    together; fewer than two distinct models gives NaN."""
    counts = keep.sum(axis=1)
    out = np.full(idx.shape[0], np.nan)
    for length in np.unique(counts):
        if length < 2:
            continue
        rows = np.flatnonzero(counts == length)
        sub_idx = idx[rows][keep[rows]].reshape(len(rows), length)
        sub_truth = truth[rows][keep[rows]].reshape(len(rows), length)
        out[rows] = np.where(_two_distinct(sub_idx), weighted_tau_rows(x[sub_idx], sub_truth), np.nan)
    return out


@contextlib.contextmanager
def _quiet():
    """Silence numpy's 'mean of empty slice' warnings (an all-NaN mean is NaN on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values: p_(i) -> max_{j <= i} min(1, (K - j + 1) p_(j)), 1-based."""
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    k = p.size
    adjusted = np.minimum(1.0, np.maximum.accumulate((k - np.arange(k)) * p[order]))
    out = np.empty_like(p)
    out[order] = adjusted
    return out


def stepdown_maxt(t_obs: np.ndarray, t_boot: np.ndarray) -> np.ndarray:
    """Romano-Wolf step-down adjusted p-values of ``|t_obs|`` (P,) against centred replicates (R, P).

    A NaN replicate value is left out of that replicate's maximum; a replicate with no value among
    the pairs of a step is left out of that step's count (numerator and denominator), so that a pair
    without a value on part of the replicates is not made more significant by them. A NaN observed
    statistic gets p = NaN.
    """
    t_obs = np.abs(np.asarray(t_obs, dtype=np.float64))
    t_boot = np.abs(np.asarray(t_boot, dtype=np.float64))
    out = np.full(t_obs.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(t_obs))
    if finite.size == 0 or t_boot.shape[0] == 0:
        return out
    order = finite[np.argsort(-t_obs[finite], kind="stable")]
    boot = np.where(np.isfinite(t_boot[:, order]), t_boot[:, order], -np.inf)
    # max over the pairs from k on, for every k: a reversed running maximum
    tail_max = np.maximum.accumulate(boot[:, ::-1], axis=1)[:, ::-1]
    counted = np.isfinite(tail_max).sum(axis=0)  # replicates with a value among the pairs from k on
    raw = ((tail_max >= t_obs[order][None, :]).sum(axis=0) + 1.0) / (counted + 1.0)
    out[order] = np.minimum(1.0, np.maximum.accumulate(raw))
    return out


def letter_columns(ordered: list[str], differs) -> list[list[str]]:
    """The columns of a compact letter display (Piepho 2004, insert-and-absorb), each in ``ordered``'s order.

    Start from one column holding every metric; for each significant pair (i, j), every column
    holding both is replaced by two copies, one without i and one without j; then every column
    contained in another is absorbed. The columns left are the maximal sets of metrics no two of
    which differ, so two metrics share a column exactly when they do not differ. Columns are sorted
    by their metrics' places in ``ordered``, so the first ("a") holds the best metric.
    """
    columns: list[frozenset[str]] = [frozenset(ordered)] if ordered else []
    for ia, a in enumerate(ordered):
        for b in ordered[ia + 1:]:
            if not differs(a, b):
                continue
            split: list[frozenset[str]] = []
            for col in columns:
                split += [col - {a}, col - {b}] if a in col and b in col else [col]
            unique = list(dict.fromkeys(c for c in split if c))
            columns = [c for c in unique if not any(c < other for other in unique)]
    rank = {m: i for i, m in enumerate(ordered)}
    columns.sort(key=lambda c: sorted(rank[m] for m in c))
    return [[m for m in ordered if m in col] for col in columns]


def letters_of(ordered: list[str], columns: list[list[str]]) -> dict[str, str]:
    """metric -> the letters of the columns that hold it."""
    return {m: "".join(letter_name(k) for k, col in enumerate(columns) if m in col) for m in ordered}


def letter_display(ordered: list[str], differs) -> dict[str, str]:
    """Compact letter display: metric -> letters (:func:`letter_columns`)."""
    return letters_of(ordered, letter_columns(ordered, differs))


def letter_name(k: int) -> str:
    """The k-th letter of the display: a..z, then a1..z1, ..."""
    letters = string.ascii_lowercase
    return letters[k] if k < len(letters) else f"{letters[k % len(letters)]}{k // len(letters)}"


def precision_weights(draws: list[TauDraws]) -> np.ndarray:
    """Inverse-variance weight of each target (summing to 1): a target whose tau_w the resampling
    shows to be noisy (few models, few seeds, a noisy ground truth) counts less. A target without a
    measurable variance gets the median variance of the others; with none measurable, equal weights."""
    var = np.array([d.variance for d in draws], dtype=np.float64)
    ok = np.isfinite(var) & (var > 0)
    if not ok.any():
        return np.full(len(draws), 1.0 / len(draws)) if draws else np.zeros(0)
    var = np.where(ok, var, np.median(var[ok]))
    w = 1.0 / var
    return w / w.sum()


def weighted_mean(values: np.ndarray, weights: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean of ``values`` with ``weights`` along ``axis``, over the finite values only (NaN if none)."""
    values = np.asarray(values, dtype=np.float64)
    shape = [1] * values.ndim
    shape[axis] = -1
    w = np.where(np.isfinite(values), np.reshape(weights, shape), 0.0)
    total = w.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.nansum(values * w, axis=axis) / total, np.nan)


def targets_needed(delta: float, se: float, n_targets: int, n_pairs: int, *, level: float = DEFAULT_LEVEL,
                   power: float = 0.8) -> float:
    """How many targets like these would separate a difference ``delta`` whose standard error over
    ``n_targets`` targets is ``se``: the standard error shrinks as 1/sqrt(targets), and the test must
    reach ``|delta| / se_T >= z(1 - alpha / (2 P)) + z(power)`` (normal approximation; Bonferroni over
    the P pairs stands in for the step-down max-T, which needs at most that much). Returns the total
    number of targets (inf for no difference, NaN when undefined)."""
    from scipy.stats import norm

    if not (math.isfinite(delta) and math.isfinite(se)) or se <= 0 or n_targets < 1 or n_pairs < 1:
        return math.nan
    if delta == 0:
        return math.inf
    z = norm.ppf(1 - (1 - level) / (2 * n_pairs)) + norm.ppf(power)
    return float(math.ceil(n_targets * (z * se / abs(delta)) ** 2))


def min_attainable_p(correction: str, n_pairs: int, n_boot: int) -> float:
    """The smallest adjusted p the design can give (the board says when it is not below 1 - level)."""
    if n_pairs == 0 or n_boot == 0:
        return math.nan
    one = 1.0 / (n_boot + 1)  # the two-sided per-pair p counts |T| against |T_r|: its floor is 1 / (R + 1)
    return min(1.0, n_pairs * one) if correction == "holm" else one


def compare(draws: list[TauDraws], *, level: float = DEFAULT_LEVEL, correction: str = "maxt",
            min_valid: float = MIN_VALID_FRACTION, weighting: str = "precision") -> Comparison:
    """Pairwise paired comparison of the metrics over a set of targets (see the module docstring).

    ``weighting``: "precision" (inverse-variance weights of :func:`precision_weights`) or "equal".
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}, got {correction!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    names = sorted({m for d in draws for m in d.metrics})
    n_boot = draws[0].boot.shape[0] if draws else 0
    obs = np.full((len(draws), len(names)), np.nan)
    boot = np.full((n_boot, len(draws), len(names)), np.nan)
    for t, d in enumerate(draws):
        cols = [names.index(m) for m in d.metrics]
        obs[t, cols] = d.observed
        boot[:, t, cols] = d.boot
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    weights = precision_weights(draws) if weighting == "precision" else np.full(len(draws), 1.0 / max(len(draws), 1))
    means = weighted_mean(obs.T, weights) if draws else np.full(len(names), np.nan)
    mean_tau = {m: float(v) for m, v in zip(names, means) if math.isfinite(v)}
    ordered = sorted(mean_tau, key=lambda m: (-mean_tau[m], m))
    alpha = 1.0 - level
    pair_names = [(a, b) for ia, a in enumerate(ordered) for b in ordered[ia + 1:]]
    n_pairs = len(pair_names)
    deltas = np.full(n_pairs, np.nan)
    low, high, se = (np.full(n_pairs, np.nan) for _ in range(3))
    valid = np.zeros(n_pairs, dtype=int)
    centred = np.full((n_boot, n_pairs), np.nan)
    for k, (a, b) in enumerate(pair_names):
        i, j = names.index(a), names.index(b)
        both = np.isfinite(obs[:, i]) & np.isfinite(obs[:, j])  # the targets where both have a value
        if not both.any():
            continue
        delta = float(weighted_mean(obs[both, i] - obs[both, j], weights[both]))
        db = weighted_mean(boot[:, both, i] - boot[:, both, j], weights[both], axis=1)
        ok = np.isfinite(db)
        valid[k] = int(ok.sum())
        if valid[k] < max(2, math.ceil(min_valid * n_boot)):
            deltas[k] = delta
            continue
        deltas[k] = delta
        low[k], high[k] = np.quantile(db[ok], [alpha / 2, 1 - alpha / 2])
        sd = float(np.std(db[ok], ddof=1))
        if sd > SD_FLOOR:  # replicates that never vary (a few models, no noise) give no test, not T = 1e16
            se[k] = sd
            centred[:, k] = (db - delta) / sd
    t_obs = deltas / se
    # per-pair two-sided studentised bootstrap p (the "none" and "holm" corrections start from it)
    with np.errstate(invalid="ignore"):
        exceed = (np.abs(centred) >= np.abs(t_obs)[None, :]).sum(axis=0)
    p_raw = np.where(np.isfinite(t_obs), (exceed + 1.0) / (valid + 1.0), np.nan)
    if correction == "maxt":
        adjusted = np.fmax(stepdown_maxt(t_obs, centred), p_raw)  # never below the pair's own p
    else:
        adjusted = np.full(n_pairs, np.nan)
        finite = np.isfinite(p_raw)
        if finite.any():
            adjusted[finite] = holm(p_raw[finite]) if correction == "holm" else p_raw[finite]
    pairs = [PairDelta(a, b, float(deltas[k]), float(low[k]), float(high[k]), float(p_raw[k]), float(adjusted[k]),
                       bool(math.isfinite(adjusted[k]) and adjusted[k] < alpha), int(valid[k]))
             for k, (a, b) in enumerate(pair_names)]
    significant = {(p.a, p.b) for p in pairs if p.significant}

    def differs(x: str, y: str) -> bool:
        return (x, y) in significant or (y, x) in significant

    columns = letter_columns(ordered, differs)
    letters = letters_of(ordered, columns)
    extra = {"min_attainable_p": min_attainable_p(correction, n_pairs, n_boot), "weighting": weighting,
             "weights": {d.label: float(w) for d, w in zip(draws, weights)}}
    if n_pairs:  # the top two metrics: how many targets of this kind would separate them
        k = 0  # the first pair is (ordered[0], ordered[1])
        extra["top_two"] = {"a": pair_names[k][0], "b": pair_names[k][1], "delta": float(deltas[k]), "se": float(se[k]),
                            "significant": pairs[k].significant,
                            "targets_needed": targets_needed(float(deltas[k]), float(se[k]), len(draws), n_pairs,
                                                             level=level)}
    return Comparison(ordered, mean_tau, pairs, columns, letters, n_boot, level, correction, len(draws),
                      extra=extra)
