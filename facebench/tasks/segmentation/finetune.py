"""Ground truth: fine-tune the whole pre-trained PSPNet on a target, report test mIoU, pixel accuracy and mAcc.

The zoo model keeps its backbone and PSP module and gets a fresh classifier
(``decode_head.conv_seg``) for the target's classes; every parameter is trained on the target's
train split (``train_images`` applies) with cross entropy and the benchmark's SGD / warm-up +
poly hyper-parameters (:mod:`.options`), no augmentation. The test split (``test_images``
applies; the split on disk, e.g. Cityscapes' ``val``, is ``info["test_split"]``) is predicted by
``EncoderDecoder.predict`` and scored by mmseg's IoUMetric as it streams (:mod:`.evaluate`).
Both splits are read from disk a batch at a time (:class:`.data.SegSplit`). The classifier's initialisation and the shuffling derive from ``seed``.
Per-sample predictions are not returned (optional for this task): the reliability of the mIoU
ranking is measured over seeds only. ``from_source=False`` trains the same architecture from
mmseg's random initialisation instead (the check that source pre-training helps;
``benchmarks/time_embedded_segmentation.py --scratch``).
"""
from __future__ import annotations

import time

import torch

from ..base import FinetuneResult, ModelSpec
from .data import load_split
from .evaluate import evaluate_split
from .mm import build_pspnet, transferable_state
from .options import Hparams, TaskOptions
from .pretrain import load_pretrained
from .training import setup_torch, train


def finetune_model(spec: ModelSpec, target: str, seed: int, hp: Hparams, ctx, opts: TaskOptions, *,
                   from_source: bool = True) -> FinetuneResult:
    setup_torch(opts, ctx.device)
    t0 = time.perf_counter()
    source_net = load_pretrained(spec, ctx, opts)[0] if from_source else None
    train_split = load_split(target, "train", ctx, opts, opts.train_images)
    test_split = load_split(target, "test", ctx, opts, opts.test_images)
    torch.manual_seed(int(seed))
    net = build_pspnet(spec, train_split.num_classes, ignore_index=train_split.ignore_index)
    if source_net is not None:
        missing, unexpected = net.load_state_dict(transferable_state(source_net.state_dict()), strict=False)
        assert not unexpected and all(k.startswith("decode_head.conv_seg.") for k in missing), (missing, unexpected)
    net = net.to(ctx.device)
    desc = f"finetune {spec.name} on {target} (seed {seed})"
    losses = train(net, train_split, epochs=hp.epochs, batch_size=hp.batch_size, lr=hp.lr,
                   momentum=hp.momentum, weight_decay=hp.weight_decay, warmup_iters=hp.warmup_iters, power=hp.power,
                   seed=int(seed), device=ctx.device, bar=lambda it: ctx.bar(it, total=hp.epochs, desc=desc))
    scores = evaluate_split(net, test_split, opts.eval_batch_size, ctx.device)
    info = {"train_n": len(train_split), "test_n": len(test_split), "num_classes": train_split.num_classes,
            "train_split": train_split.on_disk, "test_split": test_split.on_disk,
            "epochs": hp.epochs, "epoch_losses": losses, "device": str(ctx.device), "from_source": from_source}
    return FinetuneResult(metrics=scores, seconds=time.perf_counter() - t0, info=info)
