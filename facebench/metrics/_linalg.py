"""Shared float64 linear algebra for metrics: class statistics, PCA, Gaussian overlaps."""
from __future__ import annotations

import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, TypeVar

import numpy as np
from scipy import sparse

from ._backend import eigh, eigvalsh, gram, matmul

T = TypeVar("T")
_MEMO: "weakref.WeakKeyDictionary[Any, dict[Hashable, Any]]" = weakref.WeakKeyDictionary()


def memo_per_bundle(bundle: Any, key: Hashable, compute: Callable[[], T]) -> T:
    """Compute ``key`` once per bundle object (e.g. C shared by ``face``, ``face-vc`` and
    ``face-literal``; the full-covariance distances shared by the two literal metrics).
    Entries live exactly as long as the bundle."""
    cache = _MEMO.setdefault(bundle, {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def parallel_map(fn: Callable[[Any], T], items: Iterable[Any], workers: int | None = None) -> list[T]:
    """``[fn(x) for x in items]`` on ``workers`` threads (default: the available cores), each with
    one BLAS thread.

    For many small factorisations, threaded BLAS is slower than one thread (the threads wait on
    each other; timing in ``docs/design-notes.md``, "metrics/_linalg.py"); numpy releases the GIL
    inside BLAS, so independent items on separate single-threaded workers use every core instead.
    Each item is computed exactly as it would be alone, so the results do not depend on
    ``workers``. Results come back in the order of ``items``.
    """
    from threadpoolctl import threadpool_limits

    items = list(items)
    workers = min(workers or available_cores(), len(items)) or 1
    with threadpool_limits(limits=1, user_api="blas"):
        if workers == 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(fn, items))


def class_sums(values: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-class sums of the rows of ``values`` (K x d), via a sparse indicator product."""
    n = labels.shape[0]
    indicator = sparse.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(num_classes, n))
    return np.asarray(indicator @ values)

EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class ClassStats:
    counts: np.ndarray  # (K,)
    means: np.ndarray  # (K, d) class means
    global_mean: np.ndarray  # (d,) mean of all samples
    centered: np.ndarray  # (n, d) h_i - mean of its class


def class_stats(features: np.ndarray, labels: np.ndarray, num_classes: int) -> ClassStats:
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    means = class_sums(features, labels, num_classes) / counts[:, None]
    return ClassStats(counts, means, features.mean(axis=0), features - means[labels])


def class_variances(stats: ClassStats, labels: np.ndarray) -> np.ndarray:
    """Biased per-class, per-dimension variances (K, d)."""
    return class_sums(stats.centered**2, labels, stats.means.shape[0]) / stats.counts[:, None]


def _pca_basis(features: np.ndarray, dim: int | None, variance: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The centred scatter's eigenvalues (descending, all of them) and the top principal coordinates
    (n x k; k = ``dim``, or the fewest holding ``variance`` of the variance): the d x d scatter's
    eigendecomposition when n >= d, else the n x n Gram matrix's."""
    x = features - features.mean(axis=0)
    n, d = x.shape
    if d <= n:
        w, v = eigh(gram(x))
        w = np.clip(w[::-1], 0.0, None)
        k = _pca_dim(w, dim, variance)
        return w, matmul(x, v[:, ::-1][:, :k])
    w, u = eigh(gram(x.T))
    order = np.argsort(w)[::-1]
    w = np.clip(w[order], 0.0, None)
    k = _pca_dim(w, dim, variance)
    return w, u[:, order[:k]] * np.sqrt(w[:k])


def _pca_dim(eigenvalues: np.ndarray, dim: int | None, variance: float | None) -> int:
    if variance is not None:
        return pca_variance_dim(eigenvalues, variance)
    return eigenvalues.size if dim is None else min(dim, eigenvalues.size)


def pca_project(features: np.ndarray, dim: int) -> np.ndarray:
    """Project centred features on their top ``dim`` principal components (float64, deterministic).

    Uses the d x d scatter's eigendecomposition when n >= d, else the n x n Gram matrix's.
    Component signs do not matter to the metrics that use this (distances are sign-invariant).
    """
    return _pca_basis(features, dim)[1]


def pca_spectrum_project(features: np.ndarray, dim: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(eigenvalues of the centred scatter X^T X, descending; the top ``dim`` principal coordinates).

    The variances are the eigenvalues / (n - 1) (what scikit-learn's ``explained_variance_`` holds).
    """
    return _pca_basis(features, dim)


def pca_project_variance(features: np.ndarray, variance: float) -> np.ndarray:
    """Principal coordinates on the fewest components holding ``variance`` (e.g. 0.8) of the variance."""
    return _pca_basis(features, None, variance)[1]


def pca_variance_dim(eigenvalues: np.ndarray, fraction: float) -> int:
    """Fewest leading components whose variance is at least ``fraction`` of the total (scikit-learn's
    rule for ``PCA(n_components=fraction)``)."""
    ratio = np.cumsum(eigenvalues) / max(float(eigenvalues.sum()), np.finfo(np.float64).tiny)
    return int(min(np.searchsorted(ratio, fraction, side="right") + 1, eigenvalues.size))


def logdet_identity_plus_gram(z: np.ndarray, scale: float) -> float:
    """ln det(I_d + scale Z^T Z) for Z (m x d), via the smaller of Z^T Z and Z Z^T (same non-zero
    eigenvalues): sum_i ln(1 + scale s_i)."""
    g = gram(z) if z.shape[0] >= z.shape[1] else gram(z.T)
    s = np.clip(eigvalsh(g), 0.0, None)
    return float(np.sum(np.log1p(scale * s)))


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
