"""Shared float64 linear algebra for metrics: class statistics, PCA, Gaussian overlaps."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class ClassStats:
    counts: np.ndarray  # (K,)
    means: np.ndarray  # (K, d) class means
    global_mean: np.ndarray  # (d,) mean of all samples
    centered: np.ndarray  # (n, d) h_i - mean of its class


def class_stats(features: np.ndarray, labels: np.ndarray, num_classes: int) -> ClassStats:
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    sums = np.zeros((num_classes, features.shape[1]))
    np.add.at(sums, labels, features)
    means = sums / counts[:, None]
    return ClassStats(counts, means, features.mean(axis=0), features - means[labels])


def class_variances(stats: ClassStats, labels: np.ndarray) -> np.ndarray:
    """Biased per-class, per-dimension variances (K, d)."""
    sq = np.zeros_like(stats.means)
    np.add.at(sq, labels, stats.centered**2)
    return sq / stats.counts[:, None]


def pca_project(features: np.ndarray, dim: int) -> np.ndarray:
    """Project centred features on their top ``dim`` principal components (float64, deterministic).

    Uses the d x d scatter's eigendecomposition when n >= d, else the n x n Gram matrix's.
    Component signs do not matter to the metrics that use this (distances are sign-invariant).
    """
    x = features - features.mean(axis=0)
    n, d = x.shape
    k = min(dim, d, n)
    if d <= n:
        w, v = np.linalg.eigh(x.T @ x)
        return x @ v[:, ::-1][:, :k]
    w, u = np.linalg.eigh(x @ x.T)
    order = np.argsort(w)[::-1][:k]
    return u[:, order] * np.sqrt(np.clip(w[order], 0.0, None))


def bhattacharyya_diag(means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """Bhattacharyya distances D (K x K) between Gaussians with diagonal covariances.

    D_ij = 1/8 (mu_i - mu_j)^T S^-1 (mu_i - mu_j) + 1/2 ln(|S| / sqrt(|S_i| |S_j|)),  S = (S_i + S_j)/2.
    """
    delta = means[:, None, :] - means[None, :, :]
    avg = 0.5 * (variances[:, None, :] + variances[None, :, :])
    logdet = np.log(variances).sum(axis=1)
    mahal = np.einsum("ijd,ijd->ij", delta**2, 1.0 / avg)
    d = mahal / 8.0 + 0.5 * (np.log(avg).sum(axis=2) - 0.5 * (logdet[:, None] + logdet[None, :]))
    np.fill_diagonal(d, 0.0)
    return d


def floor_variances(variances: np.ndarray) -> np.ndarray:
    """Keep diagonal variances strictly positive: floor at 1e-12 x the mean variance (documented)."""
    scale = float(variances.mean()) if variances.size else 1.0
    return np.maximum(variances, 1e-12 * max(scale, np.finfo(np.float64).tiny))
