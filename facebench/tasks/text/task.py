"""The Chinese text classification task (FaCe §4.5): the runner's entry points.

* ``validate``: options, fine-tuning hyper-parameters, zoo models (architecture, variant,
  vocabulary, weights, source recipe), target and source datasets (files, format, labels, empty
  texts, unknown-token rate under each vocabulary of the zoo), before anything expensive runs;
* ``pretrain``: supervised source training of each zoo model, cached (:mod:`.pretrain`);
* ``extract``: features (pooled [CLS] output, or ``options.pooling``/``layer``) + source-head
  softmax of the target's train split;
* ``finetune``: whole-model fine-tuning with the model's variant (head and loss), test accuracy.

torch, transformers and datasets are imported on first use, not when the plugin registers the task.
"""
from __future__ import annotations

from typing import Any

from ...errors import ConfigError
from ..base import JobsTask, TaskJobs, require_splits
from .options import DEFAULT_FINETUNE, Hparams, TaskOptions


class TextTask(JobsTask):
    """Chinese text classification: NEZHA / RoBERTa backbones with the paper's heads and losses."""

    name = "text"
    summary = "Chinese text classification: pooled [CLS] features, source softmax, fine-tuned test accuracy"
    ground_truth = ("accuracy",)
    default_finetune = DEFAULT_FINETUNE
    options_type = TaskOptions
    hparams_type = Hparams

    def validate(self, benchmark: Any, ctx) -> None:
        """Raise ConfigError naming whatever would make a job of this benchmark fail (the runner
        says which benchmark)."""
        from .data import check_dataset, check_truncation, check_vocabulary, checked_params, dataset_instance, load_text
        from .models import check_layer, check_weights, hub_id, hub_ready, load_tokenizer, num_layers
        from .pretrain import PretrainOptions, check_pretrain, is_cached

        opts = self.validated_options(benchmark, ctx)
        for name in opts.datasets:  # options.datasets.<name>: checked even for a dataset no job reads
            checked_params(name, ctx, opts)
        models = self.zoo_models(benchmark, ctx)
        tokenizers = {}
        for model in models:
            try:
                check_weights(model, ctx)
                check_pretrain(model)
                max_pos = (model.options or {}).get("max_position_embeddings")
                if max_pos is not None and int(max_pos) < opts.max_length:
                    raise ConfigError(f"max_position_embeddings {max_pos} < options.max_length {opts.max_length}")
                layers = num_layers(model)
                if layers is not None:
                    check_layer(opts.layer, layers, f"model {model.name!r}")
            except ConfigError as exc:
                raise ConfigError(f"model {model.name!r}: {exc}" if model.name not in str(exc) else str(exc)) from None
            key = str(model.weights or (model.options or {}).get("vocab", "default"))
            if key not in tokenizers:  # a hub checkpoint's from the local cache only: validation makes no network call
                tokenizers[key] = load_tokenizer(model, ctx, local_only=True)
            if not hub_ready(model, ctx):  # (without downloads, check_weights refused missing weights)
                if not ctx.download:
                    raise ConfigError(f"model {model.name!r}: the tokenizer of {model.weights} is not in the Hugging Face "
                                      "cache and needs a download (run with --allow-download)")
                _note(ctx, f"would download {hub_id(model)} (hub checkpoint, not in the Hugging Face cache)")
        # (dataset, split, extra params) to check: the targets' train and test, uncached sources' train
        checks: dict[tuple, dict] = {}
        for target in benchmark.targets:
            require_splits(target, dataset_instance(target, ctx).spec)
            for split in ("train", "test"):
                checks[(target, split, "")] = {}
        for model in models:
            if model.pretrain is not None and not is_cached(model, ctx, opts):
                extra = dict(PretrainOptions.parse(model).dataset_options)
                checks[(model.pretrain.source, "train", repr(sorted(extra.items())))] = extra
        checked = set()
        for (name, split, tag), extra in checks.items():
            if (name, tag) not in checked:
                check_dataset(name, ctx, opts, extra)
                checked.add((name, tag))
            if ctx.download and not dataset_instance(name, ctx).spec.offline:
                continue  # it may download when read: the job that reads it checks its content, a plan makes no network call
            data = load_text(name, split, ctx, opts, extra)
            check_truncation(data, name, opts)
            for tokenizer in tokenizers.values():
                if tokenizer is not None:  # None: a hub tokenizer a run would download (checked when its job runs)
                    check_vocabulary(data, name, tokenizer, opts)

    @staticmethod
    def jobs() -> TaskJobs:
        """Source training (:mod:`.pretrain`), features and fine-tuning (:mod:`.jobs`),
        ``hf:<checkpoint id or local folder>`` (:mod:`.references`)."""
        from .jobs import extract_features, finetune_model
        from .pretrain import load_pretrained
        from .references import resolve_reference

        return TaskJobs(load_pretrained, extract_features, finetune_model, resolve_reference)


def _note(ctx, line: str) -> None:
    """A line for the plan (``facebench run --plan`` prints what a run would download)."""
    note = getattr(ctx, "note", None)
    if callable(note):
        note(line)


TASK = TextTask()
