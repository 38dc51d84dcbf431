"""Zoo definitions: named collections of models for one task.

A :class:`ModelSpec` says how to obtain a pre-trained model: an architecture, where its initial
weights come from, and optionally a source pre-training recipe that facebench runs and caches
itself ("architecture A, initialised from W, trained on source S with loss L for E epochs").
What ``arch`` and ``weights`` mean is up to the zoo's task (timm names for classification, mmseg
config dicts for segmentation, transformers configs for text).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class PretrainSpec:
    """Source pre-training recipe run by facebench (zoo building)."""

    source: str  # dataset registry name
    loss: str = "ce"  # ce, label-smoothing, mixup, cutmix, cutout, large-margin, taylor, ...
    epochs: int = 100
    lr: float = 0.01
    batch_size: int = 64
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    name: str  # unique within the zoo; used as the model key everywhere
    arch: str
    weights: str | None = None  # e.g. "timm:imagenet", "torchvision:IMAGENET1K_V2", "package:efficientnet_lite0", a path, None
    pretrain: PretrainSpec | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Zoo:
    name: str
    summary: str
    task: str
    models: tuple[ModelSpec, ...]
    offline: bool = False  # all weights available without network

    def model(self, name: str) -> ModelSpec:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)
