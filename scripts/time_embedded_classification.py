#!/usr/bin/env python
"""Time the embedded classification benchmark through the Task API (no runner, no store).

Runs validate, then pretrain for every zoo model, extract for every (model, target) and finetune
for every (model, target, seed), from an empty model cache (a fresh temporary folder unless
--cache-dir is given), and prints per-step wall and CPU times and the fine-tuned accuracy table
(mean over seeds) with the spread between models per target.

    python scripts/time_embedded_classification.py [--config configs/embedded/classification.yaml]
        [--models a,b] [--targets t1,t2] [--seeds 0,1] [--cache-dir DIR] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facebench.config import load_config  # noqa: E402
from facebench.plugins import get_plugins  # noqa: E402
from facebench.runner.context import task_context  # noqa: E402
from facebench.runner.resolve import resolve_benchmarks  # noqa: E402


class Clock:
    """Wall and process-CPU seconds per step."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def run(self, step: str, fn):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        self.wall[step] = self.wall.get(step, 0.0) + time.perf_counter() - w
        self.cpu[step] = self.cpu.get(step, 0.0) + time.process_time() - c
        return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "configs" / "embedded" / "classification.yaml"))
    ap.add_argument("--models", default="", help="comma-separated subset of the zoo's models")
    ap.add_argument("--targets", default="", help="comma-separated subset of the targets")
    ap.add_argument("--seeds", default="", help="comma-separated seeds (default: the config's)")
    ap.add_argument("--cache-dir", default="", help="model cache (default: a fresh temporary folder)")
    ap.add_argument("--threads", type=int, default=0, help="override options.num_threads (torch threads)")
    args = ap.parse_args(argv)

    t_start, c_start = time.perf_counter(), time.process_time()
    cfg = load_config(args.config)
    bench = cfg.benchmarks[0]
    plugins = get_plugins()
    task = plugins.tasks.get(bench.task)
    zoo = plugins.zoos.get(bench.zoo)
    models = [m for m in zoo.models if not args.models or m.name in args.models.split(",")]
    targets = [t for t in bench.targets if not args.targets or t in args.targets.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else list(bench.seeds)
    tmp = None
    if args.cache_dir:
        cache_dir = Path(args.cache_dir)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="facebench-embedded-")
        cache_dir = Path(tmp.name)
    options = dict(bench.options)
    if args.threads:
        options["num_threads"] = args.threads
    resolved = resolve_benchmarks(cfg, get_plugins(cfg.plugins))[0]
    hparams = resolved.hparams
    ctx = task_context(get_plugins(cfg.plugins), cache_dir=cache_dir, device="cpu", download=False, quiet=True,
                       options=options, instances=resolved.targets, diagnostics=resolved.diagnostics)
    print(f"config {args.config}: {len(models)} models x {len(targets)} targets x {len(seeds)} seeds; "
          f"finetune {hparams}; options {options}; cache {cache_dir}; "
          f"cpu_count {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}", flush=True)

    clock = Clock()
    clock.run("validate", lambda: task.validate(bench, ctx))
    for m in models:
        w = time.perf_counter()
        clock.run("pretrain", lambda m=m: task.pretrain(m, ctx))
        print(f"  pretrain {m.name:38s} {time.perf_counter() - w:6.1f} s", flush=True)
    dims = {}
    for t in targets:
        for m in models:
            bundle = clock.run("extract", lambda m=m, t=t: task.extract(m, t, ctx))
            dims[(m.name, t)] = (bundle.n, bundle.dim, bundle.probs.shape[1])
    acc = {}
    per_target_time = {}
    for t in targets:
        w = time.perf_counter()
        for m in models:
            for s in seeds:
                res = clock.run("finetune", lambda m=m, t=t, s=s: task.finetune(m, t, s, dict(hparams), ctx))
                acc[(m.name, t, s)] = res.metrics["accuracy"]
        per_target_time[t] = time.perf_counter() - w
        print(f"  finetune on {t:12s} {per_target_time[t]:6.1f} s", flush=True)
    total_wall, total_cpu = time.perf_counter() - t_start, time.process_time() - c_start

    print("\nsteps (wall s / process CPU s):")
    for step in clock.wall:
        print(f"  {step:9s} {clock.wall[step]:7.1f} / {clock.cpu[step]:7.1f}")
    print(f"  {'total':9s} {total_wall:7.1f} / {total_cpu:7.1f}   (load average now {os.getloadavg()[0]:.2f})")

    print("\nfine-tuned test accuracy, mean over seeds " + ",".join(map(str, seeds)) + " (± max-min over seeds):")
    width = max(len(m.name) for m in models)
    print(" " * width + "".join(f" {t:>14s}" for t in targets))
    for m in models:
        cells = []
        for t in targets:
            vals = [acc[(m.name, t, s)] for s in seeds]
            cells.append(f" {np.mean(vals):8.3f}±{np.ptp(vals):.3f}")
        print(f"{m.name:{width}s}" + "".join(cells))
    print(f"{'spread (max-min of means)':{width}s}" + "".join(
        f" {np.ptp([np.mean([acc[(m.name, t, s)] for s in seeds]) for m in models]):14.3f}" for t in targets))
    print(f"{'features n x d':{width}s}" + "".join(
        f" {'%dx%d' % dims[(models[0].name, t)][:2]:>14s}" for t in targets))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
