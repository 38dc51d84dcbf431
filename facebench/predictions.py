"""Per-sample test predictions of one fine-tuning run, kept so ground-truth statistics can be recomputed.

A fine-tuning job evaluates the fine-tuned model on the target's test split; its predicted and
true labels (one pair per test sample, in the test split's fixed order) are all that is needed
to recompute its accuracy on any resample of the test set (:mod:`facebench.evaluate.reliability`,
:mod:`facebench.evaluate.significance`) or any new per-sample statistic, without fine-tuning again.

File format: a compressed ``.npz`` with int64 arrays ``predicted`` and ``true``, written
atomically (temporary file + ``os.replace``) with a SHA-256 sidecar (:mod:`facebench.checksum`);
a file whose bytes do not match its sidecar, or that numpy cannot read, is treated as absent.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import replacing
from .checksum import sidecar_matches, write_sidecar


@dataclass(frozen=True)
class TestPredictions:
    """Predicted and true class of every test sample (same order as the test split)."""

    __test__ = False  # not a pytest test class

    predicted: np.ndarray
    true: np.ndarray

    def __post_init__(self) -> None:
        pred = np.asarray(self.predicted).astype(np.int64, copy=False).ravel()
        true = np.asarray(self.true).astype(np.int64, copy=False).ravel()
        if pred.shape != true.shape:
            raise ValueError(f"{pred.size} predicted labels for {true.size} true labels")
        object.__setattr__(self, "predicted", pred)
        object.__setattr__(self, "true", true)

    @property
    def n(self) -> int:
        return int(self.true.size)

    @property
    def correct(self) -> np.ndarray:
        """Per-sample correctness in {0., 1.} (float64): its mean is the accuracy."""
        return (self.predicted == self.true).astype(np.float64)


def save_predictions(path: str | os.PathLike[str], preds: TestPredictions) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path, ".tmp.npz") as tmp:
        np.savez_compressed(tmp, predicted=preds.predicted, true=preds.true)
    write_sidecar(path)
    return path


def load_predictions(path: str | os.PathLike[str]) -> TestPredictions | None:
    """The stored predictions, or None if the file is missing, corrupt or fails its checksum."""
    if not sidecar_matches(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            return TestPredictions(npz["predicted"], npz["true"])
    except (OSError, ValueError, KeyError):
        return None
