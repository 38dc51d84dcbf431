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
    python benchmarks/bench_metrics.py --bundle lite0-fmnist-50k.npz --threads 1   # a saved bundle

``--bundle PATH.npz`` times the metrics on a saved bundle (``FeatureBundle.load_npz``: features,
labels, optional probs) instead of the synthetic sizes, e.g. the real-feature bundle that
``benchmarks/real_feature_bundle.py`` writes (EfficientNet-Lite features of Fashion-MNIST: n = 50,000,
d = 1,280, K = 10, Z = 1,000); the bundle's n, d, K and Z are printed, and its ``<PATH>.json`` meta
(model, extraction) when there is one; that meta becomes the bundle's, as in a run, so the
data-free controls can read it. Metrics that need probs fail on a bundle without them.

Every row gives the wall-clock seconds, the CPU seconds of the process (both of the best call;
all threads together) and the 1-minute load average (``os.getloadavg()``) just before and just
after the metric's calls: on a shared machine a figure means little without the load it ran under.
A metric that refuses the bundle's inputs (``MetricInputError``/``MetricUndefined``: a data-free
control whose fact the meta lacks, as on the synthetic bundles) is shown UNDEFINED, as a board
shows it, and does not make the exit status non-zero; any other exception is FAILED (exit 1).

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
import json
import os
import sys
import time
from pathlib import Path

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


@dataclasses.dataclass(frozen=True)
class Timing:
    """One metric's figure: best wall and its CPU seconds, the 1-min load average around the calls."""

    seconds: float
    cpu_seconds: float
    load_before: float
    load_after: float
    error: str = ""
    undefined: bool = False  # the metric refused this bundle's inputs (MetricInputError/MetricUndefined)


def measure_metric(name: str, bundle, repeat: int) -> Timing:
    """Best wall-clock seconds of ``score`` (with that call's CPU seconds and the error text, if the
    metric failed) and the 1-minute load average before the first call and after the last."""
    from facebench.plugins import get_plugins

    metric = get_plugins().create_metric(name)
    best, best_cpu = float("inf"), float("nan")
    load_before = os.getloadavg()[0]
    for _ in range(repeat):
        # a fresh bundle object (same arrays, no copy) each call, so that nothing memoised per
        # bundle (facebench caches C and the class distances per bundle object) is reused
        fresh = dataclasses.replace(bundle)
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        try:
            with np.errstate(all="ignore"):
                value = metric.score(fresh)
        except Exception as exc:  # report and go on with the other metrics
            from facebench.errors import MetricInputError, MetricUndefined

            return Timing(time.perf_counter() - start, time.process_time() - cpu, load_before,
                          os.getloadavg()[0], f"{type(exc).__name__}: {exc}",
                          isinstance(exc, (MetricInputError, MetricUndefined)))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        if seconds < best:
            best, best_cpu = seconds, cpu
    del value, fresh
    return Timing(best, best_cpu, load_before, os.getloadavg()[0])


def time_metric(name: str, bundle, repeat: int) -> tuple[float, str]:
    """Best wall-clock seconds of ``score`` (and the error text, if the metric failed)."""
    timing = measure_metric(name, bundle, repeat)
    return timing.seconds, timing.error


def load_bundle(path: str | os.PathLike[str]):
    """A saved bundle (``FeatureBundle.load_npz``) and its label for the table; prints n, d, K, Z,
    the load time and the ``<path>.json`` meta that ``real_feature_bundle.py`` writes beside it."""
    from facebench.bundle import FeatureBundle

    path = Path(path)
    start = time.perf_counter()
    bundle = FeatureBundle.load_npz(path)
    z = bundle.probs.shape[1] if bundle.probs is not None else 0
    print(f"# bundle {path}: n={bundle.n}, d={bundle.dim}, K={bundle.num_classes}, Z={z or 'none (no probs)'}; "
          f"loaded in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    sidecar = path.with_suffix(".json")
    if sidecar.is_file():
        meta = json.loads(sidecar.read_text())
        keys = ("model", "dataset", "preprocessing", "subsample_seed", "extraction_wall_s", "loadavg_before", "note")
        print(f"# meta ({sidecar.name}): " + json.dumps({k: meta[k] for k in keys if k in meta}),
              file=sys.stderr, flush=True)
        # the extraction's meta, as a run's bundle carries it (the data-free controls read num_params etc.)
        bundle = dataclasses.replace(bundle, meta={**meta, **bundle.meta})
    return f"{path.stem} (n={bundle.n}, d={bundle.dim}, K={bundle.num_classes})", bundle


def synthetic_bundles(sizes, seed: int):
    """(size, label, bundle) of each synthetic size, generated when asked for (one in memory at a time)."""
    for size in sizes:
        spec = SIZES[size]
        label = f"{size} (n={spec['n']}, d={spec['d']}, K={spec['k']})"
        start = time.perf_counter()
        bundle = make_bundle(spec["n"], spec["d"], spec["k"], spec["z"], seed=seed)
        print(f"# {label}: data generated in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        yield size, label, bundle
        del bundle  # before the next size is generated
        gc.collect()


def main(argv: list[str] | None = None) -> int:
    from facebench.plugins import get_plugins

    registered = get_plugins().metrics.names()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=None,
                        help="sizes to run (default: small, then large)")
    parser.add_argument("--bundle", metavar="PATH.npz", default=None,
                        help="time the metrics on this saved bundle instead of the synthetic sizes "
                             "(e.g. one written by benchmarks/real_feature_bundle.py)")
    parser.add_argument("--metrics", nargs="+", default=registered, metavar="NAME",
                        help=f"metrics to time (default: all registered: {', '.join(registered)})")
    parser.add_argument("--repeat", type=int, default=None,
                        help="calls per metric, best kept (default: 3 for small, 1 for medium, large and --bundle)")
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

    if args.bundle and args.sizes:
        parser.error("--bundle and --sizes are alternatives: give one")
    if args.bundle:
        try:
            bundles = [("bundle", *load_bundle(args.bundle))]
        except Exception as exc:  # a missing or malformed file: say so, no traceback
            parser.error(f"--bundle: {exc}")
    else:
        bundles = synthetic_bundles(args.sizes or ["small", "large"], args.seed)
    width = max(len(m) for m in args.metrics + ["metric"] + (["ALL (one score_zoo)"] if args.together else []))
    # the label column fits the synthetic sizes; a bundle's label (its file stem) may be longer
    col = max(34, len(bundles[0][1]) if args.bundle else 0)
    print(f"# load: 1-minute load average (os.getloadavg) before / after, on {os.cpu_count()} cores",
          file=sys.stderr, flush=True)
    print(f"{'metric':<{width}}  {'size':<{col}}  {'seconds':>9}  {'cpu s':>9}  {'load before':>11}  {'after':>6}",
          flush=True)
    print(f"{'-' * width}  {'-' * col}  {'-' * 9}  {'-' * 9}  {'-' * 11}  {'-' * 6}", flush=True)
    failed = False
    for size, label, bundle in bundles:
        repeat = args.repeat or (3 if size == "small" else 1)
        for name in args.metrics:
            t = measure_metric(name, bundle, repeat)
            note = f"  {'UNDEFINED' if t.undefined else 'FAILED'}: {t.error}" if t.error else ""
            failed |= bool(t.error) and not t.undefined
            print(f"{name:<{width}}  {label:<{col}}  {t.seconds:9.4f}  {t.cpu_seconds:9.2f}  {t.load_before:11.2f}"
                  f"  {t.load_after:6.2f}{note}", flush=True)
        if args.together:
            from facebench.score.zoo import score_zoo

            metrics = {m: get_plugins().create_metric(m) for m in args.metrics}
            load_before = os.getloadavg()[0]
            start, cpu = time.perf_counter(), time.process_time()
            score_zoo(metrics, {"model": dataclasses.replace(bundle)})
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            print(f"{'ALL (one score_zoo)':<{width}}  {label:<{col}}  {seconds:9.4f}  {cpu:9.2f}"
                  f"  {load_before:11.2f}  {os.getloadavg()[0]:6.2f}", flush=True)
        del bundle
        gc.collect()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
