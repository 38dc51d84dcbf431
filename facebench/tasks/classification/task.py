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

from typing import Any

from ..base import JobsTask, TaskJobs, check_source_once, require_splits
from .options import DEFAULT_FINETUNE, Hparams, TaskOptions


class ClassificationTask(JobsTask):
    """Image classification: features from a zoo model, ground truth from whole-model fine-tuning."""

    name = "classification"
    summary = "image classification: penultimate features, source softmax, fine-tuned test accuracy"
    ground_truth = ("accuracy", "accuracy_lr_grid")  # the second only with finetune.lr_grid
    default_finetune = DEFAULT_FINETUNE
    diagnostics = ("variance_collapse",)
    options_type = TaskOptions
    hparams_type = Hparams

    def validate(self, benchmark: Any, ctx) -> None:
        """Raise ConfigError naming whatever would make a job of this benchmark fail (the runner
        says which benchmark)."""
        from .data import check_dataset, checked_params, dataset_instance

        opts = self.validated_options(benchmark, ctx)
        for name in opts.datasets:  # options.datasets.<name>: checked even for a dataset no job reads
            checked_params(name, ctx, opts)
        for target in benchmark.targets:
            require_splits(target, dataset_instance(target, ctx).spec)
            check_dataset(target, ctx, opts)
        checked_sources: set[str] = set()
        for model in self.zoo_models(benchmark, ctx):
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
            check_source_once(model, checked_sources,
                              lambda: check_dataset(model.pretrain.source, ctx, opts, dict(po.dataset_options)))
        check_weights(model, ctx)

    @staticmethod
    def jobs() -> TaskJobs:
        """Source pre-training (:mod:`.pretrain`), features (:mod:`.extract`), fine-tuning
        (:mod:`.finetune`), ``timm:<name>`` or a local file/folder with its architecture (:mod:`.references`)."""
        from .extract import extract_features
        from .finetune import finetune_model
        from .pretrain import load_pretrained
        from .references import resolve_reference

        return TaskJobs(load_pretrained, extract_features, finetune_model, resolve_reference)


TASK = ClassificationTask()
