"""``leaderboard.csv`` and ``leaderboard.json``: the machine-readable leaderboard.

Both hold one row per metric x benchmark x target x ground-truth statistic x statistic with the
columns :data:`COLUMNS`; floats at full precision (``repr``), a missing value is an empty CSV
field / JSON ``null``. The JSON object adds the metadata and the summaries the tables show::

    {"facebench_version", "date", "store", "config", "bootstrap": {n_boot, seed, level},
     "columns": [...], "rows": [{column: value}, ...],
     "ranking": {"overall": [...], "by_task": {task: [...]}},      # mean tau_w, coverage, rank
     "benchmarks": [{"benchmark", "task", "zoo", "models", "seeds", "targets", "metrics",
                     "cost": {...}, "ground_truth": {...}, "diagnostics": {name: {...}}}]}
"""
from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from .tables import BenchmarkData, Leaderboard, RankRow, long_rows

COLUMNS = ("task", "zoo", "benchmark", "target", "metric", "truth", "statistic", "value", "ci_low", "ci_high")


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
    for row in long_rows(board):
        writer.writerow(["" if (v := _num(row[c])) is None else repr(v) if isinstance(v, float) else v
                         for c in COLUMNS])
    return buf.getvalue()


def _ranking(rows: list[RankRow]) -> list[dict[str, Any]]:
    return [{"rank": r.rank, "metric": r.metric, "mean_tau_w": r.mean_tau_w, "targets_covered": r.covered,
             "targets_total": r.total} for r in rows]


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


def render_json(board: Leaderboard) -> str:
    doc = {
        "facebench_version": board.version,
        "date": board.date,
        "store": board.store_path,
        "config": board.config_text,
        "bootstrap": {"n_boot": board.n_boot, "seed": board.seed, "level": board.level},
        "columns": list(COLUMNS),
        "rows": long_rows(board),
        "ranking": {"overall": _ranking(board.overall),
                    "by_task": {task: _ranking(rows) for task, rows in board.by_task.items()}},
        "benchmarks": [_benchmark(b) for b in board.benchmarks],
    }
    return json.dumps(_clean(doc), indent=1, allow_nan=False) + "\n"
