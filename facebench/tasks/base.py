"""The task contract: what the runner asks of classification, segmentation and text tasks.

The runner plans jobs per benchmark (task x zoo x targets x seeds) and calls, each as an
independent unit that an executor may run anywhere:

* ``pretrain(model, ctx)``: build the zoo model (run and cache its source pre-training if any);
* ``extract(model, dataset, ctx) -> FeatureBundle``: penultimate features (and source-classifier
  probabilities) of the target's *training* split, in the model's own preprocessing;
* ``finetune(model, dataset, seed, hparams, ctx) -> FinetuneResult``: fine-tune on the target's
  training split, evaluate on its test split.

``validate(benchmark, ctx)`` runs before any expensive job and raises ConfigError naming the
unknown or unavailable dataset, weights file or option.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

from ..bundle import FeatureBundle
from ..predictions import TestPredictions
from ..zoos.base import ModelSpec


@dataclass
class JobContext:
    """What a job needs from its surroundings."""

    cache_dir: Path
    device: str = "cpu"
    download: bool = False
    quiet: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)  # the benchmark's task options
    progress: Callable[..., Any] | None = None  # progress(iterable=None, total=None, desc=str) -> tqdm-like

    def bar(self, iterable=None, *, total=None, desc: str = ""):
        if self.progress is not None:
            return self.progress(iterable, total=total, desc=desc)
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, disable=self.quiet, leave=False, dynamic_ncols=True)


@dataclass
class FinetuneResult:
    """Ground truth of one fine-tuning run: statistic -> value (e.g. accuracy, miou, pixel_acc)."""

    metrics: dict[str, float]
    # variance collapse of the train-split features: [pre-trained, after epoch 1, ..., after epoch E]
    nc_trace: list[float] | None = None
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    # predicted and true label of every test sample (the runner stores them in the cache)
    predictions: TestPredictions | None = None


class Task(Protocol):
    name: str
    summary: str
    ground_truth: tuple[str, ...]  # statistics that finetune reports; the first is the primary one

    def validate(self, benchmark: Any, ctx: JobContext) -> None: ...

    def pretrain(self, model: ModelSpec, ctx: JobContext) -> None: ...

    def extract(self, model: ModelSpec, dataset: str, ctx: JobContext) -> FeatureBundle: ...

    def finetune(
        self, model: ModelSpec, dataset: str, seed: int, hparams: Mapping[str, Any], ctx: JobContext
    ) -> FinetuneResult: ...
