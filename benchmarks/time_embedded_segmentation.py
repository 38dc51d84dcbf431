"""Time the embedded segmentation benchmark from nothing cached, and the reliability of its mIoU ranking.

Runs ``configs/embedded/segmentation.yaml`` (or ``--config``) with a fresh store and cache under
``--workdir`` (default: a new temporary folder), then reports the wall time and the process's CPU
time (user + system, ``resource.getrusage``: with ``num_threads: 1`` the figure an idle machine's
wall time approaches), the time per phase (from the store's job records), the machine load
(``os.getloadavg``) before and after, each model's mean
mIoU and pixel accuracy over seeds, and the seed-split reliability of the ranking
(:func:`facebench.reliability.reliability` on the store's ground truth: split-half weighted
Kendall tau over seeds, the figure the leaderboards show).

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/time_embedded_segmentation.py [--workdir DIR] \
        [--scratch MODEL ...]

``--scratch MODEL ...``: after the timed run, fine-tune those zoo models again from random
initialisation (same architecture, target, seeds and recipe; ``finetune_model(from_source=False)``)
and print their mIoU beside the source-pre-trained ground truth: does source pre-training help?
(Not part of the timed figure.)
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from facebench.config import load_config
from facebench.evaluate.reliability import GroundTruth, reliability
from facebench.runner import RunOptions, run_benchmarks
from facebench.store import ResultsStore

ROOT = Path(__file__).resolve().parents[1]


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "configs/embedded/segmentation.yaml"))
    ap.add_argument("--workdir", default=None, help="fresh folder for the store and cache (default: a temporary one)")
    ap.add_argument("--scratch", nargs="*", default=[], metavar="MODEL",
                    help="zoo models to fine-tune again from random initialisation, after the timed run")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="fb-seg-bench-"))
    if (work / "cache").exists() or (work / "results.sqlite").exists():
        raise SystemExit(f"{work} already holds a store or cache: this benchmark times a run from nothing cached")
    text = Path(args.config).read_text()
    raw = Path(work / "config.yaml")
    work.mkdir(parents=True, exist_ok=True)
    raw.write_text(text + f"\nstore: {work / 'results.sqlite'}\ncache_dir: {work / 'cache'}\n")
    cfg = load_config(raw)
    load_before = os.getloadavg()
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    summary = run_benchmarks(cfg, RunOptions(quiet=True, device="cpu", leaderboard_dir=str(work / "board")))
    wall, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    load_after = os.getloadavg()
    print(f"config {args.config}\nworkdir {work}")
    print(f"wall time {wall:.1f} s ({wall / 60:.2f} min); CPU time {cpu:.1f} s ({cpu / 60:.2f} min); "
          f"jobs done {summary.done}, failed {len(summary.failed)}")
    for label, err in summary.failed[:5]:
        print(f"  FAILED {label}: {err}")
    print(f"load average (1/5/15 min) before {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
          f"after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}; {os.cpu_count()} CPUs")
    store = ResultsStore(cfg.store)
    for b in store.benchmarks():
        bench, target = b["benchmark"], b["target"]
        print(f"\nbenchmark {bench}, target {target}")
        for kind in ("pretrain", "extract", "finetune", "score"):
            print(f"  {kind:9s} {store.job_seconds(kind, bench, None if kind == 'pretrain' else target):8.1f} s (sum of jobs)")
        for stat in ("miou", "pixel_acc"):
            gt = store.ground_truth(bench, target, stat)
            models = tuple(sorted(gt))
            seeds = tuple(sorted({s for v in gt.values() for s in v}))
            complete = tuple(m for m in models if all(s in gt[m] for s in seeds))
            values = np.array([[gt[m][s] for s in seeds] for m in complete])
            order = np.argsort(-values.mean(axis=1))
            print(f"  {stat} (mean, sd, seeds {', '.join(map(str, seeds))}):")
            for i in order:
                print(f"    {complete[i]:32s} {values[i].mean():.4f} {values[i].std(ddof=1):.4f}  "
                      + " ".join(f"{v:.4f}" for v in values[i]))
            r = reliability(GroundTruth(complete, seeds, values))
            print(f"  {stat} seed-split reliability: tau_w {r.seeds_tau_w:.3f}, Kendall {r.seeds_kendall:.3f} "
                  f"({r.n_models} models, {r.n_seeds} seeds, {r.n_splits} splits)")
    store.close()
    if args.scratch:
        _from_scratch(cfg, args.scratch)


def _from_scratch(cfg, names: list[str]) -> None:
    """Fine-tune ``names`` from random initialisation on each segmentation benchmark's targets."""
    from facebench.plugins import get_plugins
    from facebench.runner.context import task_context
    from facebench.runner.resolve import resolve_benchmarks, resolve_instances
    from facebench.tasks.segmentation.finetune import finetune_model
    from facebench.tasks.segmentation.options import Hparams, TaskOptions

    plugins = get_plugins(cfg.plugins)
    instances = resolve_instances(cfg, plugins)
    store = ResultsStore(cfg.store)
    for rb in resolve_benchmarks(cfg, plugins):
        if rb.config.task != "segmentation":
            continue
        hp = Hparams.parse(rb.hparams)
        for target in rb.targets:
            ctx = task_context(plugins, cache_dir=cfg.cache_dir, quiet=True, options=rb.config.options,
                               instances={**instances, **rb.targets})
            opts = TaskOptions.parse(rb.config.options)
            gt = store.ground_truth(rb.id, target, "miou")
            print(f"\nfrom random initialisation vs source pre-trained, {rb.id} on {target} (mIoU over seeds "
                  f"{', '.join(map(str, rb.config.seeds))}):")
            for model in (m for m in rb.zoo.models if m.name in names):
                c0 = _cpu_seconds()
                scratch = [finetune_model(model, target, s, hp, ctx, opts, from_source=False).metrics["miou"]
                           for s in rb.config.seeds]
                source = [gt[model.name][s] for s in rb.config.seeds]
                print(f"  {model.name:32s} source {np.mean(source):.4f} ({' '.join(f'{v:.4f}' for v in source)})  "
                      f"scratch {np.mean(scratch):.4f} ({' '.join(f'{v:.4f}' for v in scratch)})  "
                      f"gain {np.mean(source) - np.mean(scratch):+.4f}  [{_cpu_seconds() - c0:.0f} s CPU]")
    store.close()


if __name__ == "__main__":
    main()
