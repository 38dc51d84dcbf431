"""The image classification task (FaCe §4.1-4.3): the runner's entry points.

* ``validate``: options, fine-tuning hyper-parameters, target datasets (registered, available,
  decodable), zoo models (initial weights available, source dataset available, loss known),
  before anything expensive runs;
* ``pretrain``: build each zoo model; run and cache its source pre-training if it has one;
* ``extract``: penultimate features + source softmax of the target's train split;
* ``finetune``: whole-model fine-tuning, test-split accuracy.

torch, timm and torchvision are imported on first use, not when the plugin registers the task.
"""
from __future__ import annotations

from typing import Any, Mapping

from ...errors import ConfigError
from ..base import Task
from .options import DEFAULT_FINETUNE


class ClassificationTask(Task):
    """Image classification: features from a zoo model, ground truth from whole-model fine-tuning."""

    name = "classification"
    summary = "image classification: penultimate features, source softmax, fine-tuned test accuracy"
    ground_truth = ("accuracy",)
    default_finetune = DEFAULT_FINETUNE
    diagnostics = ("variance_collapse",)

    # -- helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _options(ctx, benchmark=None):
        from .options import TaskOptions

        options = dict(getattr(benchmark, "options", None) or {})
        options.update(dict(getattr(ctx, "options", None) or {}))
        return TaskOptions.parse(options)

    # -- Task protocol ----------------------------------------------------------------------------
    def validate(self, benchmark: Any, ctx) -> None:
        """Raise ConfigError naming whatever would make a job of this benchmark fail (the runner
        says which benchmark)."""
        from .data import check_dataset, checked_params, dataset_instance
        from .options import Hparams

        opts = self._options(ctx, benchmark)
        Hparams.parse(getattr(benchmark, "finetune", None))
        for name in opts.datasets:  # options.datasets.<name>: checked even for a dataset no job reads
            checked_params(name, ctx, opts)
        for target in benchmark.targets:
            spec = dataset_instance(target, ctx).spec
            missing = [s for s in ("train", "test") if s not in spec.splits]
            if missing:
                raise ConfigError(f"dataset {target!r} has no {', '.join(missing)} split (needs train and test)")
            check_dataset(target, ctx, opts)
        zoo = ctx.zoo(benchmark.zoo)
        if zoo is None:
            return  # the runner reports an unknown zoo itself
        if zoo.task != self.name:
            raise ConfigError(f"zoo {zoo.name!r} is a {zoo.task} zoo")
        checked_sources: set[str] = set()
        for model in zoo.models:
            self._validate_model(model, ctx, opts, checked_sources)

    def _validate_model(self, model, ctx, opts, checked_sources: set[str]) -> None:
        from .data import check_dataset
        from .losses import get_loss
        from .models import check_weights
        from .pretrain import PretrainOptions, is_cached

        if model.pretrain is not None:
            po = PretrainOptions.parse(model)
            get_loss(model.pretrain.loss, 2, **po.loss_options)
            if is_cached(model, ctx, opts):
                return
            if model.pretrain.source not in checked_sources:
                try:
                    check_dataset(model.pretrain.source, ctx, opts, dict(po.dataset_options))
                except ConfigError as exc:
                    raise ConfigError(f"model {model.name!r}: source dataset: {exc}") from None
                checked_sources.add(model.pretrain.source)
        check_weights(model, ctx)

    def pretrain(self, model, ctx) -> None:
        """Build ``model``; run and cache its source pre-training when it has a PretrainSpec."""
        from .pretrain import load_pretrained
        from .training import setup_torch

        opts = self._options(ctx)
        setup_torch(opts, ctx.device)
        load_pretrained(model, ctx, opts)

    def resolve_model(self, ref, ctx):
        """``timm:<name>`` or a local file/folder with its architecture (:mod:`.references`)."""
        from .references import resolve_reference

        return resolve_reference(ref, ctx)

    def extract(self, model, dataset: str, ctx):
        from .extract import extract_features

        return extract_features(model, dataset, ctx, self._options(ctx))

    def finetune(self, model, dataset: str, seed: int, hparams: Mapping[str, Any], ctx):
        from .finetune import finetune_model
        from .options import Hparams

        return finetune_model(model, dataset, int(seed), Hparams.parse(hparams), ctx, self._options(ctx))


TASK = ClassificationTask()
