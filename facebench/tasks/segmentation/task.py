"""The semantic segmentation task (FaCe §4.4, Fig. 5): the runner's entry points.

* ``validate``: options, hyper-parameters, target datasets (registered, files paired, decodable,
  sizes and label values), zoo models (options, loss, weights, source datasets), before any job;
* ``pretrain``: build each zoo PSPNet; run and cache its source pre-training;
* ``extract``: per-pixel PSP-bottleneck features and source softmax at a class-balanced pixel
  sample of the target's train split (:mod:`.pixels`);
* ``finetune``: whole-model fine-tuning, test-split mIoU (primary), pixel accuracy and mean class
  accuracy (mAcc).

torch and mmseg are imported on first use, never when the plugin registers the task.
"""
from __future__ import annotations

from typing import Any

from ..base import JobsTask, TaskJobs, check_source_once, require_splits
from .options import DEFAULT_FINETUNE, Hparams, TaskOptions


class SegmentationTask(JobsTask):
    """Semantic segmentation with mmseg PSPNets: per-pixel features, mIoU, pixel accuracy and mAcc."""

    name = "segmentation"
    summary = "semantic segmentation (mmseg PSPNet): per-pixel features at sampled pixels, fine-tuned mIoU"
    ground_truth = ("miou", "pixel_acc", "macc")  # macc added later: older stores lack it (the board shows what is there)
    primary = "miou"
    default_finetune = DEFAULT_FINETUNE
    options_type = TaskOptions
    hparams_type = Hparams

    def validate(self, benchmark: Any, ctx) -> None:
        """Raise ConfigError naming whatever would make a job of this benchmark fail (the runner
        says which benchmark)."""
        from .data import check_dataset, dataset_instance
        from .mm import model_options
        from .pretrain import check_weights, is_cached, pretrain_options

        self.validated_options(benchmark, ctx)
        for target in benchmark.targets:
            require_splits(target, dataset_instance(target, ctx).spec)
            check_dataset(target, ctx)
        checked: set[str] = set()
        for model in self.zoo_models(benchmark, ctx):
            model_options(model)
            if model.pretrain is not None:
                pretrain_options(model)
                if is_cached(model, ctx):
                    continue
                check_source_once(model, checked, lambda: check_dataset(model.pretrain.source, ctx))
            check_weights(model, ctx)

    @staticmethod
    def jobs() -> TaskJobs:
        """Source pre-training (:mod:`.pretrain`), pixel features (:mod:`.extract`), fine-tuning
        (:mod:`.finetune`), ``mmseg:<config>`` with a ``checkpoint`` (:mod:`.references`)."""
        from .extract import extract_features
        from .finetune import finetune_model
        from .pretrain import load_pretrained
        from .references import resolve_reference

        return TaskJobs(load_pretrained, extract_features, finetune_model, resolve_reference)


TASK = SegmentationTask()
