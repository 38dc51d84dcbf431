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

from pathlib import Path
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
        from .data import check_dataset, checked_params, dataset_instance
        from .models import check_layer, check_weights, hub_id, hub_ready, num_layers
        from .pretrain import PretrainOptions, check_pretrain, is_cached

        opts = self.validated_options(benchmark, ctx)
        for name in opts.datasets:  # options.datasets.<name>: checked even for a dataset no job reads
            checked_params(name, ctx, opts)
        models = self.zoo_models(benchmark, ctx)
        tokenizers: dict[str, Any] = {}  # key -> the first model of that tokenizer (loaded when a check needs it)
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
            tokenizers.setdefault(key, model)
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
        tokens = _Tokenizers(tokenizers, ctx)
        for (name, split, tag), extra in checks.items():
            if (name, tag) not in checked:
                check_dataset(name, ctx, opts, extra)
                checked.add((name, tag))
            if ctx.download and not dataset_instance(name, ctx).spec.offline:
                continue  # it may download when read: the job that reads it checks its content, a plan makes no network call
            _check_content(name, split, extra, ctx, opts, tokens)
        tokens.load_unused()

    @staticmethod
    def jobs() -> TaskJobs:
        """Source training (:mod:`.pretrain`), features and fine-tuning (:mod:`.jobs`),
        ``hf:<checkpoint id or local folder>`` (:mod:`.references`)."""
        from .jobs import extract_features, finetune_model
        from .pretrain import load_pretrained
        from .references import resolve_reference

        return TaskJobs(load_pretrained, extract_features, finetune_model, resolve_reference)


class _Tokenizers:
    """The zoo's tokenizers (key -> first model), each loaded on first use (a hub checkpoint's from the
    local cache only: validation makes no network call; None: one a run would download), with its
    identity for the check memo (None: unknown, not memoized)."""

    def __init__(self, models: dict[str, Any], ctx) -> None:
        self.models, self.ctx = models, ctx
        self.loaded: dict[str, Any] = {}
        self.proven: set[str] = set()  # keys a memo hit vouches for (it loaded when the stamp was written)
        self._ids: dict[str, Any] = {}

    def get(self, key: str):
        from .models import load_tokenizer

        if key not in self.loaded:
            self.loaded[key] = load_tokenizer(self.models[key], self.ctx, local_only=True)
        return self.loaded[key]

    def identity(self, key: str) -> Any:
        if key not in self._ids:
            self._ids[key] = _tokenizer_identity(self.models[key], self.ctx)
        return self._ids[key]

    def load_unused(self) -> None:
        """Load every tokenizer neither loaded nor vouched for by a memo hit: a broken one is still refused."""
        for key in self.models:
            if key not in self.proven:
                self.get(key)


def _tokenizer_identity(model, ctx) -> Any:
    """What the model's tokenizer is made of, from the disk only: its vocabulary file, its local
    checkpoint folder, or its hub snapshot (path and a fingerprint of the files: name, size, mtime);
    ``"none"`` for a hub tokenizer not on disk (never loaded by validation); None where unknown."""
    from ...datafiles import files_fingerprint
    from .models import has_tokenizer_files, hub_id, hub_snapshot, local_checkpoint, vocab_path

    try:
        vocab = vocab_path(model)
        if vocab is not None:
            return {"vocab": str(Path(vocab).resolve()), "files": files_fingerprint([Path(vocab).resolve()])}
        folder = local_checkpoint(model)
        if folder is not None:
            return {"checkpoint": str(folder.resolve()), "files": files_fingerprint([folder.resolve()])}
        if hub_id(model) is not None:
            snapshot = hub_snapshot(model, ctx)
            if snapshot is None or not has_tokenizer_files(snapshot):
                return "none"
            return {"hub": hub_id(model), "snapshot": str(snapshot), "files": files_fingerprint([snapshot])}
    except (ConfigError, OSError):
        return None
    return None


def _check_content(name: str, split: str, extra: dict, ctx, opts, tokens: _Tokenizers) -> None:
    """Empty texts, truncation and the unknown-token rate under each tokenizer of one split, unless a
    stamp under ``<cache_dir>/checks/text/`` says that these inputs passed before (only a pass is
    stamped). A hit logs again what the check logged (the empty texts dropped)."""
    from .data import (check_memo_parts, check_truncation, check_vocabulary, load_text, log_dropped, memo_key,
                       read_memo, write_memo)

    parts = check_memo_parts(name, split, ctx, opts, extra)
    keys: dict[str, str | None] = {}
    for tok in tokens.models:
        identity = tokens.identity(tok)
        keys[tok] = None if parts is None or identity is None else memo_key(*parts, {"tokenizer": identity})
    if not keys and parts is not None:  # no zoo model: the data checks alone
        keys[""] = memo_key(*parts, {"tokenizer": None})
    stamps = {tok: read_memo(ctx, key) if key is not None else None for tok, key in keys.items()}
    if keys and all(stamp is not None for stamp in stamps.values()):
        first = next(iter(stamps.values()))
        if first.get("dropped_empty"):
            log_dropped(name, int(first["dropped_empty"]), split, str(first.get("origin", "")))
        tokens.proven.update(t for t in keys if t)
        return
    data = load_text(name, split, ctx, opts, extra)
    check_truncation(data, name, opts)
    base = {"dataset": name, "split": split, "origin": data.origin, "dropped_empty": data.dropped_empty}
    for tok, key in keys.items():
        if stamps[tok] is not None:  # passed before under this tokenizer: its stamp stands
            tokens.proven.add(tok)
            continue
        tokenizer = tokens.get(tok) if tok else None
        rate = None
        if tokenizer is not None:  # None: a hub tokenizer a run would download (checked when its job runs)
            rate = check_vocabulary(data, name, tokenizer, opts)
        if key is not None and (tokenizer is not None or tokens.identity(tok) == "none" or not tok):
            write_memo(ctx, key, {**base, "unknown_rate": rate})


def _note(ctx, line: str) -> None:
    """A line for the plan (``facebench run --plan`` prints what a run would download)."""
    note = getattr(ctx, "note", None)
    if callable(note):
        note(line)


TASK = TextTask()
