"""Zoo building: supervised source training of a text model, cached on disk.

A model with a PretrainSpec is built from its initial weights (random for the embedded zoo, a
hub checkpoint for the paper's), given its variant's head for the source classes and trained on
the source's train split with its variant's loss (``PretrainSpec.loss``), AdamW and a linear
warm-up/decay schedule. ``PretrainSpec.options``: ``train_per_class``, ``seed`` (0),
``weight_decay`` (0.01), ``warmup`` (0.1), ``loss_options``, ``dataset_options``.

The result is cached as ``<cache_dir>/models/text-<arch>-<key>.pt`` (``key`` hashes what decides
the weights: architecture, weights, model options, recipe, max_length, vocabulary; a non-default
truncation, and the revision of a head whose training changed, :data:`.heads.HEAD_REVISIONS`, only
where they apply, so that other models keep their keys), written and
verified by :func:`facebench.checkpoints.load_or_train` (atomic write, SHA-256 sidecar,
a file that does not verify is trained again). When the training ends, the model's accuracy on its
source's validation (else test) split is recorded next to the checkpoint (:func:`source_record`);
:func:`source_facts` reads it back for the features' meta (the data-free controls,
:mod:`facebench.metrics.controls`).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from ...torch_utils import Amp, make_loader, train_epoch
from ..base import ModelSpec
from ...checkpoints import (
    checkpoint_digest,
    load_or_train,
    load_source_eval_split,
    recorded_source_evaluation,
    source_eval_facts,
)
from .data import load_split
from .heads import HEAD_REVISIONS, get_loss, variant_of
from .models import TextNet, build_net, load_tokenizer, vocab_path
from .options import Hparams, TaskOptions

CACHE_FORMAT = 1
SOURCE_EVAL_PER_CLASS = 500  # texts per class of the source evaluation (same subset for every model)
PRETRAIN_OPTION_KEYS = ("train_per_class", "seed", "weight_decay", "warmup", "loss_options", "dataset_options")


@dataclass(frozen=True)
class PretrainOptions:
    train_per_class: int | None = None
    seed: int = 0
    hparams: Hparams = field(default_factory=Hparams)
    loss_options: Mapping[str, Any] = field(default_factory=dict)
    dataset_options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: ModelSpec) -> "PretrainOptions":
        p = spec.pretrain
        o = p.checked_options(spec.name, PRETRAIN_OPTION_KEYS)
        hp = Hparams.parse({"lr": p.lr, "epochs": p.epochs, "batch_size": p.batch_size,
                            "weight_decay": o.get("weight_decay", 0.01), "warmup": o.get("warmup", 0.1)}, "pretrain")
        return cls(o.get("train_per_class"), int(o.get("seed", 0)), hp, dict(o.get("loss_options") or {}),
                   dict(o.get("dataset_options") or {}))


def pretrain_key(spec: ModelSpec, opts: TaskOptions) -> str:
    vocab = vocab_path(spec)
    payload = {
        "format": CACHE_FORMAT, "arch": spec.arch, "weights": spec.weights, "options": dict(spec.options or {}),
        "pretrain": asdict(spec.pretrain), "max_length": opts.max_length, "vocab": vocab.name if vocab else None,
    }
    head = variant_of(spec.options or {})[0]
    if head in HEAD_REVISIONS:
        payload["head_revision"] = HEAD_REVISIONS[head]
    if opts.truncation != "end":
        payload["truncation"] = [opts.truncation, opts.head_length]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def cache_path(spec: ModelSpec, ctx, opts: TaskOptions) -> Path:
    return Path(ctx.cache_dir) / "models" / f"text-{spec.arch}-{pretrain_key(spec, opts)[:20]}.pt"


def is_cached(spec: ModelSpec, ctx, opts: TaskOptions) -> bool:
    return spec.pretrain is not None and cache_path(spec, ctx, opts).is_file()


def run_source_training(spec: ModelSpec, ctx, opts: TaskOptions, tokenizer) -> tuple[TextNet, dict[str, Any]]:
    p, po = spec.pretrain, PretrainOptions.parse(spec)
    t0 = time.perf_counter()
    split = load_split(p.source, "train", ctx, opts, tokenizer, po.train_per_class, extra=dict(po.dataset_options),
                       seed=po.seed)
    torch.manual_seed(po.seed)
    net = build_net(spec, ctx, split.num_classes, len(tokenizer), load_weights=True).to(ctx.device)
    loss_fn = get_loss(p.loss, **po.loss_options)
    loader = make_loader(split.torch_dataset(), po.hparams.batch_size, shuffle=True, seed=po.seed,
                         device=ctx.device)
    optimizer, schedule = po.hparams.optimizer_and_schedule(net, len(loader))
    amp = Amp(ctx.device)
    losses = [train_epoch(net, loader, optimizer, loss_fn, ctx.device, amp, scheduler=schedule)
              for _ in ctx.bar(range(po.hparams.epochs), total=po.hparams.epochs, desc=f"pretrain {spec.name} on {p.source}")]
    info = {"source": p.source, "loss": p.loss, "epochs": po.hparams.epochs, "train_n": len(split),
            "num_classes": split.num_classes, "epoch_losses": losses, "seconds": time.perf_counter() - t0}
    return net.cpu().eval(), info


def load_pretrained(spec: ModelSpec, ctx, opts: TaskOptions) -> tuple[TextNet | None, Any, dict[str, Any]]:
    """(network, tokenizer, summary). Without a PretrainSpec the network is None: the caller
    builds the initial weights with its own head; with one, the cached source-trained network."""
    tokenizer = load_tokenizer(spec, ctx)
    if spec.pretrain is None:
        return None, tokenizer, {"pretrained": "initial weights", "weights": spec.weights}
    path = cache_path(spec, ctx, opts)

    def restore(payload: dict[str, Any]) -> TextNet | None:
        try:
            net = build_net(spec, ctx, int(payload["num_classes"]), len(tokenizer), load_weights=False)
            net.load_state_dict(payload["state_dict"])
        except (RuntimeError, KeyError, ValueError, TypeError, OSError):
            return None
        return net

    net, payload = load_or_train(
        path, pretrain_key(spec, opts), spec.name, restore, lambda: run_source_training(spec, ctx, opts, tokenizer),
        lambda net: source_record(spec, net, tokenizer, ctx, opts, path),  # recorded at source-training time
        CACHE_FORMAT)
    info = dict(payload.get("info", {}))
    info.update({"pretrained": "source training", "cache": str(path)})
    return net.eval(), tokenizer, info


def source_record(spec: ModelSpec, net: TextNet, tokenizer, ctx, opts: TaskOptions, path: Path) -> dict[str, Any] | None:
    """The source evaluation recorded next to checkpoint ``path``; evaluated and recorded now if missing
    (:func:`facebench.checkpoints.recorded_source_evaluation`).

    Accuracy of the source-trained network (its own head on the pooled [CLS] output) on the
    source's validation split (else its test split; at most :data:`SOURCE_EVAL_PER_CLASS` per class).
    None (with a warning) when the source has neither or cannot be read.
    """
    return recorded_source_evaluation(path, checkpoint_digest(path),
                                      lambda: _evaluate_on_source(spec, net, tokenizer, ctx, opts))


def _evaluate_on_source(spec: ModelSpec, net: TextNet, tokenizer, ctx, opts: TaskOptions) -> dict[str, Any] | None:
    from .data import dataset_instance

    p, po = spec.pretrain, PretrainOptions.parse(spec)
    t0 = time.perf_counter()

    def read(name: str):
        return load_split(p.source, name, ctx, opts, tokenizer, SOURCE_EVAL_PER_CLASS, extra=dict(po.dataset_options),
                          seed=po.seed)

    chosen = load_source_eval_split(spec.name, p.source, lambda: dataset_instance(p.source, ctx).spec.splits, read,
                                    "source accuracy")
    if chosen is None:
        return None
    split_name, split = chosen
    loader = make_loader(split.torch_dataset(), opts.eval_batch_size, shuffle=False, device=ctx.device)
    net = net.to(ctx.device).eval()
    correct = 0
    with torch.no_grad():  # the head on the pooled [CLS] output, as .jobs.predict (which imports this module)
        for x, y in loader:
            logits = net.head(net.features(x.to(ctx.device)).float()).float().cpu()
            correct += int((logits.argmax(dim=1) == y.long()).sum())
    accuracy = correct / max(len(split), 1)
    return {"source": p.source, "split": split_name, "n": len(split), "per_class": SOURCE_EVAL_PER_CLASS,
            "subsample_seed": po.seed, "accuracy": accuracy, "measure": "accuracy", "seconds": time.perf_counter() - t0}


def source_facts(spec: ModelSpec, net: TextNet | None, tokenizer, ctx, opts: TaskOptions,
                 info: Mapping[str, Any]) -> dict[str, Any]:
    """``source_accuracy`` (fraction), ``source_metric``, ``pretrain_epochs`` where known, for a bundle's meta.

    A model with source training: its recorded source evaluation and ``PretrainSpec.epochs``. Otherwise
    what the zoo declares on the spec; random initialisation (no ``weights``) has 0 epochs of pre-training.
    """
    if spec.pretrain is None:
        facts: dict[str, Any] = {}
        if spec.pretrain_epochs is not None:
            facts["pretrain_epochs"] = int(spec.pretrain_epochs)
        elif spec.weights is None:
            facts["pretrain_epochs"] = 0
        if spec.source_accuracy is not None and spec.weights is not None:
            facts.update(source_accuracy=float(spec.source_accuracy), source_metric="accuracy (published, declared by the zoo)")
        return facts
    cache = info.get("cache")
    record = source_record(spec, net, tokenizer, ctx, opts, Path(cache)) if cache and net is not None else None
    return {"pretrain_epochs": int(spec.pretrain.epochs), **source_eval_facts(record)}


def initial_net(spec: ModelSpec, ctx, num_classes: int, vocab_size: int) -> TextNet:
    """The model's initial weights with a head for ``num_classes`` (same network in every job)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_net(spec, ctx, num_classes, vocab_size)


def check_pretrain(spec: ModelSpec) -> None:
    if spec.pretrain is not None:
        po = PretrainOptions.parse(spec)
        get_loss(spec.pretrain.loss, **po.loss_options)
    variant_of(spec.options or {})
