"""The text task's jobs: features + source probabilities (extract), fine-tuning + test accuracy.

Fine-tuning: the zoo model (its source-trained backbone; the initial weights for a model without
source training) gets a fresh head of its variant for the target's K classes, and the whole
model is trained with its variant's loss on the target's train split (``train_per_class``) with
AdamW and a linear warm-up/decay schedule (``finetune``: lr, epochs, batch_size, weight_decay,
warmup). Accuracy on the test split (``test_per_class``) is the ground truth; the predicted and
true label of every test sample are returned. Everything random derives from ``seed``.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from scipy.special import softmax

from ...bundle import FeatureBundle
from ...predictions import TestPredictions
from ...torch_utils import Amp, make_loader, prepare_device, train_epoch
from ..base import FinetuneResult, ModelSpec
from .data import load_split
from .heads import get_loss, variant_of
from .options import Hparams, TaskOptions
from .pretrain import initial_net, load_pretrained, source_facts


@torch.no_grad()
def predict(net, loader, device: str, *, logits: bool = True, pooling: str = "cls", layer="last") -> dict[str, np.ndarray]:
    """Eval-mode pass: ``features`` (pooled [CLS] output by default; ``pooling``/``layer``:
    :func:`.models.pool`), ``logits`` of the head (on the pooled [CLS] output), ``labels`` (float32)."""
    net.eval()
    feats, outs, labels = [], [], []
    for x, y in loader:
        if pooling == "cls" and layer == "last":
            h = f = net.features(x.to(device)).float()
        else:
            h, f = (t.float() for t in net.sentence_features(x.to(device), pooling, layer))
        feats.append(f.cpu())
        if logits:
            outs.append(net.head(h).float().cpu())
        labels.append(y)
    out = {"labels": torch.cat(labels).numpy(), "features": torch.cat(feats).numpy()}
    if logits:
        out["logits"] = torch.cat(outs).numpy()
    return out


def extract_features(spec: ModelSpec, target: str, ctx, opts: TaskOptions) -> FeatureBundle:
    """Features of the target's train split (pooled [CLS] output, or ``options.pooling``/``layer``);
    ``probs``: softmax of the source head (None for a model without source training: it has no
    source head). ``meta`` records, for the data-free controls, ``num_params`` (the backbone's) and,
    where known, ``source_accuracy`` and ``pretrain_epochs`` (:func:`.pretrain.source_facts`)."""
    prepare_device(opts.num_threads, ctx.device)
    t0 = time.perf_counter()
    net, tokenizer, info = load_pretrained(spec, ctx, opts)
    split = load_split(target, "train", ctx, opts, tokenizer, opts.train_per_class)
    facts = source_facts(spec, net, tokenizer, ctx, opts, info)
    if net is None:
        net = initial_net(spec, ctx, split.num_classes, len(tokenizer))
    facts = {"num_params": int(sum(p.numel() for p in net.backbone.parameters())), **facts}
    net = net.to(ctx.device)
    out = predict(net, make_loader(split.torch_dataset(), opts.eval_batch_size, shuffle=False, device=ctx.device), ctx.device,
                  logits=spec.pretrain is not None, pooling=opts.pooling, layer=opts.layer)
    probs = softmax(out["logits"].astype(np.float64), axis=1) if "logits" in out else None
    meta = {
        "task": "text", "model": spec.name, "arch": spec.arch, "weights": spec.weights, "variant": variant_of(spec.options),
        "dataset": target, "split": "train", "splits": {"features": "train", "finetune": "train", "evaluate": "test"},
        "features": opts.features_description(), "max_length": opts.max_length, "train_per_class": opts.train_per_class,
        "subsample_seed": opts.subsample_seed, "num_classes": split.num_classes, "classes": split.classes,
        "unknown_token_rate": split.unknown_rate, "dropped_empty": split.dropped_empty,
        "feature_dim": int(out["features"].shape[1]),
        "source_classes": int(out["logits"].shape[1]) if "logits" in out else None,
        "pretrained": {k: v for k, v in info.items() if k in ("pretrained", "source", "loss", "epochs", "weights")},
        **facts, "seconds": time.perf_counter() - t0,
    }
    return FeatureBundle.from_arrays(out["features"], out["labels"], probs, name=f"{spec.name}@{target}", meta=meta)


def finetune_model(spec: ModelSpec, target: str, seed: int, hparams: Hparams, ctx, opts: TaskOptions) -> FinetuneResult:
    prepare_device(opts.num_threads, ctx.device)
    t0 = time.perf_counter()
    net, tokenizer, _ = load_pretrained(spec, ctx, opts)
    train = load_split(target, "train", ctx, opts, tokenizer, opts.train_per_class)
    test = load_split(target, "test", ctx, opts, tokenizer, opts.test_per_class)
    k = max(train.num_classes, test.num_classes)
    torch.manual_seed(int(seed))
    if net is None:
        net = initial_net(spec, ctx, k, len(tokenizer))
    net.reset_head(k)
    net = net.to(ctx.device)
    _, loss_name = variant_of(spec.options)
    loss_fn = get_loss(loss_name, **dict((spec.options or {}).get("loss_options") or {}))
    loader = make_loader(train.torch_dataset(), hparams.batch_size, shuffle=True, seed=int(seed), device=ctx.device)
    optimizer, schedule = hparams.optimizer_and_schedule(net, len(loader))
    amp = Amp(ctx.device)
    desc = f"finetune {spec.name} on {target} (seed {seed})"
    losses = [train_epoch(net, loader, optimizer, loss_fn, ctx.device, amp, scheduler=schedule)
              for _ in ctx.bar(range(hparams.epochs), total=hparams.epochs, desc=desc)]
    out = predict(net, make_loader(test.torch_dataset(), opts.eval_batch_size, shuffle=False, device=ctx.device), ctx.device)
    predictions = TestPredictions(out["logits"].argmax(axis=1), out["labels"])
    info = {"train_n": len(train), "test_n": len(test), "num_classes": k, "epochs": hparams.epochs,
            "epoch_losses": losses, "device": str(ctx.device), "variant": list(variant_of(spec.options))}
    return FinetuneResult(metrics={"accuracy": float(predictions.correct.mean())}, seconds=time.perf_counter() - t0,
                          info=info, predictions=predictions)
