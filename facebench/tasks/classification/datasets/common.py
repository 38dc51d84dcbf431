"""Helpers shared by the classification dataset loaders.

* :class:`ArrayImageDataset`: a map-style dataset over an in-memory uint8 image array, items
  ``(PIL.Image, int)``, with ``.classes`` and ``.targets`` (labels without decoding an image);
* :func:`facebench.subsets.stratified_split` (core): a deterministic per-class train/test split;
* :func:`labels_of`: the label of every item of a dataset, read from the attribute that holds
  them (``targets``, ``labels``, ``_labels``, ``_samples``...) instead of decoding every image;
* :func:`data_root`: where downloadable datasets live (option, ``$FACEBENCH_DATA``, default).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

DATA_ENV = "FACEBENCH_DATA"
DEFAULT_DATA_ROOT = Path("~/.cache/facebench/data")


class ArrayImageDataset:
    """Images held as a uint8 array (N, H, W) or (N, H, W, 3); items are ``(PIL.Image, label)``."""

    def __init__(self, images: np.ndarray, labels: Sequence[int], classes: Sequence[str], name: str = "") -> None:
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise TypeError(f"{name}: images must be uint8, got {images.dtype}")
        if images.ndim not in (3, 4):
            raise ValueError(f"{name}: images must be (N, H, W) or (N, H, W, 3), got {images.shape}")
        self.images = images
        self.targets = [int(t) for t in labels]
        self.classes = list(classes)
        self.name = name
        if len(self.targets) != len(images):
            raise ValueError(f"{name}: {len(images)} images but {len(self.targets)} labels")

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        from PIL import Image

        return Image.fromarray(self.images[index]), self.targets[index]

    def subset(self, indices: Sequence[int]) -> "ArrayImageDataset":
        idx = np.asarray(indices, dtype=np.int64)
        return ArrayImageDataset(self.images[idx], np.asarray(self.targets)[idx], self.classes, self.name)

    def __repr__(self) -> str:
        return f"ArrayImageDataset({self.name!r}, n={len(self)}, classes={len(self.classes)})"


def labels_of(dataset: Any) -> list[int]:
    """Every item's label, from the attribute that holds them, else by iterating (slow)."""
    for attr in ("targets", "labels", "_labels"):
        value = getattr(dataset, attr, None)
        if value is not None and not callable(value):
            return [int(v) for v in np.asarray(value).reshape(-1)]
    samples = getattr(dataset, "_samples", None) or getattr(dataset, "samples", None)
    if samples is not None:
        return [int(s[1]) for s in samples]
    indices = getattr(dataset, "indices", None)
    inner = getattr(dataset, "dataset", None)
    if indices is not None and inner is not None:  # torch.utils.data.Subset
        base = labels_of(inner)
        return [base[i] for i in indices]
    return [int(dataset[i][1]) for i in range(len(dataset))]


def classes_of(dataset: Any, labels: Sequence[int] | None = None) -> list[str]:
    """Class names of a dataset (``.classes``), else the distinct label values as strings."""
    classes = getattr(dataset, "classes", None)
    if classes is None and getattr(dataset, "dataset", None) is not None:
        classes = getattr(dataset.dataset, "classes", None)
    if classes is not None:
        return [str(c) for c in classes]
    labels = labels_of(dataset) if labels is None else labels
    return [str(c) for c in range(int(max(labels)) + 1)] if len(labels) else []


def data_root(options: Mapping[str, Any] | None = None) -> Path:
    """Root folder for downloadable datasets: ``options['data_root']``, ``$FACEBENCH_DATA``, default."""
    options = options or {}
    root = options.get("data_root") or os.environ.get(DATA_ENV) or DEFAULT_DATA_ROOT
    return Path(root).expanduser()
