"""Deterministic per-class subsets and splits, shared by every task (caps and train/test splits)."""
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


def stratified_split(labels: Sequence[int], test_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic per-class split: ``round(test_fraction * n_k)`` items of each class go to test.

    Returns sorted train and test index arrays. The permutation is drawn from
    ``np.random.default_rng(seed)``, so the split depends only on the labels and the seed.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        idx = idx[rng.permutation(idx.size)]
        n_test = int(round(test_fraction * idx.size))
        if idx.size >= 2:
            n_test = min(max(n_test, 1), idx.size - 1)
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
