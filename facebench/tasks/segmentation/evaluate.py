"""Ground-truth statistics of a segmentation: mean IoU, pixel accuracy, mean class accuracy, by mmseg's IoUMetric.

For each test image, ``IoUMetric.intersect_and_union`` counts, per class, the intersection and
union of predicted and true pixels (pixels labelled ``ignore_index`` excluded); the counts are
summed over the test split and ``IoUMetric.total_area_to_metrics`` turns them into
``IoU_k = |P_k ∩ G_k| / |P_k ∪ G_k|``, ``Acc_k = |P_k ∩ G_k| / |G_k|`` and
``aAcc = Σ_k |P_k ∩ G_k| / Σ_k |G_k|``. Returned: ``miou`` = the mean of IoU_k over the classes
whose union is not empty (numpy ``nanmean``, as ``IoUMetric.compute_metrics`` does),
``pixel_acc`` = aAcc and ``macc`` = the mean of Acc_k over the classes present in the ground
truth (mmseg's ``mAcc``), all as fractions in [0, 1] and unrounded (``compute_metrics`` itself
rounds percentages to 2 decimals). :class:`IoUTotals` sums the counts image by image, so a split
is scored as it streams (:func:`evaluate_split`), never held whole.
"""
from __future__ import annotations

import warnings

import numpy as np


class IoUTotals:
    """Per-class intersection, union, prediction and label areas, summed image by image (float64)."""

    def __init__(self, num_classes: int, ignore_index: int):
        import torch

        self.num_classes, self.ignore_index = int(num_classes), int(ignore_index)
        self.totals = [torch.zeros(self.num_classes, dtype=torch.float64) for _ in range(4)]

    def add(self, pred, true) -> None:
        """One image's (or a batch's, image by image) predicted and true class maps."""
        import torch
        from mmseg.evaluation import IoUMetric

        for p, t in zip(pred, true):
            parts = IoUMetric.intersect_and_union(torch.from_numpy(np.asarray(p, np.int64)),
                                                  torch.from_numpy(np.asarray(t, np.int64)),
                                                  self.num_classes, self.ignore_index)
            for acc, part in zip(self.totals, parts):
                acc += part.to(torch.float64)

    def scores(self) -> dict[str, float]:
        from mmseg.evaluation import IoUMetric

        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            ret = IoUMetric.total_area_to_metrics(*self.totals, metrics=["mIoU"])  # torch sums, as compute_metrics passes
            miou = float(np.nanmean(np.asarray(ret["IoU"], np.float64)))
            macc = float(np.nanmean(np.asarray(ret["Acc"], np.float64)))
        return {"miou": miou, "pixel_acc": float(ret["aAcc"]), "macc": macc}


def segmentation_scores(pred: np.ndarray, true: np.ndarray, num_classes: int, ignore_index: int) -> dict[str, float]:
    """``miou``, ``pixel_acc``, ``macc`` of predicted class maps ``pred`` against ``true`` (sequences of (H, W))."""
    totals = IoUTotals(num_classes, ignore_index)
    totals.add(pred, true)
    return totals.scores()


def evaluate_split(net, split, batch_size: int, device: str = "cpu") -> dict[str, float]:
    """Predict a split batch by batch (:func:`.training.predict_batches`) and score it as it streams."""
    from .training import predict_batches

    totals = IoUTotals(split.num_classes, split.ignore_index)
    for pred, true in predict_batches(net, split, batch_size, device):
        totals.add(pred, true)
    return totals.scores()
