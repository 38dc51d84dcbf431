"""The classification task's benchmark options and fine-tuning hyper-parameters, validated.

Benchmark ``options`` (all optional)::

    image_size: 32            # resize every image to this (overrides the models' own size)
    train_per_class: 20       # cap the target's train split (features and fine-tuning) per class
    test_per_class: 50        # cap the target's test split per class
    subsample_seed: 0         # which items the caps keep
    data_root: ~/data         # where downloadable datasets live (else $FACEBENCH_DATA)
    datasets:                 # per-dataset options of this benchmark, on top of the config's instance
                              # (checked against the dataset type's declared parameters)
      digits: {test_fraction: 0.2}   # (an image-folder is better named in the config's datasets:)
    num_threads: 2            # torch.set_num_threads on CPU
    num_workers: 0            # DataLoader workers
    eval_batch_size: 256      # batch size of feature extraction and evaluation
    recalibrate_bn: false     # re-estimate BatchNorm statistics on the train split after fine-tuning

Fine-tuning ``finetune`` hyper-parameters: optimizer (sgd, adam, adamw), lr, momentum, epochs,
batch_size, weight_decay, min_steps; the task's defaults are :data:`DEFAULT_FINETUNE` (the paper's
§4.1 recipe: SGD, lr 0.01, momentum 0.9; 20 epochs of batch 64). ``min_steps`` (default 0: off)
is a floor on the number of optimizer steps, in whole epochs: the run trains
``max(epochs, ceil(min_steps / batches_per_epoch))`` epochs, so that a target with few images
per class is not left after a dozen updates while a large one keeps its ``epochs``.

``lr_grid`` (optional, e.g. ``[0.003, 0.01, 0.03]``) adds a second ground truth,
``accuracy_lr_grid``: the model is fine-tuned at every learning rate of the grid on the train
split less a stratified validation part (``validation_fraction``, default 0.2, drawn with the
run's seed), the rate with the best validation accuracy is kept (the first one on a tie), and the
test accuracy of the model fine-tuned at that rate on the whole train split is recorded. This is how
the LogME and SFDA papers made their ground truths (best of a grid on a validation split); the
fixed-recipe ``accuracy`` stays the primary ground truth, and the board says how far the two agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from ...checks import check_bool, check_number, refuse_unknown
from ...errors import ConfigError

OPTION_KEYS = (
    "image_size", "train_per_class", "test_per_class", "subsample_seed", "data_root", "datasets",
    "num_threads", "num_workers", "eval_batch_size", "recalibrate_bn",
)
HPARAM_KEYS = ("optimizer", "lr", "momentum", "epochs", "batch_size", "weight_decay", "min_steps", "lr_grid",
               "validation_fraction")
OPTIMIZERS = ("sgd", "adam", "adamw")
DEFAULT_FINETUNE = {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "epochs": 20, "batch_size": 64}


def _positive_int(value: Any, what: str, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"classification: {what} must be a positive integer, got {value!r}")
    return int(value)


def _non_negative_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"classification: {what} must be a non-negative integer, got {value!r}")
    return int(value)


def _lr_grid(value: Any) -> tuple[float, ...]:
    """``finetune.lr_grid``: a list of distinct positive learning rates (empty: no grid)."""
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"classification: finetune.lr_grid must be a list of learning rates, got {value!r}")
    inf = float("inf")
    grid = tuple(check_number(v, "finetune.lr_grid", "classification", 0, inf, open_low=True, open_high=True)
                 for v in value)
    if len(set(grid)) != len(grid):
        raise ConfigError(f"classification: finetune.lr_grid has a repeated learning rate: {list(value)!r}")
    if len(grid) == 1:
        raise ConfigError("classification: finetune.lr_grid needs at least two learning rates (one is the fixed lr)")
    return tuple(float(v) for v in grid)


@dataclass(frozen=True)
class TaskOptions:
    image_size: int | None = None
    train_per_class: int | None = None
    test_per_class: int | None = None
    subsample_seed: int = 0
    data_root: str | None = None
    datasets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    num_threads: int | None = None
    num_workers: int = 0
    eval_batch_size: int = 256
    recalibrate_bn: bool = False

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None) -> "TaskOptions":
        o = dict(options or {})
        refuse_unknown(o, OPTION_KEYS, "classification", "option")
        datasets = o.get("datasets") or {}
        if not isinstance(datasets, Mapping) or not all(isinstance(v, Mapping) for v in datasets.values()):
            raise ConfigError(f"classification: options.datasets must map dataset names to option mappings, got {datasets!r}")
        workers = o.get("num_workers", 0)
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ConfigError(f"classification: num_workers must be an integer >= 0, got {workers!r}")
        seed = o.get("subsample_seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"classification: subsample_seed must be an integer, got {seed!r}")
        return cls(
            image_size=_positive_int(o.get("image_size"), "image_size"),
            train_per_class=_positive_int(o.get("train_per_class"), "train_per_class"),
            test_per_class=_positive_int(o.get("test_per_class"), "test_per_class"),
            subsample_seed=seed,
            data_root=str(o["data_root"]) if o.get("data_root") else None,
            datasets={str(k): dict(v) for k, v in datasets.items()},
            num_threads=_positive_int(o.get("num_threads"), "num_threads"),
            num_workers=workers,
            eval_batch_size=_positive_int(o.get("eval_batch_size", 256), "eval_batch_size", allow_none=False),
            recalibrate_bn=check_bool(o.get("recalibrate_bn", False), "recalibrate_bn", "classification"),
        )

    def dataset_options(self, name: str) -> dict[str, Any]:
        """Options passed to the dataset's ``load``/``check``: its own entry plus data_root."""
        opts = dict(self.datasets.get(name, {}))
        if self.data_root and "data_root" not in opts:
            opts["data_root"] = self.data_root
        return opts

    def as_model_options(self) -> dict[str, Any]:
        """What model preprocessing reads from the benchmark options."""
        return {"image_size": self.image_size} if self.image_size else {}


@dataclass(frozen=True)
class Hparams:
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    epochs: int = 20
    batch_size: int = 64
    weight_decay: float = 0.0
    min_steps: int = 0
    lr_grid: tuple[float, ...] = ()
    validation_fraction: float = 0.2

    @classmethod
    def parse(cls, hparams: Mapping[str, Any] | None) -> "Hparams":
        h = dict(hparams or {})
        refuse_unknown(h, HPARAM_KEYS, "classification", "finetune key")
        opt = str(h.get("optimizer", "sgd")).lower()
        if opt not in OPTIMIZERS:
            raise ConfigError(f"classification: unknown optimizer {opt!r} (known: {', '.join(OPTIMIZERS)})")
        inf = float("inf")  # a finite number (not a bool, NaN or inf): lr > 0, momentum and weight_decay >= 0
        lr = check_number(h.get("lr", 0.01), "finetune.lr", "classification", 0, inf, open_low=True, open_high=True)
        momentum = check_number(h.get("momentum", 0.9), "finetune.momentum", "classification", 0, inf, open_high=True)
        wd = check_number(h.get("weight_decay", 0.0), "finetune.weight_decay", "classification", 0, inf, open_high=True)
        return cls(
            opt, lr, momentum,
            _positive_int(h.get("epochs", 20), "finetune.epochs", allow_none=False),
            _positive_int(h.get("batch_size", 64), "finetune.batch_size", allow_none=False),
            wd,
            _non_negative_int(h.get("min_steps", 0), "finetune.min_steps"),
            _lr_grid(h.get("lr_grid", ())),
            check_number(h.get("validation_fraction", 0.2), "finetune.validation_fraction", "classification", 0, 1,
                         open_low=True, open_high=True),
        )

    def with_lr(self, lr: float) -> "Hparams":
        """The same recipe at another learning rate."""
        return replace(self, lr=float(lr))

    def epochs_for(self, batches_per_epoch: int) -> int:
        """Whole epochs to train: ``max(epochs, ceil(min_steps / batches_per_epoch))``."""
        if self.min_steps <= 0 or batches_per_epoch <= 0:
            return self.epochs
        return max(self.epochs, -(-self.min_steps // int(batches_per_epoch)))

    def optimizer_for(self, params):
        import torch

        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay)
        if self.optimizer == "adam":
            return torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        return torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
