"""Run the embedded text benchmark from nothing cached; report its time and the seed-split
reliability of its accuracy ranking (facebench.reliability, the figure the boards show).

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/time_embedded_text.py [--scratch] [--keep DIR]

``--scratch`` also runs the same architectures and variants from random initialisation (zoo
``embedded-text-scratch``, same target, seeds and fine-tuning) and prints, per model, the mean
accuracy with and without source training (does source training transfer?), the gain and its
standard error (from the two models' seed variances). The machine load (``os.getloadavg``) is
printed before and after, with the wall time and the process's CPU time (user + sys,
``resource.getrusage``): the 2-core machine is shared, and with ``num_threads: 1`` the CPU time is
what the wall time of an idle machine approaches.
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from facebench.config import load_config
from facebench.evaluate.reliability import GroundTruth, reliability
from facebench.runner.run import RunOptions, run_benchmarks
from facebench.store import ResultsStore

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "embedded" / "text.yaml"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def truth_table(store: ResultsStore, target: str, zoo: str):
    (bench,) = [b["benchmark"] for b in store.benchmarks() if b["zoo"] == zoo]
    table = store.ground_truth(bench, target, "accuracy")  # model -> seed -> accuracy
    models = tuple(sorted(table))
    seeds = tuple(sorted(set.intersection(*(set(v) for v in table.values()))))
    values = np.array([[table[m][s] for s in seeds] for m in models], dtype=np.float64)
    return GroundTruth(models, seeds, values)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scratch", action="store_true", help="also run the random-initialisation zoo")
    ap.add_argument("--keep", help="directory for the store and cache (default: a fresh temporary one)")
    ap.add_argument("--config", default=str(CONFIG), help=f"the benchmark config (default {CONFIG.name})")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="facebench-text-"))
    cfg = load_config(args.config)
    if args.scratch:
        bench = cfg.benchmarks[0]
        cfg = replace(cfg, benchmarks=(*cfg.benchmarks, replace(bench, zoo="embedded-text-scratch")))
    print(f"load before: {os.getloadavg()}  cores: {os.cpu_count()}  work: {work}", flush=True)
    t0, c0 = time.perf_counter(), cpu_seconds()
    summary = run_benchmarks(cfg, RunOptions(device="cpu", quiet=True, store=str(work / "results.sqlite"),
                                             cache_dir=str(work / "cache")))
    seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    print(f"load after: {os.getloadavg()}")
    print(f"run: {seconds:.0f} s wall, {cpu:.0f} s CPU ({summary.done} jobs, {len(summary.failed)} failed)")
    for label, err in summary.failed:
        print(f"  FAILED {label}: {err}")
    store = ResultsStore(summary.store)
    target = cfg.benchmarks[0].targets[0]
    gt = truth_table(store, target, "embedded-text")
    rel = reliability(gt)
    print(f"embedded-text on {target}: {len(gt.models)} models x {len(gt.seeds)} seeds; "
          f"seed-split reliability tau_w {rel.seeds_tau_w:.3f} (Kendall {rel.seeds_kendall:.3f}), seed sd {rel.seed_sd:.3f}")
    for m, row in zip(gt.models, gt.values):
        print(f"  {m:32s} {row.mean():.3f}  sd {row.std(ddof=1):.3f}  seeds {np.round(row, 3).tolist()}")
    if args.scratch:
        ref = truth_table(store, target, "embedded-text-scratch")
        scratch = dict(zip(ref.models, ref.values))
        better = 0
        print("source training vs random initialisation (mean accuracy over seeds; se of the gain from both seed sds):")
        for m, row in zip(gt.models, gt.values):
            ref_row = scratch.get(f"{m}-scratch")
            if ref_row is None:
                continue
            gain = row.mean() - ref_row.mean()
            se = float(np.sqrt(row.var(ddof=1) / row.size + ref_row.var(ddof=1) / ref_row.size))
            better += gain > 2 * se
            print(f"  {m:32s} trained {row.mean():.3f}  scratch {ref_row.mean():.3f} (sd {ref_row.std(ddof=1):.3f})  "
                  f"gain {gain:+.3f} (se {se:.3f})")
        print(f"source training raises accuracy by more than 2 se for {better} of {len(scratch)} models")


if __name__ == "__main__":
    main()
