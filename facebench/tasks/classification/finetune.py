"""Ground truth: fine-tune the whole pre-trained model on a target, report test accuracy.

The zoo model gets a fresh ``Linear(num_features, K)`` head for the target's K classes and all
of its parameters are trained on the target's train split (``train_per_class`` applies) with the
benchmark's optimizer, learning rate, momentum, weight decay, epochs and batch size (constant
learning rate, no augmentation; ``min_steps`` raises the number of whole epochs of a small target,
:meth:`~.options.Hparams.epochs_for`). Accuracy is measured on the test split (``test_per_class``
applies) as a fraction in [0, 1]; the predicted and true label of every test sample are returned
too (:class:`~facebench.predictions.TestPredictions`, stored by the runner). Everything random (head initialisation, dropout, shuffling)
derives from ``seed``, so a run is repeatable on the same device. When the benchmark asks for
per-epoch diagnostics (``ctx.diagnostics``, e.g. the variance collapse C of FaCe Eq. 2-3), they
are computed on the train-split features before fine-tuning (entry 0, the pre-trained features
as the metrics see them) and after every epoch. With the
option ``recalibrate_bn`` the BatchNorm statistics are re-estimated on the train split before
evaluation (and before each trace point); running statistics never affect training itself.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from ...predictions import TestPredictions
from ...torch_utils import Amp, make_loader, train_epoch
from ..base import FinetuneResult, ModelSpec
from .data import load_split
from .options import Hparams, TaskOptions
from .pretrain import load_pretrained
from .training import predict, recalibrate_batchnorm, setup_torch


def _ce(net, x, y, generator=None):
    return F.cross_entropy(net(x).float(), y)


def finetune_model(spec: ModelSpec, target: str, seed: int, hparams: Hparams, ctx, opts: TaskOptions) -> FinetuneResult:
    setup_torch(opts, ctx.device)
    t0 = time.perf_counter()
    net, prep, _ = load_pretrained(spec, ctx, opts)
    train = load_split(target, "train", ctx, opts, opts.train_per_class)
    test = load_split(target, "test", ctx, opts, opts.test_per_class)
    k = max(train.num_classes, test.num_classes)

    torch.manual_seed(int(seed))
    net.reset_head(k)
    net = net.to(ctx.device)
    optimizer = hparams.optimizer_for(net.parameters())
    transform = prep.transform()
    train_ds = train.torch_dataset(transform)
    loader = make_loader(train_ds, hparams.batch_size, shuffle=True, seed=int(seed), num_workers=opts.num_workers,
                         device=ctx.device)
    trace_loader = make_loader(train_ds, opts.eval_batch_size, shuffle=False, num_workers=opts.num_workers) if ctx.diagnostics else None
    amp = Amp(ctx.device)

    losses: list[float] = []
    trace: dict[str, list[float]] = {name: [] for name in ctx.diagnostics}

    def trace_point(recalibrate: bool) -> None:
        # Observe without perturbing: iterating a DataLoader draws from the global RNG, which
        # would change the dropout masks of the following epochs; fork_rng restores it.
        cuda = [torch.device(ctx.device).index or 0] if str(ctx.device).startswith("cuda") else []
        with torch.random.fork_rng(devices=cuda):
            if recalibrate:  # measure the features that evaluation would see
                recalibrate_batchnorm(net, trace_loader, ctx.device)
            out = predict(net, trace_loader, ctx.device, logits=False)
        for name, value in ctx.diagnose(out["features"], out["labels"]).items():
            trace[name].append(value)

    if trace_loader is not None:  # epoch 0: the pre-trained features, as the metrics see them
        trace_point(recalibrate=False)
    desc = f"finetune {spec.name} on {target} (seed {seed})"
    epochs = hparams.epochs_for(len(loader))
    for _ in ctx.bar(range(epochs), total=epochs, desc=desc):
        losses.append(train_epoch(net, loader, optimizer, _ce, ctx.device, amp))
        if trace_loader is not None:
            trace_point(recalibrate=opts.recalibrate_bn)

    if opts.recalibrate_bn:
        bn_loader = make_loader(train_ds, hparams.batch_size, shuffle=False, num_workers=opts.num_workers)
        recalibrate_batchnorm(net, bn_loader, ctx.device)
    test_loader = make_loader(test.torch_dataset(transform), opts.eval_batch_size, shuffle=False,
                              num_workers=opts.num_workers, device=ctx.device)
    out = predict(net, test_loader, ctx.device, features=False)
    predictions = TestPredictions(out["logits"].argmax(axis=1), out["labels"])
    accuracy = float(predictions.correct.mean())
    seconds = time.perf_counter() - t0
    info = {
        "train_n": len(train), "test_n": len(test), "num_classes": k, "epochs": epochs,
        "steps": epochs * len(loader),
        "epoch_losses": losses, "preprocessing": prep.as_meta(), "device": str(ctx.device),
    }
    return FinetuneResult(metrics={"accuracy": accuracy}, diagnostics=trace, seconds=seconds, info=info,
                          predictions=predictions)
