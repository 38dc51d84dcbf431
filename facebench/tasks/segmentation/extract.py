"""Per-pixel features: the PSP bottleneck and the source head's softmax at the sampled pixels."""
from __future__ import annotations

import time

import numpy as np
from scipy.special import softmax

from ...bundle import FeatureBundle
from ..base import ModelSpec
from .data import load_split
from .options import TaskOptions
from .pixels import sample_pixels
from .pretrain import backbone_params, load_pretrained, source_facts
from .training import pixel_outputs, setup_torch


def scoring_pixels(split, opts: TaskOptions):
    """The class-balanced pixel sample of a target's train split (the same for every model)."""
    return sample_pixels(split.label_maps(), split.ignore_index, opts.pixels_per_class, opts.pixels_per_image, opts.pixel_seed)


def extract_features(spec: ModelSpec, target: str, ctx, opts: TaskOptions) -> FeatureBundle:
    """Features (n pixels x C) of the target's train split at the sampled pixels, with source softmax.

    ``bundle.meta`` records the pixel sample (count, per-class and per-image caps, seed) and the
    images it came from; the caps are benchmark options and so part of the feature job's key. For
    the data-free controls it records ``num_params`` (backbone and PSP bottleneck) and, where known,
    ``source_accuracy`` (the source mIoU) and ``pretrain_epochs`` (:func:`.pretrain.source_facts`).
    """
    setup_torch(opts, ctx.device)
    t0 = time.perf_counter()
    net, info = load_pretrained(spec, ctx, opts)
    facts = {"num_params": backbone_params(net), **source_facts(spec, net, ctx, opts)}
    net = net.to(ctx.device)
    split = load_split(target, "train", ctx, opts, opts.train_images)
    sample = scoring_pixels(split, opts)
    feats, logits = pixel_outputs(net, split, sample, opts.eval_batch_size, ctx.device)
    probs = softmax(logits, axis=1)
    meta = {
        "task": "segmentation", "model": spec.name, "arch": spec.arch, "weights": spec.weights,
        "dataset": target, "split": "train", "splits": {"features": "train", "finetune": "train", "evaluate": "test"},
        "split_on_disk": split.on_disk, "images": len(split), "image_size": list(split.image_shape),
        "pixels": sample.n, "pixels_per_class": opts.pixels_per_class, "pixels_per_image": opts.pixels_per_image,
        "pixel_seed": opts.pixel_seed, "pixels_of_class": np.bincount(sample.label, minlength=split.num_classes).tolist(),
        "num_classes": split.num_classes, "classes": list(split.classes), "ignore_index": split.ignore_index,
        "feature": "decode_head._forward_feature (PSP bottleneck), bilinear to label resolution",
        "feature_dim": int(feats.shape[1]), "source_classes": int(logits.shape[1]),
        "pretrained": {k: v for k, v in info.items() if k in ("pretrained", "source", "loss", "epochs", "weights")},
        **facts, "seconds": time.perf_counter() - t0,
    }
    return FeatureBundle.from_arrays(feats, sample.label, probs, name=f"{spec.name}@{target}", meta=meta)
