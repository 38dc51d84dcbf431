"""Deterministic per-class subsets, shared by every task (caps on train and test splits)."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def per_class_subset(labels: Sequence[int], per_class: int | None, seed: int = 0) -> np.ndarray:
    """Indices of at most ``per_class`` items of each class (deterministic, sorted); all if None."""
    labels = np.asarray(labels)
    if per_class is None:
        return np.arange(labels.size)
    rng = np.random.default_rng(seed)
    keep = []
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        keep.append(idx[np.sort(rng.permutation(idx.size)[:per_class])])
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, np.int64)
