"""Candidate members of the embedded segmentation zoo: transfer quality, seed noise, reliability.

Pre-trains (cached under ``--cache``) the candidate PSPNets below, fine-tunes each on the embedded
target with the recipe of ``configs/embedded/segmentation.yaml`` over ``--seeds``, and prints each
candidate's mIoU (mean, sd, per seed), the pre-training and fine-tuning CPU seconds, the same
fine-tuning of ``--scratch`` architectures from random initialisation
(``finetune_model(from_source=False)``), and the seed-split reliability of the candidates' mIoU
ranking (:func:`facebench.reliability.reliability`). This is how the zoo of
``facebench/tasks/segmentation/zoos/embedded.py`` was chosen (``benchmarks/embedded_segmentation.md``).

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/segmentation_zoo_candidates.py \\
        [--cache DIR] [--seeds 0 1 2] [--models NAME ...] [--scratch NAME ...]
"""
from __future__ import annotations

import argparse
import resource
from pathlib import Path

import numpy as np

from facebench.config import load_config
from facebench.plugins import get_plugins
from facebench.evaluate.reliability import GroundTruth, reliability
from facebench.runner.context import task_context
from facebench.tasks.base import ModelSpec, PretrainSpec
from facebench.tasks.segmentation.finetune import finetune_model
from facebench.tasks.segmentation.options import Hparams, TaskOptions
from facebench.tasks.segmentation.pretrain import load_pretrained

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"depth": 18, "base_channels": 16, "channels": 64}
DEEP = {"depth": 34, "base_channels": 16, "channels": 64}


def _pre(source: str, epochs: int, loss: str = "ce") -> PretrainSpec:
    return PretrainSpec(source=source, loss=loss, epochs=epochs, lr=0.02, batch_size=8, options={"seed": 0})


CANDIDATES = (
    ModelSpec("fash-12", "pspnet", None, pretrain=_pre("scenes-fashion-source", 12), options=SMALL),
    ModelSpec("fash-5", "pspnet", None, pretrain=_pre("scenes-fashion-source", 5), options=SMALL),
    ModelSpec("fash-2", "pspnet", None, pretrain=_pre("scenes-fashion-source", 2), options=SMALL),
    ModelSpec("r34-fash-4", "pspnet", None, pretrain=_pre("scenes-fashion-source", 4), options=DEEP),
    ModelSpec("mnist-6", "pspnet", None, pretrain=_pre("scenes-mnist", 6), options=SMALL),
    ModelSpec("digits-4", "pspnet", None, pretrain=_pre("scenes-digits", 4), options=SMALL),
    ModelSpec("faces-4", "pspnet", None, pretrain=_pre("scenes-faces", 4), options=SMALL),
    ModelSpec("tex-3", "pspnet", None, pretrain=_pre("scenes-textures", 3), options=SMALL),
)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default="/tmp/fb-seg-candidates", help="cache_dir for scenes and pre-trained models")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--models", nargs="*", default=None, help="candidate names (default: all)")
    ap.add_argument("--scratch", nargs="*", default=["fash-12"], help="candidates also fine-tuned from random init")
    args = ap.parse_args()
    bench = load_config(ROOT / "configs/embedded/segmentation.yaml").benchmarks[0]
    target = bench.targets[0]
    models = [m for m in CANDIDATES if args.models is None or m.name in args.models]
    ctx = task_context(get_plugins(), cache_dir=args.cache, quiet=True, options=bench.options)
    opts, hp = TaskOptions.parse(bench.options), Hparams.parse(bench.finetune)
    values = []
    for m in models:
        c0 = _cpu()
        load_pretrained(m, ctx, opts)
        c1 = _cpu()
        row = [finetune_model(m, target, s, hp, ctx, opts).metrics["miou"] for s in args.seeds]
        values.append(row)
        print(f"{m.name:12s} mIoU {np.mean(row):.4f} sd {np.std(row, ddof=1) if len(row) > 1 else 0:.4f} "
              f"[{' '.join(f'{v:.4f}' for v in row)}]  "
              f"pre-training {c1 - c0:.0f} s CPU (start-up included; small when cached), "
              f"fine-tuning {(_cpu() - c1) / len(row):.0f} s CPU per seed", flush=True)
    for m in (m for m in models if m.name in args.scratch):
        row = [finetune_model(m, target, s, hp, ctx, opts, from_source=False).metrics["miou"] for s in args.seeds]
        print(f"{m.name:12s} from random initialisation: mIoU {np.mean(row):.4f} [{' '.join(f'{v:.4f}' for v in row)}]")
    if len(models) >= 2 and len(args.seeds) >= 2:
        r = reliability(GroundTruth(tuple(m.name for m in models), tuple(args.seeds), np.array(values)))
        print(f"seed-split reliability of the mIoU ranking: tau_w {r.seeds_tau_w:.3f}, Kendall {r.seeds_kendall:.3f} "
              f"({r.n_models} models, {r.n_seeds} seeds, {r.n_splits} splits)")


if __name__ == "__main__":
    main()
