"""Zoo building for segmentation: source pre-training and its on-disk model cache.

A model with a :class:`~facebench.tasks.base.PretrainSpec` is built (mmseg PSPNet, the source's
class count, the spec's loss: ``ce``, ``ce+dice``, ``ce+lovasz``), initialised from its ``weights`` if
any (classifier excluded) and trained on the source's train split (:func:`.training.train`:
SGD, warm-up + poly, ``PretrainSpec.epochs``/``lr``/``batch_size``). The weights are cached as
``<cache_dir>/models/seg-<key>.pt`` (key: hash of architecture, options, weights and recipe)
with a SHA-256 sidecar (:mod:`facebench.checksum`); a file that does not verify is trained
again. ``PretrainSpec.options``: ``train_images`` (cap on the source's train split),
``image_size`` (resize the source's images; the benchmark's ``image_size`` does not apply), ``seed``
(0), ``momentum`` (0.9), ``weight_decay`` (5e-4), ``warmup_iters`` (10), ``power`` (0.9).

A model without a PretrainSpec needs ``weights``: a checkpoint file, or ``url:<https://...>``
(downloaded only when the run allows it); its class count is read from the checkpoint.

When the pre-training ends, the model's mIoU and pixel accuracy on its source's validation (else
test) split are recorded next to the checkpoint (:func:`source_record`); :func:`source_facts`
reads them back for the features' meta (the data-free controls, :mod:`facebench.metrics.controls`).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from ...checkpoints import load_source_eval_split, recorded_source_evaluation, source_eval_facts
from ...checksum import sidecar, sidecar_matches, write_sidecar
from ...errors import ConfigError
from ..base import ModelSpec
from .data import load_split
from .mm import build_pspnet, loss_config, model_options, transferable_state
from .options import TaskOptions
from .training import train

CACHE_FORMAT = 1
SOURCE_EVAL_IMAGES = 200  # images of the source's evaluation split (its first, in file order)
PRETRAIN_OPTION_KEYS = ("train_images", "image_size", "seed", "momentum", "weight_decay", "warmup_iters", "power")


def pretrain_options(spec: ModelSpec) -> dict[str, Any]:
    p = spec.pretrain
    o = p.checked_options(spec.name, PRETRAIN_OPTION_KEYS)
    if int(p.epochs) < 1 or int(p.batch_size) < 2 or float(p.lr) <= 0:
        raise ConfigError(f"model {spec.name!r}: pretrain needs epochs >= 1, batch_size >= 2, lr > 0")
    loss_config(p.loss, f"model {spec.name!r}: ")
    size = TaskOptions.parse({"image_size": o["image_size"]}).image_size if o.get("image_size") else None
    return {"train_images": o.get("train_images"), "image_size": size, "seed": int(o.get("seed", 0)),
            "momentum": float(o.get("momentum", 0.9)), "weight_decay": float(o.get("weight_decay", 5e-4)),
            "warmup_iters": int(o.get("warmup_iters", 10)), "power": float(o.get("power", 0.9))}


def cache_path(spec: ModelSpec, ctx) -> Path:
    payload = {"format": CACHE_FORMAT, "arch": spec.arch, "options": model_options(spec), "weights": spec.weights,
               "pretrain": asdict(spec.pretrain), "source": _source_definition(spec, ctx)}
    key = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return Path(ctx.cache_dir) / "models" / f"seg-{key}.pt"


def _source_definition(spec: ModelSpec, ctx) -> Any:
    """What the source data is (type and params), so another definition of its name trains again."""
    try:
        return ctx.dataset(spec.pretrain.source).definition
    except Exception:  # unknown source: validate reports it
        return None


def is_cached(spec: ModelSpec, ctx) -> bool:
    return spec.pretrain is not None and sidecar_matches(cache_path(spec, ctx))


def _save(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    write_sidecar(path)


def _load(path: Path) -> dict[str, Any] | None:
    if not sidecar_matches(path):
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # unreadable: train again
        return None
    return payload if isinstance(payload, dict) and "state_dict" in payload else None


def checkpoint_state(spec: ModelSpec, ctx) -> dict[str, Any]:
    """The state dict named by ``spec.weights`` (a file, or ``url:`` when downloads are allowed)."""
    w = str(spec.weights)
    if w.startswith("url:"):
        if not ctx.download:
            raise ConfigError(f"model {spec.name!r}: weights {w[4:]} need a download (run with --allow-download)")
        state = torch.hub.load_state_dict_from_url(w[4:], map_location="cpu", progress=not ctx.quiet)
    else:
        path = Path(w).expanduser()
        if not path.is_file():
            raise ConfigError(f"model {spec.name!r}: weights file {path} does not exist")
        state = torch.load(path, map_location="cpu", weights_only=False)
    return state.get("state_dict", state)


def check_weights(spec: ModelSpec, ctx) -> None:
    if spec.weights is None:
        if spec.pretrain is None:
            raise ConfigError(f"model {spec.name!r}: neither weights nor a pretrain recipe")
        return
    w = str(spec.weights)
    if w.startswith("url:"):
        if not ctx.download:
            raise ConfigError(f"model {spec.name!r}: weights {w[4:]} need a download (run with --allow-download)")
    elif not Path(w).expanduser().is_file():
        raise ConfigError(f"model {spec.name!r}: weights file {Path(w).expanduser()} does not exist")


def load_pretrained(spec: ModelSpec, ctx, opts: TaskOptions):
    """(network with its source classifier, info); trains and caches the source pre-training once."""
    if spec.pretrain is None:
        state = checkpoint_state(spec, ctx)
        k = int(state["decode_head.conv_seg.weight"].shape[0])
        net = build_pspnet(spec, k)
        net.load_state_dict({k_: v for k_, v in state.items() if not k_.startswith("auxiliary_head.")}, strict=True)
        return net, {"pretrained": False, "weights": spec.weights, "source_classes": k}
    path = cache_path(spec, ctx)
    payload = _load(path)
    trained = payload is None
    if trained:
        payload = _pretrain(spec, ctx, opts)
        _save(path, payload)
    net = build_pspnet(spec, int(payload["num_classes"]), loss=spec.pretrain.loss)
    net.load_state_dict(payload["state_dict"])
    if trained:
        source_record(spec, net, ctx, opts, path)  # recorded at pre-training time
        net = net.cpu()
    info = {k: payload[k] for k in ("source", "loss", "epochs", "seconds", "source_classes", "epoch_losses")}
    return net, {"pretrained": True, **info}


def _pretrain(spec: ModelSpec, ctx, opts: TaskOptions) -> dict[str, Any]:
    p = spec.pretrain
    po = pretrain_options(spec)
    t0 = time.perf_counter()
    source = load_split(p.source, "train", ctx, TaskOptions(image_size=po["image_size"]), po["train_images"])
    torch.manual_seed(po["seed"])
    net = build_pspnet(spec, source.num_classes, loss=p.loss, ignore_index=source.ignore_index)
    if spec.weights is not None:
        net.load_state_dict(transferable_state(checkpoint_state(spec, ctx)), strict=False)
    losses = train(net, source, epochs=int(p.epochs), batch_size=int(p.batch_size),
                   lr=float(p.lr), momentum=po["momentum"], weight_decay=po["weight_decay"],
                   warmup_iters=po["warmup_iters"], power=po["power"], seed=po["seed"], device=ctx.device)
    return {"format": CACHE_FORMAT, "state_dict": {k: v.cpu() for k, v in net.state_dict().items()},
            "num_classes": source.num_classes, "source_classes": source.num_classes, "source": p.source,
            "loss": p.loss, "epochs": int(p.epochs), "epoch_losses": losses, "seconds": time.perf_counter() - t0}


# --------------------------------------------------------------------------------------------
# What is known of the pre-training (the data-free controls' inputs)
# --------------------------------------------------------------------------------------------
def backbone_params(net) -> int:
    """All parameters of what produces the features (backbone and PSP bottleneck): the network
    without its classifier (``decode_head.conv_seg``) and auxiliary head."""
    return int(sum(p.numel() for name, p in net.named_parameters()
                   if not name.startswith(("decode_head.conv_seg.", "auxiliary_head."))))


def source_record(spec: ModelSpec, net, ctx, opts: TaskOptions, path: Path) -> dict[str, Any] | None:
    """The source evaluation recorded next to checkpoint ``path``; evaluated and recorded now if missing
    (:func:`facebench.checkpoints.recorded_source_evaluation`; the digest is the one this task's
    sidecar, ``seg-<key>.sha256``, holds).

    mIoU and pixel accuracy (:func:`.evaluate.evaluate_split`) of the pre-trained network on
    the first :data:`SOURCE_EVAL_IMAGES` images of its source's validation split (else its test
    split), at the pre-training's image size. None (with a warning) when the source has neither.
    """
    try:
        digest = sidecar(path).read_text().strip() or None
    except OSError:
        digest = None
    return recorded_source_evaluation(path, digest, lambda: _evaluate_on_source(spec, net, ctx, opts))


def _evaluate_on_source(spec: ModelSpec, net, ctx, opts: TaskOptions) -> dict[str, Any] | None:
    from .evaluate import evaluate_split

    p, po = spec.pretrain, pretrain_options(spec)
    t0 = time.perf_counter()

    def read(name: str):
        return load_split(p.source, name, ctx, TaskOptions(image_size=po["image_size"]), SOURCE_EVAL_IMAGES)

    chosen = load_source_eval_split(spec.name, p.source, lambda: ctx.dataset(p.source).spec.splits, read,
                                    "source mIoU")
    if chosen is None:
        return None
    split_name, split = chosen
    scores = evaluate_split(net.to(ctx.device), split, opts.eval_batch_size, ctx.device)
    return {"source": p.source, "split": split_name, "n": len(split), "images": SOURCE_EVAL_IMAGES,
            "accuracy": scores["miou"], "pixel_acc": scores["pixel_acc"], "measure": "mIoU",
            "seconds": time.perf_counter() - t0}


def source_facts(spec: ModelSpec, net, ctx, opts: TaskOptions) -> dict[str, Any]:
    """``source_accuracy`` (the source mIoU, a fraction), ``source_metric``, ``pretrain_epochs`` where known.

    A model facebench pre-trains: its recorded source evaluation and ``PretrainSpec.epochs``;
    published weights: what the zoo declares on the spec (``source_accuracy``: the published mIoU).
    """
    if spec.pretrain is None:
        facts: dict[str, Any] = {}
        if spec.pretrain_epochs is not None:
            facts["pretrain_epochs"] = int(spec.pretrain_epochs)
        if spec.source_accuracy is not None:
            facts.update(source_accuracy=float(spec.source_accuracy), source_metric="mIoU (published, declared by the zoo)")
        return facts
    record = source_record(spec, net, ctx, opts, cache_path(spec, ctx))
    return {"pretrain_epochs": int(spec.pretrain.epochs),
            **source_eval_facts(record, ("source", "split", "n", "pixel_acc"))}
