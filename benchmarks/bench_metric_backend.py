#!/usr/bin/env python
"""Time metrics on the numpy path and through torch on a device, and compare their values.

For each metric: seconds of ``metric.score`` on numpy, seconds inside
``facebench.metrics._backend.torch_backend(DEVICE)`` (what a run's scoring jobs use when the run's
device is a GPU), and the largest relative difference between the two outputs (the tests require
<= 1e-6). Data: ``bench_metrics.make_bundle`` (Gaussian classes, float32 features made float64).

    python benchmarks/bench_metric_backend.py --device cuda                 # large: n=50,000, d=2,048, K=100
    python benchmarks/bench_metric_backend.py --device cpu --size small --min-elements 0   # the torch path on CPU
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_metrics import SIZES, make_bundle  # noqa: E402

# the metrics whose heavy arithmetic goes through the backend
DEFAULT_METRICS = ["logme", "hscore", "sfda", "face", "gbc", "transrate", "ncti"]


def flat(value) -> np.ndarray:
    if isinstance(value, dict):
        return np.concatenate([flat(value[k]) for k in sorted(value)]) if value else np.zeros(0)
    return np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()


def timed(metric, bundle, device: str | None, min_elements: int) -> tuple[float, np.ndarray]:
    from facebench.metrics._backend import torch_backend

    fresh = dataclasses.replace(bundle)  # nothing memoised per bundle object is reused
    gc.collect()
    start = time.perf_counter()
    with torch_backend(device, min_elements), np.errstate(all="ignore"):
        value = metric.score(fresh)
    if device and device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
    return time.perf_counter() - start, flat(value)


def main(argv: list[str] | None = None) -> int:
    from facebench.plugins import get_plugins

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="torch device of the backend path (cuda, cuda:1, cpu)")
    parser.add_argument("--size", choices=list(SIZES), default="large")
    parser.add_argument("--metrics", nargs="+", default=DEFAULT_METRICS)
    parser.add_argument("--min-elements", type=int, default=None,
                        help="operands from this size go through torch (default: the backend's, 2^22)")
    args = parser.parse_args(argv)
    from facebench.metrics._backend import LARGE

    min_elements = LARGE if args.min_elements is None else args.min_elements
    spec = SIZES[args.size]
    bundle = make_bundle(spec["n"], spec["d"], spec["k"], spec["z"])
    print(f"# {args.size}: n={spec['n']}, d={spec['d']}, K={spec['k']}; backend device {args.device}", flush=True)
    import torch  # imported before timing (the first import takes seconds)

    if args.device.startswith("cuda"):
        print(f"# {torch.cuda.get_device_name(args.device)}, torch {torch.__version__}", flush=True)
        torch.ones(1, device=args.device)  # CUDA context made before timing
    print(f"{'metric':<12} {'numpy s':>9} {'torch s':>9} {'speed-up':>9} {'max rel diff':>13}", flush=True)
    worst = 0.0
    for name in args.metrics:
        metric = get_plugins().create_metric(name)
        try:
            t_np, v_np = timed(metric, bundle, None, min_elements)
            t_t, v_t = timed(metric, bundle, args.device, min_elements)
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"{name:<12} FAILED: {type(exc).__name__}: {exc}", flush=True)
            continue
        rel = float(np.max(np.abs(v_t - v_np) / np.maximum(np.abs(v_np), 1e-300))) if v_np.size else 0.0
        worst = max(worst, rel)
        print(f"{name:<12} {t_np:9.2f} {t_t:9.2f} {t_np / t_t:9.2f} {rel:13.2e}", flush=True)
    print(f"# largest relative difference: {worst:.2e} ({'within' if worst <= 1e-6 else 'ABOVE'} 1e-6)", flush=True)
    return 0 if worst <= 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
