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

from typing import Any, Mapping

from ...errors import ConfigError
from ..base import Task
from .options import DEFAULT_FINETUNE


class SegmentationTask(Task):
    """Semantic segmentation with mmseg PSPNets: per-pixel features, mIoU, pixel accuracy and mAcc."""

    name = "segmentation"
    summary = "semantic segmentation (mmseg PSPNet): per-pixel features at sampled pixels, fine-tuned mIoU"
    ground_truth = ("miou", "pixel_acc", "macc")  # macc added later: older stores lack it (the board shows what is there)
    primary = "miou"
    default_finetune = DEFAULT_FINETUNE

    @staticmethod
    def _options(ctx, benchmark=None):
        from .options import TaskOptions

        options = dict(getattr(benchmark, "options", None) or {})
        options.update(dict(getattr(ctx, "options", None) or {}))
        return TaskOptions.parse(options)

    def validate(self, benchmark: Any, ctx) -> None:
        """Raise ConfigError naming whatever would make a job of this benchmark fail (the runner
        says which benchmark)."""
        from .data import check_dataset, dataset_instance
        from .mm import model_options
        from .options import Hparams
        from .pretrain import check_weights, is_cached, pretrain_options

        self._options(ctx, benchmark)
        Hparams.parse(getattr(benchmark, "finetune", None))
        for target in benchmark.targets:
            spec = dataset_instance(target, ctx).spec
            missing = [s for s in ("train", "test") if s not in spec.splits]
            if missing:
                raise ConfigError(f"dataset {target!r} has no {', '.join(missing)} split (needs train and test)")
            check_dataset(target, ctx)
        zoo = ctx.zoo(benchmark.zoo)
        if zoo is None:
            return
        if zoo.task != self.name:
            raise ConfigError(f"zoo {zoo.name!r} is a {zoo.task} zoo")
        checked: set[str] = set()
        for model in zoo.models:
            model_options(model)
            if model.pretrain is not None:
                pretrain_options(model)
                if is_cached(model, ctx):
                    continue
                if model.pretrain.source not in checked:
                    try:
                        check_dataset(model.pretrain.source, ctx)
                    except ConfigError as exc:
                        raise ConfigError(f"model {model.name!r}: source dataset: {exc}") from None
                    checked.add(model.pretrain.source)
            check_weights(model, ctx)

    def pretrain(self, model, ctx) -> None:
        from .pretrain import load_pretrained
        from .training import setup_torch

        opts = self._options(ctx)
        setup_torch(opts, ctx.device)
        load_pretrained(model, ctx, opts)

    def resolve_model(self, ref, ctx):
        """``mmseg:<config>`` with a ``checkpoint`` (:mod:`.references`)."""
        from .references import resolve_reference

        return resolve_reference(ref, ctx)

    def extract(self, model, dataset: str, ctx):
        from .extract import extract_features

        return extract_features(model, dataset, ctx, self._options(ctx))

    def finetune(self, model, dataset: str, seed: int, hparams: Mapping[str, Any], ctx):
        from .finetune import finetune_model
        from .options import Hparams

        return finetune_model(model, dataset, int(seed), Hparams.parse(hparams), ctx, self._options(ctx))


TASK = SegmentationTask()
