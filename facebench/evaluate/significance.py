"""Can two metrics be told apart? A paired bootstrap of their difference in mean tau_w.

A metric's verdict on a benchmark is its mean over targets of tau_w (a target with several
ground-truth statistics counts once: its tau_w values are averaged first, as on the board). Its
uncertainty has three sources, all resampled here, independently per target and *paired*
across metrics (every metric sees the same resample, so what the metrics share cancels in
their difference):

* the models of the zoo: ``n`` model indices drawn with replacement (a resample with fewer than
  two distinct models gives no value);
* the seeds: ``S`` seed indices drawn with replacement, the ground truth of a model being the
  mean of its result over the drawn seeds (a seed drawn twice counts twice);
* the test samples, where the runner stored the test predictions (accuracy only): ``N`` sample
  indices drawn with replacement (within each class, when the true labels are known), each
  seed's accuracy recomputed on them. Resampling seeds and samples at once (a "pigeonhole"
  bootstrap of a crossed design) counts their interaction, the samples on which two seeds of a
  model disagree, twice (Owen, Ann. Appl. Stat. 2007): the intervals are conservative (too wide)
  by that much, never too narrow.

For replicate b and target t, ``tau_b(t, m) = tau_w(score_m[idx_b], ybar_b[idx_b])`` (computed
for all replicates at once by :mod:`facebench.rowstats`), NaN where undefined. For a set of
targets (a benchmark, or all of them) and metrics m1, m2:

    Delta = mean_t (tau(t, m1) - tau(t, m2))        over the targets where both have a value,

the same on every replicate (``Delta_b``); the percentile interval of ``Delta_b`` at ``level``
and the two-sided bootstrap p-value ``p = min(1, 2 min((#{Delta_b <= 0} + 1) / (V + 1),
(#{Delta_b >= 0} + 1) / (V + 1)))`` over the V valid replicates. With k metrics there are
k (k - 1) / 2 pairs, so by default the p-values are Holm-adjusted (family-wise error rate
1 - level, as a critical-difference diagram controls it; ``correction="none"`` tests each pair at
1 - level); the intervals are not adjusted. Two metrics differ significantly when the adjusted p
is below 1 - level.

**Groups**, as the bars of a critical-difference diagram (Demsar, JMLR 2006): the metrics sorted
by mean tau_w (descending; each over the targets where it has a value, so a metric that failed
on some targets may sit higher here than in the board's ranking, which puts coverage first);
a group is a maximal run of consecutive metrics in that order among
which no pair differs significantly. Groups may overlap; each gets a letter ("a", "b", ...) and a
metric is labelled with the letters of its groups (a compact letter display: metrics that
share a letter cannot be told apart).

The models of a target are those with a complete ground truth (every seed) and a score from
every metric that scored the target, so that all metrics are compared on the same zoo.
Deterministic given ``seed``: target t draws from ``default_rng([seed, crc32(benchmark/target)])``.
"""
from __future__ import annotations

import contextlib
import math
import string
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np

from .reliability import GroundTruth, resample_counts, stratified_resample_counts
from .rowstats import weighted_tau_rows

DEFAULT_N_BOOT = 1000
DEFAULT_LEVEL = 0.95
DEFAULT_SEED = 0
MIN_VALID_FRACTION = 0.5
CORRECTIONS = ("holm", "none")


@dataclass(frozen=True)
class TargetData:
    """One benchmark target: its ground truths (same models and seeds) and each metric's scores."""

    benchmark: str
    target: str
    truths: tuple[GroundTruth, ...]
    scores: dict[str, np.ndarray]  # metric -> (n_models,) aligned with truths[0].models

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


@dataclass(frozen=True)
class TauDraws:
    """tau_w of every metric on one target: observed (M,) and per bootstrap replicate (B, M)."""

    metrics: tuple[str, ...]
    observed: np.ndarray
    boot: np.ndarray


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
    groups: list[list[str]]
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


def _rng(seed: int, target: TargetData) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(f"{target.benchmark}/{target.target}".encode())])


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
    """tau_w of each metric on the target, observed and on ``n_boot`` paired replicates."""
    metrics = tuple(sorted(target.scores))
    first = target.truths[0]
    n, s = first.values.shape
    rng = _rng(seed, target)
    idx = np.sort(rng.integers(0, n, size=(n_boot, n)), axis=1)
    distinct = (np.diff(idx, axis=1) != 0).sum(axis=1) + 1 >= 2
    seed_counts = resample_counts(s, n_boot, rng)
    observed = np.full((len(target.truths), len(metrics)), np.nan)
    boot = np.full((len(target.truths), n_boot, len(metrics)), np.nan)
    for i, gt in enumerate(target.truths):
        y = np.take_along_axis(_resampled_truth(gt, seed_counts, rng), idx, axis=1)
        for j, m in enumerate(metrics):
            x = np.asarray(target.scores[m], dtype=np.float64)
            observed[i, j] = weighted_tau_rows(x, gt.mean)[0]
            boot[i, :, j] = np.where(distinct, weighted_tau_rows(x[idx], y), np.nan)
    with _quiet():
        return TauDraws(metrics, np.nanmean(observed, axis=0), np.nanmean(boot, axis=0))


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


def cd_groups(metrics: list[str], differs) -> list[list[str]]:
    """Maximal runs of consecutive ``metrics`` with no pair for which ``differs(a, b)``."""
    runs: list[tuple[int, int]] = []
    for i in range(len(metrics)):
        j = i
        while j + 1 < len(metrics) and not any(differs(metrics[k], metrics[j + 1]) for k in range(i, j + 1)):
            j += 1
        if not runs or j > runs[-1][1]:
            runs.append((i, j))
    return [metrics[i: j + 1] for i, j in runs]


def _letter(k: int) -> str:
    letters = string.ascii_lowercase
    return letters[k] if k < len(letters) else f"{letters[k % len(letters)]}{k // len(letters)}"


def compare(draws: list[TauDraws], *, level: float = DEFAULT_LEVEL, correction: str = "holm",
            min_valid: float = MIN_VALID_FRACTION) -> Comparison:
    """Pairwise paired comparison of the metrics over a set of targets (see the module docstring)."""
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
    with _quiet():
        means = np.nanmean(obs, axis=0) if draws else np.full(len(names), np.nan)
    mean_tau = {m: float(v) for m, v in zip(names, means) if math.isfinite(v)}
    ordered = sorted(mean_tau, key=lambda m: (-mean_tau[m], m))
    alpha = 1.0 - level
    raw: list[tuple[str, str, float, float, float, float, int]] = []
    for ia, a in enumerate(ordered):
        for b in ordered[ia + 1:]:
            i, j = names.index(a), names.index(b)
            with _quiet():
                delta = float(np.nanmean(obs[:, i] - obs[:, j]))
                db = np.nanmean(boot[:, :, i] - boot[:, :, j], axis=1)
            db = db[np.isfinite(db)]
            v = db.size
            if v < max(1, math.ceil(min_valid * n_boot)) or not math.isfinite(delta):
                raw.append((a, b, delta, math.nan, math.nan, math.nan, v))
                continue
            lo, hi = np.quantile(db, [alpha / 2, 1 - alpha / 2])
            p = min(1.0, 2 * min((np.sum(db <= 0) + 1) / (v + 1), (np.sum(db >= 0) + 1) / (v + 1)))
            raw.append((a, b, delta, float(lo), float(hi), float(p), v))
    ps = np.array([r[5] for r in raw], dtype=np.float64)
    finite = np.isfinite(ps)
    adjusted = np.full(ps.shape, np.nan)
    if finite.any():
        adjusted[finite] = holm(ps[finite]) if correction == "holm" else ps[finite]
    pairs = [PairDelta(a, b, d, lo, hi, p, float(pa), bool(math.isfinite(pa) and pa < alpha), v)
             for (a, b, d, lo, hi, p, v), pa in zip(raw, adjusted)]
    significant = {(p.a, p.b) for p in pairs if p.significant}

    def differs(x: str, y: str) -> bool:
        return (x, y) in significant or (y, x) in significant

    groups = cd_groups(ordered, differs)
    letters = {m: "".join(_letter(k) for k, g in enumerate(groups) if m in g) for m in ordered}
    return Comparison(ordered, mean_tau, pairs, groups, letters, n_boot, level, correction, len(draws))
