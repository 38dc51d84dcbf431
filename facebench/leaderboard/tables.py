"""Leaderboard data: everything the renderers show, read from one results store.

Per benchmark (task/zoo) and target, for every metric and ground-truth statistic (classification:
``accuracy``; segmentation: ``pixel_acc`` and ``miou``; ...), the statistics of
:mod:`facebench.evaluate.correlations` are recomputed from the stored zoo scores and the ground truth
averaged over seeds: this is the one place where correlations are computed (the store keeps
none), with a bootstrap interval over the models (:mod:`.bootstrap`).

Ranking (per task and overall): a metric's *mean tau_w* is the mean over benchmark targets of its
tau_w on that target against the task's *primary* ground-truth statistic (recorded in the store
by the runner; the other statistics are shown beside it). For a store written before the primary
statistic was recorded, a target with several statistics counts once with its tau_w values
averaged. A target on which the metric has no tau_w (it failed, or tau_w is undefined) is left
out of its mean and lowers its coverage; metrics are ranked by coverage first, then by mean tau_w
(competition ranking: equal keys share a rank), so that a metric cannot climb by failing on hard
targets.

Per-epoch diagnostics (:mod:`facebench.diagnostics`, e.g. the variance collapse of Fig. 1) are
read generically: one :class:`DiagnosticTrace` per diagnostic and target.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
from scipy import stats as sps

from ..evaluate.correlations import STATISTICS, correlations, undefined_reason
from ..evaluate.chance import ChanceBand, random_ranking_band
from ..evaluate.stability import Stability, zoo_stability
from ..errors import MetricUndefined
from ..metrics.base import MetricCard
from ..evaluate.reliability import DEFAULT_THRESHOLD, Reliability
from ..evaluate.significance import Comparison
from ..store import ResultsStore
from .bootstrap import DEFAULT_LEVEL, DEFAULT_N_BOOT, DEFAULT_SEED, Interval, bootstrap_intervals

NAN = math.nan


def _finite(v: object) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def nanmean(values: Iterable[float]) -> float:
    vals = [v for v in values if _finite(v)]
    return sum(vals) / len(vals) if vals else NAN


@dataclass
class Cell:
    """One metric against one ground-truth statistic on one target."""

    values: dict[str, float]  # statistic -> value
    intervals: dict[str, Interval]
    n_models: int
    undefined: str | None = None  # why no statistic is defined (constant scores, ...), None if defined
    stability: Stability | None = None  # tau_w over leave-two-out subsets of the zoo


@dataclass
class TruthSpread:
    """A model's ground truth over seeds."""

    n: int
    mean: float
    std: float  # sample standard deviation (ddof=1); NaN for one seed
    low: float
    high: float


@dataclass
class DiagnosticTrace:
    """One per-epoch diagnostic of each model's features during fine-tuning (epoch 0: pre-trained)."""

    curves: dict[str, list[float]]  # model -> mean over seeds per epoch
    low: dict[str, list[float]]  # min over seeds per epoch
    high: dict[str, list[float]]
    kendall: float  # Kendall tau between the models' values at epoch 0 and at their last epoch

    @property
    def epochs(self) -> int:
        return max((len(c) for c in self.curves.values()), default=0)


@dataclass
class TargetData:
    target: str
    truths: list[str]
    truth_values: dict[str, dict[str, dict[int, float]]]  # truth -> model -> seed -> value
    truth_mean: dict[str, dict[str, float]]  # truth -> model -> mean over seeds
    spread: dict[str, dict[str, TruthSpread]]  # truth -> model -> spread over seeds
    scores: dict[str, dict[str, float]]  # metric -> model -> zoo score
    cells: dict[tuple[str, str], Cell]  # (metric, truth) -> statistics
    seconds: dict[str, float]  # metric -> scoring seconds (sum over models)
    errors: dict[str, list[str]]  # metric -> error / warning notes
    diagnostics: dict[str, DiagnosticTrace] = field(default_factory=dict)  # diagnostic name -> trace
    primary: str | None = None  # the ground-truth statistic that ranks (None: not recorded)
    not_applicable: dict[str, str] = field(default_factory=dict)  # metric -> why it is undefined here by construction
    chance: ChanceBand | None = None  # tau_w of random rankings against the ranking ground truth

    def value(self, metric: str, truth: str, statistic: str) -> float:
        cell = self.cells.get((metric, truth))
        return cell.values.get(statistic, NAN) if cell else NAN

    def mean_tau_w(self, metric: str) -> float:
        """tau_w against the primary ground truth (without one recorded: averaged over the statistics)."""
        return self.primary_value(metric, "tau_w")

    def primary_value(self, metric: str, statistic: str) -> float:
        """``statistic`` against the primary ground truth (without one recorded: averaged over the statistics)."""
        if self.primary is not None:
            return self.value(metric, self.primary, statistic)
        return nanmean(self.value(metric, t, statistic) for t in self.truths)


@dataclass
class BenchmarkData:
    benchmark: str
    task: str
    zoo: str
    targets: list[TargetData]
    metrics: list[str]
    truths: list[str]  # union over targets, in first-seen order
    models: list[str]
    seeds: list[int]
    finetune_seconds: float
    extract_seconds: float
    pretrain_seconds: float
    finetune_once_seconds: float = NAN  # sum over targets and models of the mean over seeds: the zoo fine-tuned once
    job_costs: list[dict] = field(default_factory=list)  # per job: kind, seconds, device, peak memory (store.job_costs)
    # filled by .trust.attach_trust: (target, truth) -> reliability, the metrics' comparison, notes
    reliability: dict[tuple[str, str], Reliability] = field(default_factory=dict)
    significance: Comparison | None = None
    reliability_threshold: float = DEFAULT_THRESHOLD
    trust_notes: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # targets left out of the verdict (attach_trust)
    # filled by .build: the zoo's registered summary and the config's ``notes`` for this benchmark
    about: list[str] = field(default_factory=list)

    @property
    def primary(self) -> str | None:
        """The ground-truth statistic that ranks the metrics (None in a store that did not record it)."""
        return next((t.primary for t in self.targets if t.primary is not None), None)

    def truth_title(self, truth: str) -> str:
        """A ground truth's heading; with several, the primary one says that it ranks the metrics."""
        return f"{truth} (primary: ranks the metrics)" if truth == self.primary and len(self.truths) > 1 else truth

    def metric_seconds(self, metric: str) -> float:
        return sum(t.seconds.get(metric, 0.0) for t in self.targets)

    @property
    def scoring_seconds(self) -> float:
        return sum(self.metric_seconds(m) for m in self.metrics)

    def cost_ratio(self, metric: str) -> float:
        """(feature extraction + the metric's scoring) / fine-tuning the zoo once, summed over targets.

        The cost of ranking the zoo with ``metric`` against the cost of the ground truth it
        replaces (one fine-tuning per model and target; the mean over seeds).
        """
        denom = self.finetune_once_seconds
        if not _finite(denom) or denom <= 0:
            return NAN
        return (self.extract_seconds + self.metric_seconds(metric)) / denom

    def cost_by_kind(self) -> list[dict]:
        """Per job kind: jobs, total wall seconds, devices, largest peak memory (host, GPU)."""
        out: dict[str, dict] = {}
        for row in self.job_costs:
            k = out.setdefault(row["kind"], {"kind": row["kind"], "jobs": 0, "seconds": 0.0, "devices": [],
                                             "peak_rss_bytes": None, "peak_gpu_bytes": None})
            k["jobs"] += 1
            k["seconds"] += float(row["seconds"] or 0.0)
            if row["device"] and row["device"] not in k["devices"]:
                k["devices"].append(row["device"])
            for col in ("peak_rss_bytes", "peak_gpu_bytes"):
                if row[col] is not None:
                    k[col] = max(k[col] or 0, int(row[col]))
        order = ["pretrain", "extract", "finetune", "score"]
        return sorted(out.values(), key=lambda k: order.index(k["kind"]) if k["kind"] in order else len(order))

    def truth_agreement(self) -> list["TruthAgreement"]:
        """Per target, each further ground truth against the primary one: how far their model rankings agree.

        A second ground truth (segmentation's mAcc, or classification's learning-rate-grid accuracy)
        shows how much the metrics' verdict hinges on the primary truth's one recipe or statistic.
        """
        out = []
        for t in self.targets:
            ref = t.primary if t.primary in t.truths else (t.truths[0] if t.truths else None)  # as load_target ranks
            primary = t.truth_mean.get(ref) if ref else None
            if not primary:
                continue
            for truth in t.truths:
                other = t.truth_mean.get(truth)
                if truth == ref or not other:
                    continue
                common = sorted(set(primary) & set(other))
                stats = correlations(other, primary)
                rank_p, rank_o = _ranks(primary, common), _ranks(other, common)
                moved = sorted(common, key=lambda m: (-abs(rank_p[m] - rank_o[m]), m))
                out.append(TruthAgreement(t.target, ref, truth, len(common), stats["tau_w"], stats["kendall"],
                                          max(common, key=lambda m: primary[m]) if common else "",
                                          max(common, key=lambda m: other[m]) if common else "",
                                          [(m, rank_p[m], rank_o[m]) for m in moved if rank_p[m] != rank_o[m]][:3]))
        return out

    def average(self, metric: str, truth: str, statistic: str) -> float:
        """Mean over targets (those with a value) of one statistic: the tables' Avg. column."""
        return nanmean(t.value(metric, truth, statistic) for t in self.targets if truth in t.truths)

    def complete(self, metric: str, truth: str, statistic: str) -> bool:
        return all(_finite(t.value(metric, truth, statistic)) for t in self.targets if truth in t.truths)


def _ranks(values: dict[str, float], models: list[str]) -> dict[str, int]:
    """1 = best; equal values share the better rank."""
    return {m: 1 + sum(values[o] > values[m] for o in models) for m in models}


@dataclass
class TruthAgreement:
    """One target's further ground truth against its primary one (:meth:`BenchmarkData.truth_agreement`)."""

    target: str
    primary: str
    truth: str
    n_models: int
    tau_w: float
    kendall: float
    best_primary: str  # the best model by each
    best_truth: str
    moved: list[tuple[str, int, int]]  # the models whose rank moves most: (model, rank by primary, rank by truth)


@dataclass
class RankRow:
    metric: str
    mean_tau_w: float
    covered: int  # targets with a tau_w
    total: int  # targets in scope
    rank: int
    letters: str = ""  # the comparison's letters (metrics that share one do not differ significantly)


@dataclass
class Leaderboard:
    benchmarks: list[BenchmarkData]
    metrics: list[str]
    overall: list[RankRow]
    by_task: dict[str, list[RankRow]]
    n_boot: int
    seed: int
    level: float
    store_path: str
    version: str = ""
    date: str = ""
    config_text: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    cards: list[MetricCard] = field(default_factory=list)  # what each metric on the board computes
    sensitivity: list = field(default_factory=list)  # SensitivityTable per (benchmark, metric with a grid)
    significance: Comparison | None = None  # all benchmarks together (.trust.attach_trust)
    task_significance: dict[str, Comparison] = field(default_factory=dict)  # per task
    reliability_threshold: float = DEFAULT_THRESHOLD
    exclude_flagged: bool = False  # flagged targets left out of the verdict (.trust.attach_trust)
    controls: list[str] = field(default_factory=list)  # data-free baselines among the metrics (Metric.control)

    @property
    def tasks(self) -> list[str]:
        return list(self.by_task)


def decision_means(targets: Iterable[TargetData], metric: str) -> dict[str, float]:
    """Mean over ``targets`` (where defined) of the decision statistics against the primary ground truth."""
    targets = list(targets)
    return {stat: nanmean(t.primary_value(metric, stat) for t in targets) for stat in ("regret1", "top3_hit")}


# ---------------------------------------------------------------------------------------------
def rank_metrics(metrics: Iterable[str], targets: list[TargetData],
                 weights: list[float] | None = None) -> list[RankRow]:
    """Rank metrics by (coverage, mean tau_w) over ``targets``; see the module docstring.

    ``weights``: one per target (a comparison's precision weights; a target weighted 0 is left out
    of the mean, not of the coverage); None: the plain mean.
    """
    rows = []
    for m in metrics:
        applicable = [i for i, t in enumerate(targets) if m not in t.not_applicable]
        taus = [targets[i].mean_tau_w(m) for i in applicable]
        covered = sum(_finite(v) for v in taus)
        if weights is None:
            mean = nanmean(taus)
        else:
            pairs = [(weights[i], v) for i, v in zip(applicable, taus) if weights[i] > 0 and _finite(v)]
            mean = sum(w * v for w, v in pairs) / sum(w for w, _ in pairs) if pairs else NAN
        rows.append(RankRow(m, mean, covered, len(applicable), 0))

    rows.sort(key=lambda r: (rank_key(r), r.metric))
    for i, r in enumerate(rows):
        r.rank = rows[i - 1].rank if i and rank_key(rows[i - 1]) == rank_key(r) else i + 1
    return rows


def rank_key(r: RankRow) -> tuple[float, float]:
    """Coverage first (the fraction of the targets where the metric is defined on which it has a
    tau_w), then the mean tau_w: a metric cannot climb by failing on hard targets, and is not
    pushed down by targets on which it is undefined by construction."""
    coverage = r.covered / r.total if r.total else 0.0
    return (-coverage, -(r.mean_tau_w if _finite(r.mean_tau_w) else -math.inf))


def _spread(by_seed: dict[int, float]) -> TruthSpread:
    vals = np.array([v for v in by_seed.values() if _finite(v)], float)
    if vals.size == 0:
        return TruthSpread(0, NAN, NAN, NAN, NAN)
    std = float(vals.std(ddof=1)) if vals.size > 1 else NAN
    return TruthSpread(int(vals.size), float(vals.mean()), std, float(vals.min()), float(vals.max()))


def _trace(raw: dict[str, dict[int, list[float]]]) -> DiagnosticTrace | None:
    curves, low, high = {}, {}, {}
    for model, by_seed in sorted(raw.items()):
        length = max(len(v) for v in by_seed.values())
        arr = np.full((len(by_seed), length), np.nan)
        for i, trace in enumerate(by_seed.values()):
            arr[i, : len(trace)] = [NAN if v is None else float(v) for v in trace]
        if not np.isfinite(arr).any():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            curves[model] = np.nanmean(arr, axis=0).tolist()
            low[model] = np.nanmin(arr, axis=0).tolist()
            high[model] = np.nanmax(arr, axis=0).tolist()
    if not curves:
        return None
    first, last = [], []
    for c in curves.values():
        finite = [v for v in c if _finite(v)]
        if _finite(c[0]) and len(finite) >= 2:
            first.append(c[0])
            last.append(finite[-1])
    kendall = NAN
    if len(first) >= 2 and np.ptp(first) > 0 and np.ptp(last) > 0:
        kendall = float(sps.kendalltau(first, last).statistic)
    return DiagnosticTrace(curves, low, high, kendall)


def missing_models_note(model_errors: dict[str, str], n_scored: int, *, shown: int = 3) -> str:
    """One note for the models a metric gave no value on, grouped by message: "no value on 2 of 11
    models: a, b (KeyError: ...)". The board's tables and comparisons use each metric's own models,
    so this is what tells a reader that a metric's τ_w stands on fewer models than the others'."""
    by_message: dict[str, list[str]] = {}
    for model, message in sorted(model_errors.items()):
        by_message.setdefault(message, []).append(model)
    groups = sorted(by_message.items(), key=lambda kv: (-len(kv[1]), kv[1][0]))
    parts = [f"{', '.join(models)} ({message})" for message, models in groups[:shown]]
    if len(groups) > shown:
        parts.append(f"{len(groups) - shown} more messages on {sum(len(m) for _, m in groups[shown:])} models")
    total = n_scored + len(model_errors)
    return f"no value on {len(model_errors)} of {total} models: " + "; ".join(parts)


def load_target(store: ResultsStore, benchmark: str, target: str, metrics: list[str], *,
                n_boot: int, seed: int, level: float) -> TargetData:
    primary = store.primary_truth(benchmark)
    truths = sorted(store.truth_statistics(benchmark, target), key=lambda s: s != primary)  # primary first
    truth_values = {t: store.ground_truth(benchmark, target, t) for t in truths}
    spread = {t: {m: _spread(by_seed) for m, by_seed in tv.items()} for t, tv in truth_values.items()}
    truth_mean = {t: {m: s.mean for m, s in sp.items() if _finite(s.mean)} for t, sp in spread.items()}
    ranked_by = primary if primary in truth_mean else (truths[0] if truths else None)
    chance = (random_ranking_band(np.array([v for _, v in sorted(truth_mean[ranked_by].items())]), seed=seed)
              if ranked_by is not None else None)
    scores, cells, seconds, errors, not_applicable = {}, {}, {}, {}, {}
    for metric in metrics:
        sc = {m: v for m, v in store.scores(benchmark, target, metric).items() if _finite(v)}
        notes = store.notes(benchmark, target, metric)
        secs = store.metric_seconds(benchmark, target, metric)
        if not sc and not notes and secs == 0.0:
            continue  # the metric was not run on this target
        scores[metric], seconds[metric] = sc, secs
        errors[metric] = [f"{kind}: {msg}" for kind, msg in notes]
        model_errors = store.model_errors(benchmark, target, metric)
        if not sc and model_errors and all(e.startswith(MetricUndefined.PREFIX) for e in model_errors.values()):
            not_applicable[metric] = next(iter(model_errors.values()))
            errors[metric].append(not_applicable[metric])
        elif model_errors:
            # the bundle and the metric are said by the note's place: keep the reason, so that equal reasons group
            reasons = {m: e.removeprefix(f"{m}@{target}: ").removeprefix(f"metric {metric!r}: ")
                       for m, e in model_errors.items()}
            errors[metric].append(missing_models_note(reasons, len(sc)))
        for truth in truths:
            acc = truth_mean[truth]
            common = sorted(set(sc) & set(acc))
            values = correlations(sc, acc)
            x = np.array([sc[m] for m in common])
            y = np.array([acc[m] for m in common])
            intervals = bootstrap_intervals(x, y, n_boot=n_boot, seed=seed, level=level)
            reason = undefined_reason(sc, acc) if sc else None
            cells[(metric, truth)] = Cell(values, intervals, len(common), reason, zoo_stability(x, y))
            if reason:
                errors[metric].append(f"no statistic against {truth}: {reason}")
    traces = {name: _trace(raw) for name, raw in store.diagnostic_traces(benchmark, target).items()}
    return TargetData(target, truths, truth_values, truth_mean, spread, scores, cells, seconds, errors,
                      {name: trace for name, trace in traces.items() if trace is not None}, primary, not_applicable,
                      chance)


def load_leaderboard(store: ResultsStore, *, n_boot: int = DEFAULT_N_BOOT, seed: int = DEFAULT_SEED,
                     level: float = DEFAULT_LEVEL) -> Leaderboard:
    all_metrics = store.metrics()
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in store.benchmarks():
        grouped.setdefault(row["benchmark"], []).append(row)
    benchmarks = []
    for bench, rows in grouped.items():
        targets = [load_target(store, bench, r["target"], all_metrics, n_boot=n_boot, seed=seed, level=level)
                   for r in rows]
        metrics = [m for m in all_metrics if any(m in t.scores for t in targets)]
        truths: list[str] = []
        models: set[str] = set()
        seeds: set[int] = set()
        for t in targets:
            truths += [s for s in t.truths if s not in truths]
            for tv in t.truth_values.values():
                models.update(tv)
                for by_seed in tv.values():
                    seeds.update(by_seed)
            for sc in t.scores.values():
                models.update(sc)
        benchmarks.append(BenchmarkData(
            bench, rows[0]["task"], rows[0]["zoo"], targets, metrics, truths, sorted(models), sorted(seeds),
            store.job_seconds("finetune", bench), store.job_seconds("extract", bench),
            store.job_seconds("pretrain", bench), store.seconds_per_run("finetune", bench), store.job_costs(bench),
        ))
    metrics = [m for m in all_metrics if any(m in b.metrics for b in benchmarks)]
    by_task: dict[str, list[TargetData]] = {}
    for b in benchmarks:
        by_task.setdefault(b.task, []).extend(b.targets)
    everything = [t for b in benchmarks for t in b.targets]
    return Leaderboard(
        benchmarks=benchmarks,
        metrics=metrics,
        overall=rank_metrics(metrics, everything),
        by_task={task: rank_metrics(metrics, ts) for task, ts in by_task.items()},
        n_boot=n_boot, seed=seed, level=level, store_path=str(store.path),
    )


def long_rows(board: Leaderboard) -> list[dict[str, object]]:
    """One row per metric x benchmark x target x truth x statistic (the CSV / JSON rows)."""
    rows = []
    for b in board.benchmarks:
        for t in b.targets:
            for metric in b.metrics:
                for truth in t.truths:
                    cell = t.cells.get((metric, truth))
                    for stat in STATISTICS:
                        value = cell.values.get(stat, NAN) if cell else NAN
                        iv = cell.intervals.get(stat) if cell else None
                        rows.append({
                            "task": b.task, "zoo": b.zoo, "benchmark": b.benchmark, "target": t.target,
                            "metric": metric, "truth": truth, "statistic": stat, "value": value,
                            "ci_low": iv.low if iv else NAN, "ci_high": iv.high if iv else NAN,
                        })
    return rows
