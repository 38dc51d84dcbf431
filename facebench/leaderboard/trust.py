"""Leaderboard data for "can the verdict be trusted?": ground-truth reliability and metric significance.

:func:`attach_trust` adds to a loaded :class:`~.tables.Leaderboard`

* per benchmark target and ground-truth statistic, the :class:`~facebench.evaluate.reliability.Reliability`
  of the ground truth (split-half over seeds; with stored test predictions, test-set bootstrap
  and both), its full-seed reliability and noise ceiling, flagged when the full-seed reliability
  is below ``threshold``;
* per benchmark and overall, the paired-bootstrap comparison of every pair of metrics
  (:mod:`facebench.evaluate.significance`): Delta mean tau_w with its interval and the groups of metrics
  that cannot be told apart.

The ground truth of a target is restricted to the models that have a result for every seed
(``GroundTruth`` needs a complete matrix); the test predictions are used for ``accuracy`` when
every such model and seed has a readable file, all with the same true labels, and each file's
accuracy equals the stored one (else they are left out and a note says why).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any

import numpy as np

from ..predictions import load_predictions
from ..evaluate.reliability import DEFAULT_THRESHOLD, GroundTruth, Reliability, reliability
from ..evaluate.significance import Comparison, TargetData as SigTarget, compare, target_draws, target_label
from ..store import ResultsStore
from .tables import BenchmarkData, Leaderboard, RankRow, TargetData, rank_metrics

ACCURACY = "accuracy"  # the ground-truth statistic that is a mean of per-sample correctness
CONSISTENCY_TOL = 1e-9


EXACT_SEED_SEARCH = 16  # up to this many seeds, every subset of them is tried (2^16 sets of a few models)


def complete_truth(t: TargetData, truth: str) -> tuple[tuple[str, ...], tuple[int, ...], np.ndarray]:
    """The largest complete (models, seeds) matrix of the target's results: the models, the seeds, the values.

    Reliability and the resampling need every model on every seed. For a set of seeds S, the models
    with a finite result on each seed of S give |models| x |S| results; the S with the most results
    is taken, then the one with the most models (then the earliest seeds). Every subset of up to
    ``EXACT_SEED_SEARCH`` seeds is tried; beyond that, the seeds shared by the k models with the most
    seeds, for every k. One model with an extra seed then costs that seed, not every other model; one
    model with a single seed among six costs that model, not five seeds of every other
    (:func:`complete_truth_note` says what is left out).
    """
    by_model = t.truth_values.get(truth, {})
    finite = _finite_seeds(by_model)
    all_seeds = sorted(set().union(*finite.values())) if finite else []
    if len(all_seeds) <= EXACT_SEED_SEARCH:
        candidates = (frozenset(c) for r in range(1, len(all_seeds) + 1) for c in itertools.combinations(all_seeds, r))
    else:
        ordered = sorted(finite, key=lambda m: (-len(finite[m]), m))
        candidates = (frozenset.intersection(*(finite[m] for m in ordered[:k])) for k in range(1, len(ordered) + 1))
    best_key, best_models, best_seeds = (0, 0, ()), (), ()
    for seed_set in candidates:
        if not seed_set:
            continue
        models = tuple(sorted(m for m, seeds in finite.items() if seed_set <= seeds))
        ordered_seeds = tuple(sorted(seed_set))
        key = (len(models) * len(seed_set), len(models), tuple(-s for s in ordered_seeds))
        if key > best_key:
            best_key, best_models, best_seeds = key, models, ordered_seeds
    values = np.array([[by_model[m][s] for s in best_seeds] for m in best_models], dtype=np.float64)
    return best_models, best_seeds, values.reshape(len(best_models), len(best_seeds))


def _finite_seeds(by_model: dict[str, dict[int, float]]) -> dict[str, frozenset[int]]:
    """model -> the seeds with a finite result, for the models that have one."""
    finite = {m: frozenset(s for s, v in by_seed.items() if math.isfinite(v)) for m, by_seed in by_model.items()}
    return {m: seeds for m, seeds in finite.items() if seeds}


def complete_truth_note(t: TargetData, truth: str, models: tuple[str, ...], seeds: tuple[int, ...]) -> str:
    """What :func:`complete_truth` left out of the target's verdict (empty when nothing)."""
    finite = _finite_seeds(t.truth_values.get(truth, {}))
    out_models = sorted(set(finite) - set(models))
    out_seeds = sorted(set().union(*finite.values()) - set(seeds)) if finite else []
    if not out_models and not out_seeds:
        return ""
    parts = []
    if out_models:
        parts.append(f"model{'s' if len(out_models) > 1 else ''} {', '.join(out_models)}")
    if out_seeds:
        parts.append(f"seed{'s' if len(out_seeds) > 1 else ''} {', '.join(map(str, out_seeds))}")
    return (f"{t.target}: {truth}: the reliability and the comparison use {len(models)} models x "
            f"{len(seeds)} seeds, the largest set with a result for every pair; left out: {' and '.join(parts)}")


def load_correctness(store: ResultsStore, benchmark: str, target: str, models: tuple[str, ...], seeds: tuple[int, ...],
                     values: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """(models, seeds, n_test) correctness and the true labels from the stored predictions, or (None, None, why not)."""
    paths = store.prediction_paths(benchmark, target)
    if not paths:
        return None, None, ""
    missing = [(m, s) for m in models for s in seeds if (m, s) not in paths]
    if missing:
        return None, None, f"test predictions missing for {len(missing)} of {len(models) * len(seeds)} runs"
    rows, true = [], None
    for i, m in enumerate(models):
        row = []
        for j, s in enumerate(seeds):
            preds = load_predictions(paths[(m, s)])
            if preds is None:
                return None, None, f"test predictions of {m} seed {s} unreadable or failing their checksum"
            if true is None:
                true = preds.true
            elif preds.true.shape != true.shape or not np.array_equal(preds.true, true):
                return None, None, f"test predictions of {m} seed {s} are on other test samples"
            if abs(preds.correct.mean() - values[i, j]) > CONSISTENCY_TOL:
                return None, None, f"test predictions of {m} seed {s} do not give its stored accuracy"
            row.append(preds.correct)
        rows.append(row)
    return np.array(rows, dtype=np.float64), true, ""


def attach_trust(board: Leaderboard, store: ResultsStore, *, threshold: float = DEFAULT_THRESHOLD,
                 n_boot: int, seed: int, level: float, correction: str = "maxt",
                 exclude_flagged: bool = False) -> Leaderboard:
    """Compute reliability, ceilings and significance and store them on the board (returned).

    ``exclude_flagged``: a target whose primary ground truth is flagged (full-seed reliability below
    ``threshold``, or not measurable) is left out of the comparisons and of the Ranking's mean τ_w,
    and the benchmark's notes say so with its reliability; its tables stay on the board.
    """
    board.reliability_threshold = threshold
    board.exclude_flagged = exclude_flagged
    all_draws = []
    task_draws: dict[str, list] = {}
    for b in board.benchmarks:
        b.reliability_threshold = threshold
        targets = []
        for t in b.targets:
            truths, partial = [], set()
            for truth in t.truths:
                models, seeds, values = complete_truth(t, truth)
                if not models:
                    continue
                if note := complete_truth_note(t, truth, models, seeds):
                    b.trust_notes.append(note)
                    partial.add(truth)
                correct, labels, note = (load_correctness(store, b.benchmark, t.target, models, seeds, values)
                                         if truth == ACCURACY else (None, None, ""))
                if note:
                    b.trust_notes.append(f"{t.target}: {note}; reliability over seeds only")
                gt = GroundTruth(models, seeds, values, correct, labels)
                b.reliability[(t.target, truth)] = reliability(gt, seed=seed)
                truths.append(gt)
            primary = b.reliability.get((t.target, t.truths[0])) if t.truths else None  # load_target: primary first
            if exclude_flagged and primary is not None and primary.flagged(threshold):
                b.trust_notes.append(f"{t.target}: left out of the verdict (comparisons and the Ranking's mean): "
                                     f"{flag_text(primary, threshold)}")
                b.excluded.append(t.target)
                continue
            sig = _significance_target(b, t, truths, partial)
            if sig is not None:
                targets.append(sig)
        # the zoo: the models in some target's verdict (a model with no complete ground truth anywhere,
        # drawn on every replicate and then dropped on every target, would only add noise)
        zoo = tuple(sorted({m for sig in targets for m in sig.truths[0].models}))
        draws = [target_draws(replace(sig, zoo=zoo), n_boot=n_boot, seed=seed) for sig in targets]
        b.significance = compare(draws, level=level, correction=correction) if draws else None
        all_draws += draws
        task_draws.setdefault(b.task, []).extend(draws)
    board.significance = compare(all_draws, level=level, correction=correction) if all_draws else None
    board.task_significance = {task: compare(d, level=level, correction=correction)
                               for task, d in task_draws.items() if d}
    labelled = [(b.task, (target_label(b.benchmark, t.target), t)) for b in board.benchmarks for t in b.targets]
    board.overall = rerank(board.overall, board.significance, [lt for _, lt in labelled])
    board.by_task = {task: rerank(rows, board.task_significance.get(task), [lt for k, lt in labelled if k == task])
                     for task, rows in board.by_task.items()}
    return board


def rerank(rows: list[RankRow], c: Comparison | None, targets: list[tuple[str, TargetData]]) -> list[RankRow]:
    """The Ranking with the comparison's target weights and letters (``targets``: each with its label
    in the comparison): each metric's weighted mean of its per-target tau_w, the values of the board's
    tables, ranked as :func:`.tables.rank_metrics` ranks."""
    if c is None:
        return rows
    weights = c.extra.get("weights") or {}
    out = rank_metrics([r.metric for r in rows], [t for _, t in targets], [weights.get(label, 0.0) for label, _ in targets])
    for r in out:
        r.letters = c.letters.get(r.metric, "")
    return out


def _significance_target(b: BenchmarkData, t: TargetData, truths: list[GroundTruth],
                         partial: set[str] = frozenset()) -> SigTarget | None:
    """The target restricted to the models every truth has; a metric's scores are NaN on the models
    it gave no value on (:func:`~facebench.evaluate.significance.target_draws` measures each metric on
    its own models, as the board's tables do).

    ``partial``: the truths whose complete matrix left models or seeds out; on the one truth compared
    (the primary), the observed tau_w of each metric is the board's table value (on all the target's results), so that
    the comparison's mean is the Ranking's, and the replicates of the complete matrix give its spread.

    The comparison uses the quantity the Ranking shows: tau_w against the primary ground truth
    (``truths`` lists it first); in a store that did not record one, against every statistic, averaged.
    """
    if t.primary is not None:
        truths = truths[:1]
    scored = {m: sc for m, sc in t.scores.items() if sc}
    if not truths or not scored:
        return None
    models = set(truths[0].models)
    for gt in truths[1:]:
        models &= set(gt.models)
    common_seeds = set(truths[0].seeds)
    for gt in truths[1:]:
        common_seeds &= set(gt.seeds)
    keep = tuple(sorted(models))
    seeds = tuple(sorted(common_seeds))
    if len(keep) < 2 or not seeds:
        return None
    restricted = []
    for gt in truths:
        mi = [gt.models.index(m) for m in keep]
        si = [gt.seeds.index(s) for s in seeds]
        correct = None if gt.correct is None else gt.correct[np.ix_(mi, si)]
        restricted.append(GroundTruth(keep, seeds, gt.values[np.ix_(mi, si)], correct, gt.labels))
    scores = {m: np.array([sc.get(k, np.nan) for k in keep], dtype=np.float64) for m, sc in scored.items()}
    observed = {}
    if len(truths) == 1 and t.truths and t.truths[0] in partial:  # truths[0] is then t.truths[0]'s matrix
        for m in scored:
            cell = t.cells.get((m, t.truths[0]))
            value = cell.values.get("tau_w") if cell is not None else None
            if value is not None and math.isfinite(value):
                observed[m] = float(value)
    return SigTarget(b.benchmark, t.target, tuple(restricted), scores, observed=observed)


# -- machine-readable forms (used by the CSV / JSON renderers) --------------------------------
RELIABILITY_STATISTICS = (
    "reliability", "reliability_full_tau_w", "reliability_seeds_tau_w", "reliability_seeds_kendall", "reliability_seeds_tau_w_low",
    "reliability_seeds_tau_w_high", "reliability_test_tau_w",
    "reliability_test_kendall", "reliability_both_tau_w", "reliability_both_kendall",
    "noise_ceiling_tau_w", "noise_ceiling_kendall",
)


def _rel_values(r: Reliability) -> dict[str, float]:
    return {
        "reliability": r.value, "reliability_full_tau_w": r.full_tau_w,
        "reliability_seeds_tau_w": r.seeds_tau_w, "reliability_seeds_kendall": r.seeds_kendall,
        "reliability_seeds_tau_w_low": r.seeds_tau_w_low, "reliability_seeds_tau_w_high": r.seeds_tau_w_high,
        "reliability_test_tau_w": r.test_tau_w, "reliability_test_kendall": r.test_kendall,
        "reliability_both_tau_w": r.both_tau_w, "reliability_both_kendall": r.both_kendall,
        "noise_ceiling_tau_w": r.ceiling_tau_w, "noise_ceiling_kendall": r.ceiling_kendall,
    }


def trust_rows(board: Leaderboard) -> list[dict[str, Any]]:
    """CSV/JSON rows: reliability figures (metric empty) and pairwise Delta mean tau_w (with ``versus``).

    A Delta row's ``target`` is empty (it is over the benchmark's targets); the overall comparison
    has ``benchmark`` "(all)" and task / zoo empty. ``value`` of a ``p_adjusted`` row is the p-value.
    """
    rows: list[dict[str, Any]] = []
    for b in board.benchmarks:
        for t in b.targets:
            for truth in t.truths:
                r = b.reliability.get((t.target, truth))
                if r is None:
                    continue
                for stat, value in _rel_values(r).items():
                    rows.append({"task": b.task, "zoo": b.zoo, "benchmark": b.benchmark, "target": t.target,
                                 "metric": "", "truth": truth, "statistic": stat, "value": value,
                                 "ci_low": math.nan, "ci_high": math.nan, "versus": ""})
        if b.significance is not None:
            rows += _delta_rows(b.significance, b.task, b.zoo, b.benchmark)
    if board.significance is not None:
        rows += _delta_rows(board.significance, "", "", "(all)")
    return rows


def _delta_rows(c: Comparison, task: str, zoo: str, benchmark: str) -> list[dict[str, Any]]:
    rows = []
    for p in c.pairs:
        base = {"task": task, "zoo": zoo, "benchmark": benchmark, "target": "", "metric": p.a, "truth": "",
                "versus": p.b}
        rows.append({**base, "statistic": "delta_mean_tau_w", "value": p.delta, "ci_low": p.low, "ci_high": p.high})
        rows.append({**base, "statistic": "p_adjusted", "value": p.p_adjusted, "ci_low": math.nan,
                     "ci_high": math.nan})
    return rows


def comparison_json(c: Comparison | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "n_boot": c.n_boot, "level": c.level, "correction": c.correction, "targets": c.n_targets,
        "weighting": c.extra.get("weighting"), "weights": c.extra.get("weights"),
        "min_attainable_p": c.extra.get("min_attainable_p"), "top_two": c.extra.get("top_two"),
        "metrics": [{"metric": m, "mean_tau_w": c.mean_tau_w[m], "letters": c.letters[m]} for m in c.metrics],
        "groups": c.groups,
        "pairs": [{"a": p.a, "b": p.b, "delta_mean_tau_w": p.delta, "ci_low": p.low, "ci_high": p.high,
                   "p": p.p, "p_adjusted": p.p_adjusted, "significant": p.significant, "n_valid": p.n_valid}
                  for p in c.pairs],
    }


def reliability_json(b: BenchmarkData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for (target, truth), r in b.reliability.items():
        out.setdefault(target, {})[truth] = {**r.as_dict(), "flagged": r.flagged(b.reliability_threshold)}
    return out


def flag_text(r: Reliability, threshold: float) -> str:
    """The board's flag of one ground truth: "ok", below the threshold, or not measurable."""
    if not r.flagged(threshold):
        return "ok"
    if not math.isfinite(r.value):
        return "⚠ not measurable (needs 2 seeds and a non-constant ground truth)"
    return f"⚠ below {threshold:.2f}"


def flagged(b: BenchmarkData, target: str, truth: str) -> bool:
    """True when the target's ground truth for ``truth`` is less reliable than the threshold."""
    r = b.reliability.get((target, truth))
    return r is not None and r.flagged(b.reliability_threshold)
