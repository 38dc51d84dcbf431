"""The scoring pixels: a seeded, class-balanced sample of a target's labelled pixels.

For each image ``i`` and class ``k`` at most ``per_image`` of its class-``k`` pixels are drawn
(uniformly, without replacement); of those candidates at most ``per_class`` are kept for each
class (uniformly again). Pixels carrying ``ignore_index`` are never drawn. The draw depends only
on the label maps and the seed, never on a model, so every model of a zoo is scored on the same
pixels. numpy only (no torch, no mmseg).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PixelSample:
    """Sampled pixels, sorted by (image, row, column): where they are and their class."""

    image: np.ndarray  # (n,) int64 image index
    row: np.ndarray  # (n,) int64
    col: np.ndarray  # (n,) int64
    label: np.ndarray  # (n,) int64 class index

    @property
    def n(self) -> int:
        return int(self.label.size)

    def of_image(self, i: int) -> np.ndarray:
        """Positions (indices into the sample) of image ``i``'s pixels."""
        return np.flatnonzero(self.image == i)


def sample_pixels(labels, ignore_index: int, per_class: int, per_image: int, seed: int = 0) -> PixelSample:
    """Class-balanced pixel sample of label maps ``labels`` (a sequence of (H, W) integer arrays)."""
    rng = np.random.default_rng(seed)
    candidates: dict[int, list[np.ndarray]] = {}
    for i, lab in enumerate(labels):
        flat = np.asarray(lab).reshape(-1)
        width = np.asarray(lab).shape[1]
        for k in np.unique(flat):
            if int(k) == int(ignore_index):
                continue
            where = np.flatnonzero(flat == k)
            take = where[np.sort(rng.permutation(where.size)[:per_image])]
            rows = np.stack([np.full(take.size, i), take // width, take % width], axis=1)
            candidates.setdefault(int(k), []).append(rows)
    chosen = []
    for k in sorted(candidates):
        pool = np.concatenate(candidates[k])
        keep = pool[np.sort(rng.permutation(len(pool))[:per_class])]
        chosen.append(np.concatenate([keep, np.full((len(keep), 1), k)], axis=1))
    if not chosen:
        empty = np.zeros(0, np.int64)
        return PixelSample(empty, empty, empty, empty)
    table = np.concatenate(chosen).astype(np.int64)
    table = table[np.lexsort((table[:, 2], table[:, 1], table[:, 0]))]
    return PixelSample(table[:, 0], table[:, 1], table[:, 2], table[:, 3])
