"""LogME: log maximum evidence (You, Liu, Wang, Long; ICML 2021).

For each class k, a Bayesian linear regression of the one-hot target y = 1[y_i = k] on the
features F (n x D), with prior w ~ N(0, alpha^-1 I) and noise N(0, beta^-1), has log evidence
    L(alpha, beta) = D/2 ln alpha + n/2 ln beta - n/2 ln 2 pi - beta/2 ||F m - y||^2
                     - alpha/2 ||m||^2 - 1/2 ln |alpha I + beta F^T F|,
    m = beta (alpha I + beta F^T F)^-1 F^T y.
alpha, beta are maximised by MacKay's fixed point (the paper's Algorithm 1):
    gamma = sum_i beta s_i / (alpha + beta s_i),  alpha = gamma / ||m||^2,  beta = (n - gamma) / ||F m - y||^2,
with s_i the eigenvalues of F^T F, iterated until alpha/beta changes by less than ``tol``
(relative; 1e-10 by default, where the reference code stops at 1e-2 after at most 11 steps).
LogME = (1/K) sum_k L_k(alpha*, beta*) / n. Everything is done in the eigenbasis of F^T F,
vectorised over classes; the D - rank(F) zero eigenvalues contribute ln alpha each to ln|.|.
"""
from __future__ import annotations

import numpy as np

from ..bundle import FeatureBundle
from ._backend import eigh, gram, matmul
from ._linalg import EPS
from .base import Metric


def log_evidence(features: np.ndarray, targets: np.ndarray, *, tol: float = 1e-10, max_iter: int = 10_000) -> np.ndarray:
    """Maximised log evidence / n for each column of ``targets`` (n x K)."""
    n, dim = features.shape
    if n >= dim:
        s, v = eigh(gram(features))
        s = np.clip(s, 0.0, None)
        proj = v.T @ matmul(features.T, targets)  # V^T F^T y, D x K
    else:
        u, sv, _ = np.linalg.svd(features, full_matrices=False)
        s = sv**2
        proj = sv[:, None] * (u.T @ targets)
    keep = s > s.max() * max(n, dim) * EPS
    s, proj = s[keep], proj[keep]
    r = s.size
    # ||y - F m||^2 = ||y_perp||^2 + sum_i (proj_i / sqrt(s_i) - sqrt(s_i) c_i)^2, y_perp outside range(F)
    coef = proj / np.sqrt(s)[:, None]  # U^T y
    y_perp = np.clip((targets**2).sum(axis=0) - (coef**2).sum(axis=0), 0.0, None)
    k = targets.shape[1]
    alpha = np.ones(k)
    beta = np.ones(k)
    for _ in range(max_iter):
        c = beta * proj / (alpha + beta * s[:, None])  # coordinates of m in the eigenbasis
        gamma = np.sum(beta * s[:, None] / (alpha + beta * s[:, None]), axis=0)
        m2 = np.maximum((c**2).sum(axis=0), np.finfo(np.float64).tiny)
        res = np.maximum(y_perp + ((coef - np.sqrt(s)[:, None] * c) ** 2).sum(axis=0), np.finfo(np.float64).tiny)
        new_alpha = gamma / m2
        new_beta = np.maximum(n - gamma, EPS) / res
        done = np.abs(new_alpha / new_beta - alpha / beta) <= tol * (alpha / beta)
        alpha, beta = new_alpha, new_beta
        if done.all():
            break
    c = beta * proj / (alpha + beta * s[:, None])
    m2 = (c**2).sum(axis=0)
    res = y_perp + ((coef - np.sqrt(s)[:, None] * c) ** 2).sum(axis=0)
    logdet = np.sum(np.log(alpha + beta * s[:, None]), axis=0) + (dim - r) * np.log(alpha)
    evidence = (
        dim / 2 * np.log(alpha)
        + n / 2 * np.log(beta)
        - n / 2 * np.log(2 * np.pi)
        - beta / 2 * res
        - alpha / 2 * m2
        - logdet / 2
    )
    return evidence / n


class LogME(Metric):
    """LogME = mean over classes of the maximised log evidence / n (You et al., ICML 2021)."""

    name = "logme"
    summary = "LogME: maximum log evidence of a Bayesian linear model on the features (You et al. 2021)"
    source = "You et al., LogME: Practical Assessment of Pre-trained Models for Transfer Learning, ICML 2021, Alg. 1"
    reference_code = "thuml/LogME LogME.py (LogME._fit_fixed_point)"
    departures = (
        "ln|alpha I + beta F^T F| includes the (D - r) ln(alpha) of the zero eigenvalues when n < D (r = rank F); "
        "the reference sums only the min(n, D) singular values",
        "fixed point iterated to a relative change of alpha/beta below tol (1e-10, at most max_iter steps); the "
        "reference stops at 1e-3 or after 11 steps",
        "no 1e-5 added to the denominators of alpha and beta; the evidence is evaluated at the final (alpha, beta) "
        "with the m they determine",
    )

    def __init__(self, tol: float = 1e-10, max_iter: int = 10_000) -> None:
        self.tol, self.max_iter = float(tol), int(max_iter)

    def compute(self, bundle: FeatureBundle) -> float:
        onehot = np.eye(bundle.num_classes)[bundle.labels]
        return float(np.mean(log_evidence(bundle.features, onehot, tol=self.tol, max_iter=self.max_iter)))
