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
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from ...errors import ConfigError
from ...predictions import TestPredictions
from ...subsets import stratified_split
from ...torch_utils import Amp, make_loader, train_epoch
from ..base import FinetuneResult, ModelSpec
from .data import Split, load_split
from .options import Hparams, TaskOptions
from .pretrain import load_pretrained
from .training import predict, recalibrate_batchnorm, setup_torch


def _ce(net, x, y, generator=None):
    return F.cross_entropy(net(x).float(), y)


@dataclass
class _Trained:
    """A fine-tuned net with what evaluating it needs and what its training recorded."""

    net: torch.nn.Module
    transform: object
    prep: object
    epochs: int
    steps: int
    losses: list[float]
    trace: dict[str, list[float]]


def _train(spec: ModelSpec, train: Split, k: int, seed: int, hparams: Hparams, ctx, opts: TaskOptions, desc: str,
           diagnose: bool) -> _Trained:
    """Fine-tune a fresh copy of the pre-trained model on ``train`` with ``hparams`` (new head of ``k`` classes)."""
    net, prep, _ = load_pretrained(spec, ctx, opts)
    torch.manual_seed(int(seed))
    net.reset_head(k)
    net = net.to(ctx.device)
    optimizer = hparams.optimizer_for(net.parameters())
    transform = prep.transform()
    train_ds = train.torch_dataset(transform)
    loader = make_loader(train_ds, hparams.batch_size, shuffle=True, seed=int(seed), num_workers=opts.num_workers,
                         device=ctx.device)
    trace_loader = make_loader(train_ds, opts.eval_batch_size, shuffle=False, num_workers=opts.num_workers) if diagnose else None
    amp = Amp(ctx.device)

    losses: list[float] = []
    trace: dict[str, list[float]] = {name: [] for name in ctx.diagnostics} if diagnose else {}

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
    epochs = hparams.epochs_for(len(loader))
    for _ in ctx.bar(range(epochs), total=epochs, desc=desc):
        losses.append(train_epoch(net, loader, optimizer, _ce, ctx.device, amp))
        if trace_loader is not None:
            trace_point(recalibrate=opts.recalibrate_bn)

    if opts.recalibrate_bn:
        bn_loader = make_loader(train_ds, hparams.batch_size, shuffle=False, num_workers=opts.num_workers)
        recalibrate_batchnorm(net, bn_loader, ctx.device)
    return _Trained(net, transform, prep, epochs, epochs * len(loader), losses, trace)


def _evaluate(trained: _Trained, split: Split, ctx, opts: TaskOptions) -> TestPredictions:
    loader = make_loader(split.torch_dataset(trained.transform), opts.eval_batch_size, shuffle=False,
                         num_workers=opts.num_workers, device=ctx.device)
    out = predict(trained.net, loader, ctx.device, features=False)
    return TestPredictions(out["logits"].argmax(axis=1), out["labels"])


def _subset(split: Split, positions: np.ndarray) -> Split:
    return replace(split, indices=split.indices[positions], labels=split.labels[positions])


def lr_grid_accuracy(spec: ModelSpec, train: Split, test: Split, k: int, seed: int, hparams: Hparams, ctx,
                     opts: TaskOptions, fixed: TestPredictions) -> tuple[float, dict]:
    """Test accuracy at the grid's learning rate with the best validation accuracy (see ``options``).

    The validation part is a stratified ``validation_fraction`` of the train split drawn with the
    run's seed; the winning rate is retrained on the whole train split, unless it is the fixed
    recipe's rate, whose test predictions (``fixed``) are that run's already.
    """
    fit, val = stratified_split(train.labels, hparams.validation_fraction, seed=int(seed))
    if val.size == 0 or fit.size == 0:
        raise ConfigError(f"finetune.lr_grid: the train split of {train.name!r} is too small for a validation part "
                          f"of {hparams.validation_fraction}")
    fit_split, val_split = _subset(train, fit), _subset(train, val)
    validation = {}
    for lr in hparams.lr_grid:
        trained = _train(spec, fit_split, k, seed, hparams.with_lr(lr), ctx, opts,
                         f"lr grid {lr:g}: {spec.name} on {train.name} (seed {seed})", diagnose=False)
        validation[lr] = float(_evaluate(trained, val_split, ctx, opts).correct.mean())
    best = max(hparams.lr_grid, key=lambda lr: validation[lr])  # the first of equal ones
    if best == hparams.lr:
        accuracy = float(fixed.correct.mean())
    else:
        trained = _train(spec, train, k, seed, hparams.with_lr(best), ctx, opts,
                         f"lr {best:g}: {spec.name} on {train.name} (seed {seed})", diagnose=False)
        accuracy = float(_evaluate(trained, test, ctx, opts).correct.mean())
    return accuracy, {"validation_accuracy": {f"{lr:g}": v for lr, v in validation.items()}, "best_lr": best,
                      "validation_n": int(val.size)}


def finetune_model(spec: ModelSpec, target: str, seed: int, hparams: Hparams, ctx, opts: TaskOptions) -> FinetuneResult:
    setup_torch(opts, ctx.device)
    t0 = time.perf_counter()
    train = load_split(target, "train", ctx, opts, opts.train_per_class)
    test = load_split(target, "test", ctx, opts, opts.test_per_class)
    k = max(train.num_classes, test.num_classes)

    trained = _train(spec, train, k, seed, hparams, ctx, opts, f"finetune {spec.name} on {target} (seed {seed})",
                     diagnose=bool(ctx.diagnostics))
    predictions = _evaluate(trained, test, ctx, opts)
    metrics = {"accuracy": float(predictions.correct.mean())}
    info = {
        "train_n": len(train), "test_n": len(test), "num_classes": k, "epochs": trained.epochs,
        "steps": trained.steps,
        "epoch_losses": trained.losses, "preprocessing": trained.prep.as_meta(), "device": str(ctx.device),
    }
    if hparams.lr_grid:
        metrics["accuracy_lr_grid"], info["lr_grid"] = lr_grid_accuracy(
            spec, train, test, k, seed, hparams, ctx, opts, predictions)
    return FinetuneResult(metrics=metrics, diagnostics=trained.trace, seconds=time.perf_counter() - t0, info=info,
                          predictions=predictions)
