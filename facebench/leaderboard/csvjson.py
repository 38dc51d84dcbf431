"""``leaderboard.csv`` and ``leaderboard.json``: the machine-readable leaderboard.

Both hold one row per metric x benchmark x target x ground-truth statistic x statistic with the
columns :data:`COLUMNS`, then the rows of :func:`.trust.trust_rows`: per target and ground truth
its reliability and noise ceiling (``metric`` empty, ``statistic`` one of
:data:`.trust.RELIABILITY_STATISTICS`), and per benchmark and overall (``benchmark`` "(all)") the
Delta mean tau_w of ``metric`` minus ``versus`` with its interval and its adjusted p-value. Floats at
full precision (``repr``), a missing value is an empty CSV field / JSON ``null``. The JSON object
adds the metadata and the summaries the tables show::

    {"facebench_version", "date", "store", "config", "bootstrap": {n_boot, seed, level},
     "columns": [...], "rows": [{column: value}, ...],
     "ranking": {"overall": [...], "by_task": {task: [...]}},      # mean tau_w, coverage, rank, letters
     "benchmarks": [{"benchmark", "task", "zoo", "models", "seeds", "targets", "metrics",
                     "cost": {...}, "cost_ratio": {"ratio": {metric: r}, "finetune_once_seconds"},
                     "job_costs": [{kind, jobs, seconds, devices, peak_rss_bytes, peak_gpu_bytes}],
                     "ground_truth": {...}, "diagnostics": {name: {...}},
                     "reliability": {target: {truth: {...figures, "flagged"}}},
                     "significance": {metrics (mean_tau_w, letters), groups, pairs}}],
     "metrics": [{name, summary, params, source, reference_code, departures}],   # metric cards
     "sensitivity": [{benchmark, metric, params, grid, targets, rows: [{params, default, tau_w, mean}], skipped}],
     "reliability_threshold", "significance": {... all benchmarks together}}
"""
from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from .tables import BenchmarkData, Leaderboard, RankRow, long_rows
from .trust import comparison_json, reliability_json, trust_rows

COLUMNS = ("task", "zoo", "benchmark", "target", "metric", "truth", "statistic", "value", "ci_low", "ci_high",
           "versus")


def all_rows(board: Leaderboard) -> list[dict[str, Any]]:
    """The metric rows, then the ground-truth reliability and metric-comparison rows (:mod:`.trust`)."""
    return [{**r, "versus": r.get("versus", "")} for r in long_rows(board)] + trust_rows(board)


def _num(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    return v


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return _num(obj)


def render_csv(board: Leaderboard) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in all_rows(board):
        writer.writerow(["" if (v := _num(row[c])) is None else repr(v) if isinstance(v, float) else v
                         for c in COLUMNS])
    return buf.getvalue()


def _ranking(rows: list[RankRow]) -> list[dict[str, Any]]:
    return [{"rank": r.rank, "metric": r.metric, "mean_tau_w": r.mean_tau_w, "targets_covered": r.covered,
             "targets_total": r.total, "letters": r.letters} for r in rows]


def _benchmark(b: BenchmarkData) -> dict[str, Any]:
    return {
        "benchmark": b.benchmark, "task": b.task, "zoo": b.zoo, "models": b.models, "seeds": b.seeds,
        "targets": [t.target for t in b.targets], "metrics": b.metrics, "truths": b.truths,
        "cost": {
            "scoring_seconds": {m: {t.target: t.seconds.get(m) for t in b.targets} | {"total": b.metric_seconds(m)}
                                for m in b.metrics},
            "scoring_total_seconds": b.scoring_seconds,
            "finetune_seconds": b.finetune_seconds,
            "extract_seconds": b.extract_seconds,
            "pretrain_seconds": b.pretrain_seconds,
        },
        # beside "cost" (whose keys stay as older boards had them): (extraction + metric) / fine-tuning once
        "cost_ratio": {"ratio": {m: b.cost_ratio(m) for m in b.metrics}, "finetune_once_seconds": b.finetune_once_seconds},
        "job_costs": b.cost_by_kind(),
        "ground_truth": {
            t.target: {truth: {m: {"n": s.n, "mean": s.mean, "std": s.std, "min": s.low, "max": s.high}
                               for m, s in sp.items()} for truth, sp in t.spread.items()}
            for t in b.targets
        },
        "diagnostics": {
            name: {t.target: {"kendall_epoch0_vs_last": tr.kendall, "epochs": tr.epochs, "curves": tr.curves}
                   for t in b.targets if (tr := t.diagnostics.get(name)) is not None}
            for name in dict.fromkeys(n for t in b.targets for n in t.diagnostics)
        },
        "notes": {t.target: {m: msgs for m, msgs in t.errors.items() if msgs} for t in b.targets},
    }


def _trust(b: BenchmarkData) -> dict[str, Any]:
    return {"reliability": reliability_json(b), "significance": comparison_json(b.significance),
            "reliability_notes": list(b.trust_notes)}


def render_json(board: Leaderboard) -> str:
    doc = {
        "facebench_version": board.version,
        "date": board.date,
        "store": board.store_path,
        "config": board.config_text,
        "bootstrap": {"n_boot": board.n_boot, "seed": board.seed, "level": board.level},
        "columns": list(COLUMNS),
        "rows": all_rows(board),
        "ranking": {"overall": _ranking(board.overall),
                    "by_task": {task: _ranking(rows) for task, rows in board.by_task.items()}},
        "benchmarks": [{**_benchmark(b), **_trust(b)} for b in board.benchmarks],
        "metrics": [card.as_dict() for card in board.cards],
        "sensitivity": [a.as_dict() for a in board.sensitivity],
        "reliability_threshold": board.reliability_threshold,
        "significance": comparison_json(board.significance),
        "task_significance": {task: comparison_json(c) for task, c in board.task_significance.items()},
    }
    return json.dumps(_clean(doc), indent=1, allow_nan=False) + "\n"
