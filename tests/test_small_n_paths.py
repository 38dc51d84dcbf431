"""Metrics with a fast path for fewer samples than dimensions (n < d) give the full-dimension value.

The references below are the direct formulas in the full d dimensions (brute force), written here
independently of the metrics' code.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import log_softmax

from facebench.bundle import FeatureBundle
from facebench.metrics.hscore import HScore
from facebench.metrics.pactran import pactran_gaussian


def _data(n: int, d: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    x = rng.normal(size=(n, d)) + 0.4 * np.eye(k)[y] @ rng.normal(size=(k, d))
    return x, y


def _pactran_full(x: np.ndarray, y: np.ndarray, k: int, lam: float = 1.0, s: float = 100.0) -> float:
    x = x - x.mean(axis=0)
    n, d = x.shape
    onehot = np.eye(k)[y]
    reg = lam * n

    def f(theta):
        w, b = theta[: d * k].reshape(d, k), theta[d * k:]
        logp = log_softmax(x @ w + b, axis=1)
        r = (np.exp(logp) - onehot) / n
        grad = np.concatenate([(x.T @ r + w / reg).ravel(), r.sum(axis=0)])
        return -np.sum(onehot * logp) / n + np.sum(w**2) / (2 * reg), grad

    res = minimize(f, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                   options=dict(maxiter=1000, gtol=1e-9, ftol=1e-15))
    w, b = res.x[: d * k].reshape(d, k), res.x[d * k:]
    p = np.exp(log_softmax(x @ w + b, axis=1))
    h = np.sum((x**2).T @ (p - p**2)) + d * k / reg + np.sum(p - p**2)
    return -(f(res.x)[0] + d * k / (2 * reg) * (s / d) * np.log(h * reg / (d * k) + 1e-10))


@pytest.mark.parametrize("n, d, k, seed", [(40, 120, 3, 0), (60, 200, 6, 1), (30, 90, 10, 2)])
def test_pactran_in_the_row_space_equals_the_full_fit(n, d, k, seed):
    x, y = _data(n, d, k, seed)
    # both fits stop at gtol 1e-9: the values agree to the optimiser's tolerance, not bitwise
    assert pactran_gaussian(x, y, k) == pytest.approx(_pactran_full(x, y, k), rel=1e-6)


@pytest.mark.parametrize("n, d, k, seed", [(40, 120, 3, 0), (60, 200, 6, 1), (150, 100, 4, 2)])
def test_hscore_through_the_gram_matrix_equals_the_pseudo_inverse(n, d, k, seed):
    x, y = _data(n, d, k, seed)
    xc = x - x.mean(axis=0)
    cov = xc.T @ xc / n
    means = np.stack([x[y == c].mean(axis=0) for c in range(k)]) - x.mean(axis=0)
    between = sum((y == c).mean() * np.outer(means[c], means[c]) for c in range(k))
    expected = np.trace(np.linalg.pinv(cov, rcond=d * np.finfo(float).eps) @ between)
    assert HScore().compute(FeatureBundle.from_arrays(x, y)) == pytest.approx(expected, rel=1e-9)
    if n <= d:  # degenerate (the metric's docstring): K - 1 for every model
        assert expected == pytest.approx(k - 1, rel=1e-9)
