"""Text splits for the task: load, check the content, cap per class, tokenize (HF ``Dataset.map``).

Content checks, each a ConfigError naming the file (raised by validation before any job runs):

* empty or whitespace-only texts: counted; an error unless ``options.drop_empty`` (then dropped,
  and the count is logged and kept in :attr:`Split.dropped_empty`);
* the unknown-token rate under the model's vocabulary (share of [UNK] among the non-special
  tokens, after mapping curly quotes and dashes to ASCII): an error above
  ``options.max_unknown_rate``.

A tokenized split is one long tensor N x 2 x L (token ids, attention mask) and its labels.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import ConfigError
from ...subsets import per_class_subset
from .datasets.common import TextData, empty_rows, normalise
from .options import TaskOptions

log = logging.getLogger(__name__)
TASK = "text"


def dataset_instance(name: str, ctx):
    return ctx.dataset(name, TASK)


def dataset_params(name: str, ctx, opts: TaskOptions, extra: dict | None = None) -> dict[str, Any]:
    return {**dataset_instance(name, ctx).params, **opts.dataset_options(name), **(extra or {})}


def check_dataset(name: str, ctx, opts: TaskOptions, extra: dict | None = None) -> None:
    """The dataset's own check (files, format, labels), then its splits' content (empty texts)."""
    spec = dataset_instance(name, ctx).spec
    params = dataset_params(name, ctx, opts, extra)
    try:
        if spec.check is not None:
            spec.check(ctx, **params)
    except ConfigError as exc:
        raise ConfigError(f"dataset {name!r}: {exc}") from None


def load_text(name: str, split: str, ctx, opts: TaskOptions, extra: dict | None = None) -> TextData:
    """The split as the dataset gives it, with empty texts refused or (``drop_empty``) dropped."""
    spec = dataset_instance(name, ctx).spec
    if split not in spec.splits:
        raise ConfigError(f"dataset {name!r} has no {split!r} split (splits: {', '.join(spec.splits)})")
    data = spec.load(split, ctx, **dataset_params(name, ctx, opts, extra))
    empty = empty_rows(data.dataset["text"])
    if empty:
        if not opts.drop_empty:
            shown = ", ".join(str(i + 1) for i in empty[:5])
            raise ConfigError(f"dataset {name!r}: {data.origin}: {len(empty)} empty or whitespace-only text(s) in the "
                              f"{split} split (rows {shown}{', ...' if len(empty) > 5 else ''}); "
                              "set options.drop_empty: true to drop them")
        log.warning("dataset %r: dropping %d empty or whitespace-only text(s) of the %s split (%s)",
                    name, len(empty), split, data.origin)
        gone = set(empty)
        data.dataset = data.dataset.select([i for i in range(len(data.dataset)) if i not in gone])
    data.dropped_empty = len(empty)
    if len(data.dataset) == 0:
        raise ConfigError(f"dataset {name!r}: {data.origin}: the {split} split is empty")
    return data


def unknown_rate(tokenizer, texts) -> float:
    """Share of [UNK] among the non-special tokens of ``texts`` (after :func:`normalise`)."""
    enc = tokenizer([normalise(t) for t in texts], add_special_tokens=False)["input_ids"]
    total = sum(len(ids) for ids in enc)
    unk = sum(ids.count(tokenizer.unk_token_id) for ids in enc)
    return unk / total if total else 0.0


def check_vocabulary(data: TextData, name: str, tokenizer, opts: TaskOptions) -> float:
    rate = unknown_rate(tokenizer, data.dataset["text"])
    if rate > opts.max_unknown_rate:
        raise ConfigError(f"dataset {name!r}: {data.origin}: {rate:.1%} of the tokens are unknown to the model's "
                          f"vocabulary (max_unknown_rate {opts.max_unknown_rate:.1%})")
    return rate


@dataclass
class Split:
    name: str
    split: str
    x: Any  # torch.LongTensor N x 2 x L
    labels: np.ndarray
    classes: list[str]
    unknown_rate: float
    dropped_empty: int

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return int(self.labels.size)

    def torch_dataset(self):
        import torch
        from torch.utils.data import TensorDataset

        return TensorDataset(self.x, torch.as_tensor(self.labels))


def tokenize(dataset, tokenizer, max_length: int):
    """``dataset`` (text, label) -> N x 2 x max_length long tensor (ids, mask), through ``Dataset.map``."""
    import torch

    def encode(batch):
        return tokenizer([normalise(t) for t in batch["text"]], max_length=max_length, truncation=True,
                         padding="max_length")

    enc = dataset.map(encode, batched=True, remove_columns=["text"]).with_format("torch")[:]
    return torch.stack([enc["input_ids"], enc["attention_mask"]], dim=1).long()


def load_split(name: str, split: str, ctx, opts: TaskOptions, tokenizer, per_class: int | None = None,
               extra: dict | None = None, seed: int | None = None) -> Split:
    """Load, cap at ``per_class`` items per class (seeded), check the vocabulary, tokenize."""
    data = load_text(name, split, ctx, opts, extra)
    labels = np.asarray(data.dataset["label"], dtype=np.int64)
    keep = per_class_subset(labels, per_class, seed=opts.subsample_seed if seed is None else seed)
    ds = data.dataset.select(keep.tolist())
    rate = check_vocabulary(TextData(ds, data.classes, data.origin), name, tokenizer, opts)
    x = tokenize(ds, tokenizer, opts.max_length)
    return Split(name, split, x, labels[keep], list(data.classes), rate, data.dropped_empty)
