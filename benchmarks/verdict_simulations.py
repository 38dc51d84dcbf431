"""The simulations behind docs/statistics.md: the metric comparison's error rate and power, and the
full-seed reliability against the brute-force truth.

    python benchmarks/verdict_simulations.py            # about a minute on 2 cores

Comparisons: 8 targets of 12 models, 6 seeds (tests/test_verdict.py's generator: true quality
q ~ N(0, 1), seed noise sd 0.35, a metric scores q + N(0, noise)), 400 resamples per comparison.
Reliability: 12 models, seed sd 0.02, 30 realisations per case; the truth is the mean tau_w of two
fresh S-seed means over 3000 draws.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_verdict import simulated_targets  # noqa: E402

from facebench.evaluate.reliability import GroundTruth, reliability  # noqa: E402
from facebench.evaluate.significance import compare, target_draws  # noqa: E402


def rejection_rate(noise: dict, replicates: int, rng) -> float:
    rejected = 0
    for r in range(replicates):
        c = compare([target_draws(t, n_boot=400, seed=r) for t in simulated_targets(rng, noise)])
        rejected += any(p.significant for p in c.pairs)
    return rejected / replicates


def main() -> None:
    rng = np.random.default_rng(1)
    print("null, two equally good metrics (300):", rejection_rate({"a": 0.8, "b": 0.8}, 300, rng))
    print("null, six equally good metrics, any pair (100):", rejection_rate({k: 0.8 for k in "abcdef"}, 100, rng))
    for a, b in [(0.3, 1.0), (0.5, 1.0), (0.0, None)]:
        print(f"noise {a} against {b} (100):", rejection_rate({"a": a, "b": b}, 100, rng))
    for spread, s in [(0.04, 6), (0.015, 6), (0.03, 3), (0.01, 3), (0.03, 4)]:
        rng = np.random.default_rng(11)
        n, sigma = 12, 0.02
        mu = 0.8 + spread * np.linspace(-1, 1, n)
        draw = lambda k: mu + sigma / np.sqrt(k) * rng.standard_normal(n)  # noqa: E731
        truth = np.mean([stats.weightedtau(draw(s), draw(s)).statistic for _ in range(3000)])
        half = np.mean([stats.weightedtau(draw(s // 2), draw(s // 2)).statistic for _ in range(3000)])
        est, obs = [], []
        for _ in range(30):
            values = mu[:, None] + sigma * rng.standard_normal((n, s))
            r = reliability(GroundTruth(tuple(f"m{i}" for i in range(n)), tuple(range(s)), values),
                            seed=int(rng.integers(1 << 30)))
            est.append(r.full_tau_w)
            obs.append(r.seeds_tau_w)
        print(f"spread ±{spread}, {s} seeds: full-seed truth {truth:.3f}, estimate {np.mean(est):.3f} "
              f"(sd {np.std(est):.3f}); half-seed truth {half:.3f}, observed {np.mean(obs):.3f}")


if __name__ == "__main__":
    main()
