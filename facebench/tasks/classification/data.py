"""Target and source splits for classification: registry lookup, per-class caps, transforms."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ...subsets import per_class_subset
from .datasets.common import classes_of, labels_of
from ...errors import ConfigError
from .options import TaskOptions

TASK = "classification"
#: what the task adds to every dataset's params (``options.data_root``): no type refuses it
CONTEXT_KEYS = ("data_root",)


def dataset_instance(name: str, ctx):
    """The classification dataset instance ``name`` of the run (ConfigError if unknown or of another task)."""
    return ctx.dataset(name, TASK)


def checked_params(name: str, ctx, opts: TaskOptions, extra: dict | None = None) -> dict[str, Any]:
    """What ``load``/``check`` get: the instance's params, then ``options.datasets.<name>`` and data_root,
    then ``extra``; checked against the type's declared parameters (name and range)."""
    return dataset_instance(name, ctx).checked_params({**opts.dataset_options(name), **(extra or {})}, CONTEXT_KEYS)


def check_dataset(name: str, ctx, opts: TaskOptions, extra: dict | None = None) -> None:
    """Check the dataset's parameters, then run its own availability check (root, files, decodability)."""
    dataset_instance(name, ctx).check(ctx, checked_params(name, ctx, opts, extra))


@dataclass
class Split:
    """Items ``indices`` of a loaded dataset split, with their labels and the class names."""

    name: str
    split: str
    dataset: Any
    indices: np.ndarray
    labels: np.ndarray
    classes: list[str]

    @property
    def num_classes(self) -> int:
        return max(len(self.classes), int(self.labels.max()) + 1 if self.labels.size else 0)

    def __len__(self) -> int:
        return int(self.indices.size)

    def torch_dataset(self, transform: Callable):
        return _Transformed(self.dataset, self.indices, self.labels, transform)


def load_split(name: str, split: str, ctx, opts: TaskOptions, per_class: int | None = None, extra: dict | None = None) -> Split:
    """Load ``split`` of dataset ``name`` and keep at most ``per_class`` items of each class."""
    spec = dataset_instance(name, ctx).spec
    if split not in spec.splits:
        raise ConfigError(f"dataset {name!r} has no {split!r} split (splits: {', '.join(spec.splits)})")
    ds = spec.load(split, ctx, **checked_params(name, ctx, opts, extra))
    labels = np.asarray(labels_of(ds), dtype=np.int64)
    if labels.size == 0:
        raise ConfigError(f"dataset {name!r}: the {split} split is empty")
    keep = per_class_subset(labels, per_class, seed=opts.subsample_seed)
    return Split(name, split, ds, keep, labels[keep], classes_of(ds, labels.tolist()))


class _Transformed:
    """torch-style map dataset: ``(transform(image), label)`` for the kept items."""

    def __init__(self, dataset, indices: np.ndarray, labels: np.ndarray, transform: Callable) -> None:
        self.dataset = dataset
        self.indices = indices
        self.labels = labels
        self.transform = transform

    def __len__(self) -> int:
        return int(self.indices.size)

    def __getitem__(self, i: int):
        image, _ = self.dataset[int(self.indices[i])]
        return self.transform(image), int(self.labels[i])
