"""The text task's benchmark options and fine-tuning hyper-parameters, validated.

Benchmark ``options`` (all optional)::

    max_length: 32            # tokens per text ([CLS] and [SEP] included); longer texts are cut
    train_per_class: 150      # cap the target's train split (features and fine-tuning) per class
    test_per_class: 99        # cap the target's test split per class
    subsample_seed: 0         # which items the caps keep
    datasets: {inews: {field: title}}   # per-dataset options, on top of the config's instance
    max_unknown_rate: 0.05    # refuse a dataset whose texts are more than this fraction [UNK] tokens
    drop_empty: false         # drop empty / whitespace-only texts (else they are an error)
    num_threads: 1            # torch.set_num_threads on CPU
    eval_batch_size: 128      # batch size of feature extraction and evaluation
    pooling: cls              # features: cls (default: the pooled [CLS] output at layer last) or mean
                              # (mean of the token states over the non-padding tokens)
    layer: last               # features: last (default), an index into the hidden states (0: the
                              # embedding output, 1..N the layers, -1 the last) or mean (of the N layers)
    truncation: end           # long texts: end (keep the first tokens) or head+tail (Sun et al., 2019)
    head_length: 128          # head+tail: tokens kept from the start (default: Sun et al.'s 128 of 510,
                              # scaled to max_length); the rest of the budget from the end

The feature options (``pooling``, ``layer``) change only what the metrics see (the head reads the
pooled [CLS] output); they and the truncation options enter the runner's feature key with the
other options, and only when a config sets them (the defaults add no key: existing configs keep
their keys). ``truncation`` also changes what source training sees: a non-default value enters
the source-training cache key (:func:`.pretrain.pretrain_key`). ``head+tail`` is for single
texts: a sentence-pair dataset is refused with it.

Fine-tuning ``finetune``: lr, epochs, batch_size, weight_decay, warmup (fraction of the steps
with a linear warm-up, then linear decay to 0: transformers' ``get_linear_schedule_with_warmup``);
the optimizer is always AdamW. :data:`DEFAULT_FINETUNE` is the paper's §4.5 recipe (AdamW,
lr 2e-5, batch 16, 10 epochs, warm-up).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ...checks import check_number, refuse_unknown
from ...errors import ConfigError

OPTION_KEYS = (
    "max_length", "train_per_class", "test_per_class", "subsample_seed", "datasets", "max_unknown_rate",
    "drop_empty", "num_threads", "eval_batch_size", "pooling", "layer", "truncation", "head_length",
)
POOLINGS = ("cls", "mean")
TRUNCATIONS = ("end", "head+tail")
#: Sun et al. (2019, "How to Fine-Tune BERT for Text Classification?"): 128 head + 382 tail tokens of 510
HEAD_SHARE = 128 / 510
HPARAM_KEYS = ("optimizer", "lr", "epochs", "batch_size", "weight_decay", "warmup")
DEFAULT_FINETUNE = {"optimizer": "adamw", "lr": 2e-5, "epochs": 10, "batch_size": 16, "weight_decay": 0.01, "warmup": 0.1}


def positive_int(value: Any, what: str, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"text: {what} must be a positive integer, got {value!r}")
    return int(value)


def fraction(value: Any, what: str) -> float:
    if isinstance(value, bool):  # float(True) would be 1.0
        raise ConfigError(f"text: {what} must be a number in [0, 1], got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"text: {what} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= v <= 1.0:
        raise ConfigError(f"text: {what} must be in [0, 1], got {value!r}")
    return v


@dataclass(frozen=True)
class TaskOptions:
    max_length: int = 32
    train_per_class: int | None = None
    test_per_class: int | None = None
    subsample_seed: int = 0
    datasets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    max_unknown_rate: float = 0.05
    drop_empty: bool = False
    num_threads: int | None = None
    eval_batch_size: int = 128
    pooling: str = "cls"
    layer: Any = "last"  # "last", "mean" or an int
    truncation: str = "end"
    head_length: int | None = None  # head+tail only: tokens kept from the start

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None) -> "TaskOptions":
        o = dict(options or {})
        refuse_unknown(o, OPTION_KEYS, "text", "option")
        datasets = o.get("datasets") or {}
        if not isinstance(datasets, Mapping) or not all(isinstance(v, Mapping) for v in datasets.values()):
            raise ConfigError("text: options.datasets must map dataset names to option mappings")
        seed = o.get("subsample_seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"text: subsample_seed must be an integer, got {seed!r}")
        max_length = positive_int(o.get("max_length", 32), "max_length", allow_none=False)
        if max_length < 3:
            raise ConfigError(f"text: max_length must be at least 3 ([CLS], one token, [SEP]), got {max_length}")
        pooling, layer = o.get("pooling", "cls"), o.get("layer", "last")
        if pooling not in POOLINGS:
            raise ConfigError(f"text: pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        if layer not in ("last", "mean") and (isinstance(layer, bool) or not isinstance(layer, int)):
            raise ConfigError(f"text: layer must be last, mean or an integer index into the hidden states, got {layer!r}")
        truncation = o.get("truncation", "end")
        if truncation not in TRUNCATIONS:
            raise ConfigError(f"text: truncation must be one of {', '.join(TRUNCATIONS)}, got {truncation!r}")
        head_length = None
        if truncation == "head+tail":
            budget = max_length - 2  # [CLS] and [SEP]
            head_length = o.get("head_length", int(round(budget * HEAD_SHARE)))
            if isinstance(head_length, bool) or not isinstance(head_length, int) or not 0 <= head_length <= budget:
                raise ConfigError(f"text: head_length must be an integer from 0 to max_length - 2 = {budget}, "
                                  f"got {head_length!r}")
        elif "head_length" in o:
            raise ConfigError("text: head_length applies to truncation: head+tail only")
        return cls(
            max_length=max_length,
            train_per_class=positive_int(o.get("train_per_class"), "train_per_class"),
            test_per_class=positive_int(o.get("test_per_class"), "test_per_class"),
            subsample_seed=seed,
            datasets={str(k): dict(v) for k, v in datasets.items()},
            max_unknown_rate=fraction(o.get("max_unknown_rate", 0.05), "max_unknown_rate"),
            drop_empty=bool(o.get("drop_empty", False)),
            num_threads=positive_int(o.get("num_threads"), "num_threads"),
            eval_batch_size=positive_int(o.get("eval_batch_size", 128), "eval_batch_size", allow_none=False),
            pooling=pooling, layer=layer, truncation=truncation, head_length=head_length,
        )

    def features_description(self) -> str:
        """What the features are, in words (feature bundles' metadata)."""
        if (self.pooling, self.layer) == ("cls", "last"):
            return "pooled [CLS] output"
        what = "[CLS] state" if self.pooling == "cls" else "mean of the non-padding token states"
        where = "the mean of the layers" if self.layer == "mean" else "the last layer" if self.layer == "last" \
            else f"hidden state {self.layer}"
        return f"{what} of {where}"

    def dataset_options(self, name: str) -> dict[str, Any]:
        return dict(self.datasets.get(name, {}))


@dataclass(frozen=True)
class Hparams:
    """AdamW with a linear warm-up over the first ``warmup`` fraction of the steps, then linear decay."""

    lr: float = 2e-5
    epochs: int = 10
    batch_size: int = 16
    weight_decay: float = 0.01
    warmup: float = 0.1

    @classmethod
    def parse(cls, hparams: Mapping[str, Any] | None, what: str = "finetune") -> "Hparams":
        h = dict(hparams or {})
        refuse_unknown(h, HPARAM_KEYS, "text", f"{what} key")
        if str(h.get("optimizer", "adamw")).lower() != "adamw":
            raise ConfigError(f"text: {what}.optimizer must be adamw (the only one the text task uses), got {h['optimizer']!r}")
        inf = float("inf")  # a finite number (not a bool, NaN or inf): lr > 0, weight_decay >= 0
        lr = check_number(h.get("lr", 2e-5), f"{what}.lr", "text", 0, inf, open_low=True, open_high=True)
        wd = check_number(h.get("weight_decay", 0.01), f"{what}.weight_decay", "text", 0, inf, open_high=True)
        return cls(
            lr, positive_int(h.get("epochs", 10), f"{what}.epochs", allow_none=False),
            positive_int(h.get("batch_size", 16), f"{what}.batch_size", allow_none=False), wd,
            fraction(h.get("warmup", 0.1), f"{what}.warmup"),
        )

    def optimizer_and_schedule(self, net, steps_per_epoch: int):
        """AdamW (no decay on biases and LayerNorm weights) and its warm-up/decay schedule, stepped per batch."""
        import torch
        from transformers import get_linear_schedule_with_warmup

        decay, no_decay = [], []
        for name, p in net.named_parameters():
            (no_decay if p.ndim < 2 else decay).append(p)
        # fused: one kernel per step instead of a loop over tensors; on CPU the update of the 21,128 x d
        # embedding matrix was half of a 2-layer model's training step (measured: 7 ms fused, 36 ms not)
        fused = all(p.device.type in ("cpu", "cuda") for p in net.parameters())
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=self.lr,
            fused=fused or None,
        )
        total = max(1, self.epochs * steps_per_epoch)
        schedule = get_linear_schedule_with_warmup(optimizer, int(round(self.warmup * total)), total)
        return optimizer, schedule
