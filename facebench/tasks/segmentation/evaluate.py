"""Ground-truth statistics of a segmentation: mean IoU and pixel accuracy, by mmseg's IoUMetric.

For each test image, ``IoUMetric.intersect_and_union`` counts, per class, the intersection and
union of predicted and true pixels (pixels labelled ``ignore_index`` excluded); the counts are
summed over the test split and ``IoUMetric.total_area_to_metrics`` turns them into
``IoU_k = |P_k ∩ G_k| / |P_k ∪ G_k|`` and ``aAcc = Σ_k |P_k ∩ G_k| / Σ_k |G_k|``. Returned:
``miou`` = the mean of IoU_k over the classes whose union is not empty (numpy ``nanmean``, as
``IoUMetric.compute_metrics`` does) and ``pixel_acc`` = aAcc, both as fractions in [0, 1] and
unrounded (``compute_metrics`` itself rounds percentages to 2 decimals).
"""
from __future__ import annotations

import warnings

import numpy as np


def segmentation_scores(pred: np.ndarray, true: np.ndarray, num_classes: int, ignore_index: int) -> dict[str, float]:
    import torch
    from mmseg.evaluation import IoUMetric

    totals = [torch.zeros(num_classes, dtype=torch.float64) for _ in range(4)]
    for p, t in zip(pred, true):
        parts = IoUMetric.intersect_and_union(torch.from_numpy(np.asarray(p)), torch.from_numpy(np.asarray(t)),
                                              num_classes, ignore_index)
        for acc, part in zip(totals, parts):
            acc += part.to(torch.float64)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        ret = IoUMetric.total_area_to_metrics(*totals, metrics=["mIoU"])  # torch sums, as compute_metrics passes
        miou = float(np.nanmean(np.asarray(ret["IoU"], np.float64)))
    return {"miou": miou, "pixel_acc": float(ret["aAcc"])}
