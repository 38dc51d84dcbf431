#!/usr/bin/env python
"""How much a benchmark's numbers move between two runs of one config (say CPU and GPU).

    python benchmarks/compare_stores.py A.sqlite B.sqlite [--statistic accuracy]

For the (benchmark, target, model, seed) ground-truth rows both stores hold, it prints:

* the absolute difference of the statistic (mean, largest);
* per target, weighted Kendall tau (``scipy.stats.weightedtau``, as the boards use) between A's
  and B's rankings of the models, per seed and on the seed means, beside the same figure between
  two seeds of one store: a machine difference is only worth naming if it is larger than what a
  different seed already does;
* per metric and target, the largest relative difference of the scores and the tau_w between
  A's and B's rankings of the models by that metric.

It reads the stores' tables directly (read-only) and changes nothing.
"""
from __future__ import annotations

import argparse
import itertools
import sqlite3
from collections import defaultdict

import numpy as np
from scipy import stats


def read_truth(path: str, statistic: str) -> dict[tuple[str, str, str, int], float]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT benchmark, target, model, seed, value FROM ground_truth WHERE statistic = ?",
                          (statistic,)).fetchall()
    return {(b, t, m, int(s)): float(v) for b, t, m, s, v in rows}


def read_scores(path: str) -> dict[tuple[str, str, str, str], float]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT benchmark, target, metric, model, score FROM scores").fetchall()
    return {(b, t, me, mo): float(s) for b, t, me, mo, s in rows}


def tau_w(x: list[float], y: list[float]) -> float:
    return float(stats.weightedtau(np.asarray(x), np.asarray(y)).statistic)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--statistic", default="accuracy")
    args = parser.parse_args(argv)

    ta, tb = read_truth(args.a, args.statistic), read_truth(args.b, args.statistic)
    common = sorted(set(ta) & set(tb))
    print(f"ground truth '{args.statistic}': {len(common)} rows in both ({len(ta)} in A, {len(tb)} in B)")
    if not common:
        return 1
    diff = np.array([abs(ta[k] - tb[k]) for k in common])
    print(f"  |A - B|: mean {diff.mean():.4f}, largest {diff.max():.4f}")

    by_target: dict[tuple[str, str], dict[int, dict[str, tuple[float, float]]]] = defaultdict(lambda: defaultdict(dict))
    for b, t, m, s in common:
        by_target[(b, t)][s][m] = (ta[(b, t, m, s)], tb[(b, t, m, s)])
    print(f"\n{'benchmark/target':<48} {'A~B per seed':>14} {'A~B seed mean':>14} {'A seed~seed':>12} {'B seed~seed':>12}")
    for (b, t), seeds in sorted(by_target.items()):
        models = sorted(set.intersection(*(set(v) for v in seeds.values())))
        per_seed = [tau_w([seeds[s][m][0] for m in models], [seeds[s][m][1] for m in models]) for s in sorted(seeds)]
        mean_a = [np.mean([seeds[s][m][0] for s in seeds]) for m in models]
        mean_b = [np.mean([seeds[s][m][1] for s in seeds]) for m in models]
        pairs = list(itertools.combinations(sorted(seeds), 2))
        within = [np.mean([tau_w([seeds[s][m][i] for m in models], [seeds[r][m][i] for m in models]) for s, r in pairs])
                  if pairs else float("nan") for i in (0, 1)]
        print(f"{b + ' ' + t:<48} {np.mean(per_seed):14.3f} {tau_w(mean_a, mean_b):14.3f} {within[0]:12.3f} {within[1]:12.3f}")

    sa, sb = read_scores(args.a), read_scores(args.b)
    grouped: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    for key in sorted(set(sa) & set(sb)):
        grouped[key[:3]].append((sa[key], sb[key]))
    if grouped:
        print(f"\n{'metric':<22} {'benchmark/target':<48} {'largest rel. diff':>17} {'tau_w A~B':>10}")
        for (b, t, me), pairs_ in sorted(grouped.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])):
            x, y = np.array(pairs_).T
            rel = np.abs(x - y) / np.maximum(np.maximum(np.abs(x), np.abs(y)), 1e-300)
            finite = np.isfinite(x) & np.isfinite(y)
            tw = tau_w(list(x[finite]), list(y[finite])) if finite.sum() > 2 else float("nan")
            print(f"{me:<22} {b + ' ' + t:<48} {np.nanmax(rel):17.2e} {tw:10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
