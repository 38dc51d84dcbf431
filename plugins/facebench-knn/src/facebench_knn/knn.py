"""Leave-one-out k-nearest-neighbour accuracy of a model's features on the target dataset."""
from __future__ import annotations

import numpy as np

from facebench.bundle import FeatureBundle
from facebench.metrics.base import Metric

DISTANCES = ("cosine", "euclidean")
_BLOCK = 1024  # rows of the distance matrix held at once (memory: _BLOCK x n floats)


def _distances(queries: np.ndarray, points: np.ndarray, sq_norms: np.ndarray | None) -> np.ndarray:
    """Cosine distance (inputs already unit-normalised) or squared euclidean distance."""
    gram = queries @ points.T
    if sq_norms is None:
        return 1.0 - gram
    q = (queries**2).sum(axis=1)
    return np.maximum(q[:, None] + sq_norms[None, :] - 2.0 * gram, 0.0)


def loo_knn_accuracy(features: np.ndarray, labels: np.ndarray, k: int = 5, distance: str = "cosine") -> float:
    """(1/n) sum_i 1[majority label of the k nearest other samples of i == y_i].

    Ties between classes go to the class of the nearest neighbour among the tied classes (so the
    result does not depend on how the labels are numbered); k is capped at n - 1.
    """
    h = np.asarray(features, np.float64)
    y = np.asarray(labels, np.int64)
    n = h.shape[0]
    k = int(min(k, n - 1))
    num_classes = int(y.max()) + 1
    sq_norms = None
    if distance == "cosine":
        norms = np.linalg.norm(h, axis=1, keepdims=True)
        h = h / np.where(norms > 0, norms, 1.0)  # a zero vector stays zero: distance 1 to everything
    else:
        sq_norms = (h**2).sum(axis=1)
    correct = 0
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        b = stop - start
        rows = np.arange(b)
        d = _distances(h[start:stop], h, sq_norms)
        d[rows, np.arange(start, stop)] = np.inf  # leave one out
        nn = np.argpartition(d, k - 1, axis=1)[:, :k]
        nd = np.take_along_axis(d, nn, axis=1)
        order = np.lexsort((nn, nd), axis=1)  # nearest first (exact distance ties: by sample index)
        nn = np.take_along_axis(nn, order, axis=1)
        votes_of = y[nn]  # (b, k), nearest first
        counts = np.zeros((b, num_classes), np.int64)
        np.add.at(counts, (np.repeat(rows, k), votes_of.ravel()), 1)
        tied = counts == counts.max(axis=1, keepdims=True)
        first_tied = np.argmax(tied[rows[:, None], votes_of], axis=1)
        predicted = votes_of[rows, first_tied]
        correct += int((predicted == y[start:stop]).sum())
    return correct / n


class KNNAccuracy(Metric):
    """Leave-one-out k-nearest-neighbour accuracy of the pre-trained features.

    For every sample i of the target's training split, its k nearest *other* samples N_k(i) vote:

        y_hat_i = argmax_c |{j in N_k(i) : y_j = c}|   (ties: the class of the nearest tied neighbour)
        KNN     = (1/n) sum_i 1[y_hat_i = y_i]

    with the cosine distance d(h_i, h_j) = 1 - h_i.h_j / (|h_i| |h_j|) (default) or the euclidean
    distance |h_i - h_j|. Higher is better: the target classes are already separated, locally, in
    the model's feature space. k is capped at n - 1.

    Source: the weighted k-NN evaluation of frozen features (Wu et al., CVPR 2018; Caron et al.,
    ICCV 2021), used as a cheap transferability proxy (e.g. Renggli et al., CVPR 2022).
    Needs: features only. min_per_class: 1 (a singleton class is simply never predicted right).
    Invariant to relabelling, sample order and feature scaling (cosine: also to per-sample scaling).
    """

    name = "knn"
    summary = "leave-one-out k-NN accuracy of the features (k=5, cosine or euclidean distance)"
    needs = frozenset({"features"})
    min_per_class = 1

    def __init__(self, k: int = 5, distance: str = "cosine") -> None:
        if int(k) != k or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if distance not in DISTANCES:
            raise ValueError(f"distance must be one of {', '.join(DISTANCES)}, got {distance!r}")
        self.k, self.distance = int(k), distance

    def compute(self, bundle: FeatureBundle) -> float:
        return loo_knn_accuracy(bundle.features, bundle.labels, self.k, self.distance)
