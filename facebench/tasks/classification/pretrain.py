"""Zoo building: source pre-training (PretrainSpec) and the on-disk cache of pre-trained models.

A model with a :class:`~facebench.tasks.base.PretrainSpec` is built from its initial weights, given
a fresh head for the source classes and trained on the source's train split with the spec's loss
(SGD, constant learning rate). The result is cached as
``<cache_dir>/models/<arch>-<key>.pt`` where ``key`` hashes everything that determines the
weights (architecture, initial weights, recipe, preprocessing), together with ``<file>.sha256``.
Writes are atomic (temporary file, then ``os.replace``); a cached file whose checksum or contents
do not verify (truncated, corrupted, another key) is trained again, never trusted.
``PretrainSpec.options``: ``train_per_class`` (cap on the source's train split), ``seed`` (0),
``momentum`` (0.9), ``weight_decay`` (5e-4), ``loss_options`` (the loss's parameters),
``dataset_options`` (the source dataset's options).

When the pre-training ends, the model's top-1 accuracy on its source's test split (at most
:data:`SOURCE_EVAL_PER_CLASS` images per class) is recorded next to the checkpoint
(:func:`facebench.checkpoints.save_source_record`); :func:`source_facts` reads it back for the
features' meta (evaluating a checkpoint made before that record existed), where the data-free
controls (:mod:`facebench.metrics.controls`) find it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import torch

from ...errors import ConfigError
from ...checkpoints import (
    checkpoint_digest,
    load_or_train,
    load_source_eval_split,
    recorded_source_evaluation,
    source_eval_facts,
)
from ...torch_utils import Amp, make_loader, train_epoch
from ..base import ModelSpec
from .data import dataset_instance, load_split
from .losses import get_loss
from .models import Net, Preprocessing, build_net, library_of, preprocessing_for, published_source_facts
from .options import TaskOptions

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
SOURCE_EVAL_PER_CLASS = 500  # test images per class of the source evaluation (same subset for every model)
PRETRAIN_OPTION_KEYS = ("train_per_class", "seed", "momentum", "weight_decay", "loss_options", "dataset_options")


@dataclass(frozen=True)
class PretrainOptions:
    train_per_class: int | None = None
    seed: int = 0
    momentum: float = 0.9
    weight_decay: float = 5e-4
    loss_options: Mapping[str, Any] = field(default_factory=dict)
    dataset_options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: ModelSpec) -> "PretrainOptions":
        p = spec.pretrain
        o = p.checked_options(spec.name, PRETRAIN_OPTION_KEYS)
        if int(p.epochs) < 1 or int(p.batch_size) < 1 or float(p.lr) <= 0:
            raise ConfigError(f"model {spec.name!r}: pretrain needs epochs >= 1, batch_size >= 1, lr > 0")
        return cls(
            o.get("train_per_class"), int(o.get("seed", 0)), float(o.get("momentum", 0.9)),
            float(o.get("weight_decay", 5e-4)), dict(o.get("loss_options") or {}), dict(o.get("dataset_options") or {}),
        )


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------
def pretrain_key(spec: ModelSpec, prep: Preprocessing) -> str:
    """Content hash of what determines the pre-trained weights (not the model's display name)."""
    payload = {
        "format": CACHE_FORMAT, "arch": spec.arch, "weights": spec.weights, "library": library_of(spec),
        "model_options": dict(spec.options or {}), "pretrain": asdict(spec.pretrain), "preprocessing": prep.as_meta(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def cache_path(spec: ModelSpec, prep: Preprocessing, ctx) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec.arch)
    return Path(ctx.cache_dir) / "models" / f"{safe}-{pretrain_key(spec, prep)[:20]}.pt"


def is_cached(spec: ModelSpec, ctx, opts: TaskOptions) -> bool:
    """Whether a pre-trained model file exists for ``spec`` (existence only; load verifies)."""
    if spec.pretrain is None:
        return False
    prep = preprocessing_for(spec, opts.as_model_options())
    return cache_path(spec, prep, ctx).is_file()


# --------------------------------------------------------------------------------------------
# Pre-training
# --------------------------------------------------------------------------------------------
def run_source_pretraining(spec: ModelSpec, ctx, opts: TaskOptions, prep: Preprocessing) -> tuple[Net, dict[str, Any]]:
    """Train ``spec``'s initial network on its source dataset; returns the network and a summary."""
    p = spec.pretrain
    po = PretrainOptions.parse(spec)
    t0 = time.perf_counter()
    src_opts = replace(opts, subsample_seed=po.seed)
    split = load_split(p.source, "train", ctx, src_opts, po.train_per_class, extra=dict(po.dataset_options))
    torch.manual_seed(po.seed)
    net = build_net(spec, ctx, load_weights=True, num_classes=split.num_classes).to(ctx.device)
    loss_fn = get_loss(p.loss, split.num_classes, **po.loss_options)
    optimizer = torch.optim.SGD(net.parameters(), lr=float(p.lr), momentum=po.momentum, weight_decay=po.weight_decay)
    loader = make_loader(split.torch_dataset(prep.transform()), int(p.batch_size), shuffle=True, seed=po.seed,
                         num_workers=opts.num_workers, device=ctx.device)
    amp = Amp(ctx.device)
    gen = torch.Generator().manual_seed(po.seed + 1)
    losses = []
    for _ in ctx.bar(range(int(p.epochs)), total=int(p.epochs), desc=f"pretrain {spec.name} on {p.source}"):
        losses.append(train_epoch(net, loader, optimizer, loss_fn, ctx.device, amp, gen))
    info = {
        "source": p.source, "loss": p.loss, "epochs": int(p.epochs), "train_n": len(split),
        "num_classes": split.num_classes, "epoch_losses": losses, "seconds": time.perf_counter() - t0,
    }
    return net.cpu().eval(), info


def load_pretrained(spec: ModelSpec, ctx, opts: TaskOptions) -> tuple[Net, Preprocessing, dict[str, Any]]:
    """The zoo model ready for extraction or fine-tuning (on CPU), its preprocessing and a summary.

    Without a PretrainSpec it is the initial weights; with one, the cached pre-trained model,
    trained now (and cached) when missing or invalid.
    """
    prep = preprocessing_for(spec, opts.as_model_options())
    if spec.pretrain is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # random-init models: the same network in every job
            net = build_net(spec, ctx)
        return net.eval(), prep, {"pretrained": "initial weights", "weights": spec.weights}
    path = cache_path(spec, prep, ctx)
    net, payload = load_or_train(
        path, pretrain_key(spec, prep), spec.name, lambda payload: _net_from_payload(spec, ctx, payload),
        lambda: run_source_pretraining(spec, ctx, opts, prep),
        lambda net: source_record(spec, net, prep, ctx, opts, path),  # recorded at pre-training time
        CACHE_FORMAT)
    info = dict(payload.get("info", {}))
    info.update({"pretrained": "source pre-training", "cache": str(path)})
    return net.eval(), prep, info


def _net_from_payload(spec: ModelSpec, ctx, payload: dict[str, Any]) -> Net | None:
    try:
        net = build_net(spec, ctx, load_weights=False, num_classes=int(payload["num_classes"]))
        net.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        log.warning("cached model for %s does not fit its architecture (%s): training it again", spec.name, exc)
        return None
    return net


# --------------------------------------------------------------------------------------------
# What is known of the pre-training (the data-free controls' inputs)
# --------------------------------------------------------------------------------------------
def source_record(spec: ModelSpec, net: Net, prep: Preprocessing, ctx, opts: TaskOptions,
                  path: Path) -> dict[str, Any] | None:
    """The source evaluation recorded next to checkpoint ``path``; evaluated and recorded now if missing
    (:func:`facebench.checkpoints.recorded_source_evaluation`).

    Top-1 accuracy of the pre-trained network (its own source head) on the source's test split
    (at most :data:`SOURCE_EVAL_PER_CLASS` per class, the pre-training's seed choosing them), in the
    model's preprocessing. None (with a warning) when the source has no validation or test split or
    cannot be read.
    """
    return recorded_source_evaluation(path, checkpoint_digest(path),
                                      lambda: _evaluate_on_source(spec, net, prep, ctx, opts))


def _evaluate_on_source(spec: ModelSpec, net: Net, prep: Preprocessing, ctx, opts: TaskOptions) -> dict[str, Any] | None:
    from .training import predict

    p, po = spec.pretrain, PretrainOptions.parse(spec)
    t0 = time.perf_counter()

    def read(name: str):
        return load_split(p.source, name, ctx, replace(opts, subsample_seed=po.seed), SOURCE_EVAL_PER_CLASS,
                          extra=dict(po.dataset_options))

    chosen = load_source_eval_split(spec.name, p.source, lambda: dataset_instance(p.source, ctx).spec.splits, read,
                                    "source accuracy")
    if chosen is None:
        return None
    split_name, split = chosen
    loader = make_loader(split.torch_dataset(prep.transform()), opts.eval_batch_size, shuffle=False,
                         num_workers=opts.num_workers, device=ctx.device)
    out = predict(net.to(ctx.device), loader, ctx.device, features=False)
    accuracy = float((out["logits"].argmax(axis=1) == out["labels"]).mean())
    return {"source": p.source, "split": split_name, "n": len(split), "per_class": SOURCE_EVAL_PER_CLASS,
            "subsample_seed": po.seed, "accuracy": accuracy, "measure": "top-1 accuracy",
            "seconds": time.perf_counter() - t0}


def source_facts(spec: ModelSpec, net: Net, prep: Preprocessing, ctx, opts: TaskOptions,
                 info: Mapping[str, Any]) -> dict[str, Any]:
    """``source_accuracy`` (fraction), ``source_metric``, ``pretrain_epochs`` where known, for a bundle's meta.

    A model facebench pre-trains: its recorded source evaluation and ``PretrainSpec.epochs``.
    Otherwise what the zoo declares on the spec or the weights' library publishes
    (:func:`.models.published_source_facts`); random initialisation has 0 epochs of pre-training.
    """
    if spec.pretrain is None:
        return published_source_facts(spec)
    cache = info.get("cache")
    record = source_record(spec, net, prep, ctx, opts, Path(cache)) if cache else None
    return {"pretrain_epochs": int(spec.pretrain.epochs), **source_eval_facts(record)}
