"""On-disk cache of fine-tuning test predictions, one file per fine-tuning job key.

``<cache_dir>/predictions/<finetune job key>.npz`` (format: :mod:`facebench.predictions`); the
store's ``predictions`` table records path and key per benchmark, target, model and seed.
"""
from __future__ import annotations

from pathlib import Path

from ..predictions import TestPredictions, load_predictions, save_predictions


class PredictionCache:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root) / "predictions"

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npz"

    def save(self, key: str, preds: TestPredictions) -> Path:
        return save_predictions(self.path(key), preds)

    def load(self, key: str) -> TestPredictions | None:
        return load_predictions(self.path(key))
