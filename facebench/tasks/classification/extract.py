"""Feature extraction: penultimate features and source-head softmax on a target's train split."""
from __future__ import annotations

import time

import numpy as np
from scipy.special import softmax

from ...bundle import FeatureBundle
from ...torch_utils import make_loader
from ..base import ModelSpec
from .data import load_split
from .options import TaskOptions
from .models import backbone_params
from .pretrain import load_pretrained, source_facts
from .training import predict, setup_torch


def extract_features(spec: ModelSpec, target: str, ctx, opts: TaskOptions) -> FeatureBundle:
    """Features (n x d) of the target's train split (after ``train_per_class``), in order.

    ``probs`` is the softmax of the model's own source classifier (ImageNet's 1000 classes, or
    the source dataset's classes for models that facebench pre-trained). The preprocessing and
    the splits are recorded in ``bundle.meta``, and for the data-free controls
    (:mod:`facebench.metrics.controls`) ``num_params`` (the backbone's) and, where known,
    ``source_accuracy`` and ``pretrain_epochs`` (:func:`.pretrain.source_facts`).
    """
    setup_torch(opts, ctx.device)
    t0 = time.perf_counter()
    net, prep, info = load_pretrained(spec, ctx, opts)
    facts = {"num_params": backbone_params(net), **source_facts(spec, net, prep, ctx, opts, info)}
    net = net.to(ctx.device)
    split = load_split(target, "train", ctx, opts, opts.train_per_class)
    loader = make_loader(split.torch_dataset(prep.transform()), opts.eval_batch_size, shuffle=False,
                         num_workers=opts.num_workers, device=ctx.device)
    out = predict(net, loader, ctx.device)
    probs = softmax(out["logits"].astype(np.float64), axis=1)
    meta = {
        "task": "classification", "model": spec.name, "arch": spec.arch, "weights": spec.weights,
        "dataset": target, "split": "train", "splits": {"features": "train", "finetune": "train", "evaluate": "test"},
        "train_per_class": opts.train_per_class, "subsample_seed": opts.subsample_seed,
        "num_classes": split.num_classes, "classes": list(split.classes),
        "preprocessing": prep.as_meta(), "feature_dim": int(out["features"].shape[1]),
        "source_classes": int(out["logits"].shape[1]),
        "pretrained": {k: v for k, v in info.items() if k in ("pretrained", "source", "loss", "epochs", "weights")},
        **facts, "seconds": time.perf_counter() - t0,
    }
    return FeatureBundle.from_arrays(out["features"], out["labels"], probs, name=f"{spec.name}@{target}", meta=meta)
