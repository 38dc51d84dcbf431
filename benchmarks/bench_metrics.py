#!/usr/bin/env python
"""Time every registered metric on random data (a script, not a test).

Sizes:
  small   n=1,000   d=64    K=10   probs Z=100  (leep / nce)
  medium  n=10,000  d=512   K=100  probs Z=1,000 (not run by default: to estimate the large cost of
                                                 a slow metric before trying it)
  large   n=50,000  d=2,048 K=100  probs Z=1,000

Data are generated in float32 (as extracted features are), then wrapped in a FeatureBundle
(which validates and converts to float64; that conversion is not timed). Metrics run one at a
time, in one process, on the same arrays; each row is the best of ``--repeat`` calls of
``metric.score(bundle)``, each on a fresh bundle object so that per-bundle memoisation is not
timed (the zoo step, ``combine``, is a min-max over a few numbers and is not timed).

    python benchmarks/bench_metrics.py                      # small, then large
    python benchmarks/bench_metrics.py --sizes small
    python benchmarks/bench_metrics.py --sizes large --metrics face-vc logme
    python benchmarks/bench_metrics.py --threads 1       # BLAS on one thread
    python benchmarks/bench_metrics.py --together        # also: all metrics in one score_zoo call

``--together`` also times what a run does: every metric on one bundle through
``facebench.score.zoo.score_zoo``, where metrics that share work (C, the class distances) reuse it.

Every registered metric runs by default, at the large size too (measured figures, with the machine's
load: benchmarks/metric_speed.md and the README's table).

On a small, shared machine use ``--threads 1``: a threaded BLAS that competes with other
processes for the cores can make small factorisations (face-cf-literal's per-pair Cholesky of
~1000 x 1000 matrices) an order of magnitude slower than on one thread.
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import time

import numpy as np

SIZES = {
    "small": dict(n=1_000, d=64, k=10, z=100),
    "medium": dict(n=10_000, d=512, k=100, z=1_000),
    "large": dict(n=50_000, d=2_048, k=100, z=1_000),
}


def make_bundle(n: int, d: int, k: int, z: int, seed: int = 0):
    """Gaussian classes (float32), balanced labels, a source softmax correlated with the labels."""
    from facebench.bundle import FeatureBundle

    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    rng.shuffle(labels)
    means = rng.standard_normal((k, d), dtype=np.float32) * np.float32(0.5)
    features = rng.standard_normal((n, d), dtype=np.float32)
    features += means[labels]
    features += np.float32(0.3)  # a common offset, as non-negative (ReLU) features have
    logits = rng.standard_normal((n, z), dtype=np.float32)
    logits[np.arange(n), labels % z] += np.float32(3.0)
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    del means
    return FeatureBundle.from_arrays(features, labels, logits, name=f"random-n{n}-d{d}-K{k}")


def time_metric(name: str, bundle, repeat: int) -> tuple[float, str]:
    """Best wall-clock seconds of ``score`` (and the error text, if the metric failed)."""
    from facebench.plugins import get_plugins

    metric = get_plugins().create_metric(name)
    best = float("inf")
    for _ in range(repeat):
        # a fresh bundle object (same arrays, no copy) each call, so that nothing memoised per
        # bundle (facebench caches C and the class distances per bundle object) is reused
        fresh = dataclasses.replace(bundle)
        gc.collect()
        start = time.perf_counter()
        try:
            with np.errstate(all="ignore"):
                value = metric.score(fresh)
        except Exception as exc:  # report and go on with the other metrics
            return time.perf_counter() - start, f"{type(exc).__name__}: {exc}"
        best = min(best, time.perf_counter() - start)
    del value, fresh
    return best, ""


def main(argv: list[str] | None = None) -> int:
    from facebench.plugins import get_plugins

    registered = get_plugins().metrics.names()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=["small", "large"],
                        help="sizes to run (default: small, then large)")
    parser.add_argument("--metrics", nargs="+", default=registered, metavar="NAME",
                        help=f"metrics to time (default: all registered: {', '.join(registered)})")
    parser.add_argument("--repeat", type=int, default=None,
                        help="calls per metric, best kept (default: 3 for small, 1 for large)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="limit BLAS threads (threadpoolctl)")
    parser.add_argument("--together", action="store_true",
                        help="also time all chosen metrics together on one bundle (shared work reused)")
    args = parser.parse_args(argv)
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads)
    unknown = [m for m in args.metrics if m not in registered]
    if unknown:
        parser.error(f"unknown metric(s): {', '.join(unknown)} (registered: {', '.join(registered)})")

    width = max(len(m) for m in args.metrics + ["metric"])
    print(f"{'metric':<{width}}  {'size':<34}  {'seconds':>9}", flush=True)
    print(f"{'-' * width}  {'-' * 34}  {'-' * 9}", flush=True)
    failed = False
    for size in args.sizes:
        spec = SIZES[size]
        label = f"{size} (n={spec['n']}, d={spec['d']}, K={spec['k']})"
        start = time.perf_counter()
        bundle = make_bundle(spec["n"], spec["d"], spec["k"], spec["z"], seed=args.seed)
        print(f"# {label}: data generated in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        repeat = args.repeat or (3 if size == "small" else 1)
        for name in args.metrics:
            seconds, error = time_metric(name, bundle, repeat)
            note = f"  FAILED: {error}" if error else ""
            failed |= bool(error)
            print(f"{name:<{width}}  {label:<34}  {seconds:9.4f}{note}", flush=True)
        if args.together:
            from facebench.score.zoo import score_zoo

            metrics = {m: get_plugins().create_metric(m) for m in args.metrics}
            start = time.perf_counter()
            score_zoo(metrics, {"model": dataclasses.replace(bundle)})
            print(f"{'ALL (one score_zoo)':<{width}}  {label:<34}  {time.perf_counter() - start:9.4f}", flush=True)
        del bundle
        gc.collect()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
