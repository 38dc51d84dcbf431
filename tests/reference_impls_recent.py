"""Slow references for the metrics after FaCe's paper, written from their papers' formulas.

Nothing here imports ``facebench`` (nor the authors' code): plain loops over samples and classes,
dense d x d matrices, ``np.linalg.inv`` / ``slogdet`` / ``eigh``, for small inputs only.

* TransRate (Huang et al., ICML 2022): coding rates by slogdet of the d x d matrix.
* Shrinkage H-score (Ibrahim et al., ICLR 2023) with the Ledoit-Wolf (2004) shrinkage written out
  from Ledoit & Wolf's Lemma 3.2-3.4 (not scikit-learn's estimator).
* SFDA (Shao et al., ECCV 2022): the Fisher directions from the generalized eigenproblem
  S_B v = w S_W(lambda) v, class scores in the Fisher space, ConfMix sample by sample.
* NCTI (Wang et al., ICCV 2023): LDA from its definition (generalized eigenvectors normalised to
  W^T S_W W = I, Gaussian posteriors with the pooled covariance; with shrinkage, both S_W and the
  total covariance shrunk, as the shrinkage LDA the authors call defines it), not scikit-learn's
  estimator.
* ETran energy score (Gholami et al., ICCV 2023): logsumexp sample by sample.
* PACTran-Gaussian (Ding et al., ECCV 2022): the MAP head by damped Newton steps on the full
  Hessian (not L-BFGS), the Hessian diagonal by loops.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import eigh

from reference_impls import class_mean, pca, remap_labels


def _scatter(rows: np.ndarray, center: np.ndarray) -> np.ndarray:
    out = np.zeros((rows.shape[1], rows.shape[1]))
    for r in rows:
        out += np.outer(r - center, r - center)
    return out


# ------------------------------------------------------------------------------------------
# TransRate
# ------------------------------------------------------------------------------------------
def coding_rate(z: np.ndarray, eps: float, reading: str = "code") -> float:
    n, d = z.shape
    a = 1.0 / (n * eps) if reading == "code" else d / (n * eps**2)
    gram = np.zeros((d, d))
    for r in z:
        gram += np.outer(r, r)
    sign, logdet = np.linalg.slogdet(np.eye(d) + a * gram)
    assert sign > 0
    return 0.5 * logdet


def transrate(x, labels, eps: float = 1e-4, reading: str = "code") -> float:
    x = np.asarray(x, np.float64)
    y, kk = remap_labels(labels)
    z = x - x.mean(axis=0)
    total = 0.0
    for k in range(kk):
        rows = np.stack([z[i] for i in range(len(y)) if y[i] == k])
        w = 1.0 / kk if reading == "code" else rows.shape[0] / len(y)
        total += w * coding_rate(rows, eps, reading)
    return coding_rate(z, eps, reading) - total


# ------------------------------------------------------------------------------------------
# Shrinkage H-score
# ------------------------------------------------------------------------------------------
def ledoit_wolf(x) -> tuple[np.ndarray, float]:
    """Ledoit & Wolf (2004): S* = (b^2/d^2) m I + (a^2/d^2) S with the norm ||A||^2 = tr(A A^T)/p."""
    x = np.asarray(x, np.float64)
    n, p = x.shape
    xc = x - x.mean(axis=0)
    s = _scatter(xc, np.zeros(p)) / n
    m = np.trace(s) / p
    d2 = np.sum((s - m * np.eye(p)) ** 2) / p
    b2_bar = sum(np.sum((np.outer(r, r) - s) ** 2) / p for r in xc) / n**2
    b2 = min(b2_bar, d2)
    shrink = b2 / d2 if d2 > 0 else 0.0
    return shrink * m * np.eye(p) + (1 - shrink) * s, shrink


def shrinkage_hscore(x, labels) -> float:
    x = np.asarray(x, np.float64)
    y, kk = remap_labels(labels)
    n, d = x.shape
    cov_a, a = ledoit_wolf(x)
    mu = x.mean(axis=0)
    cov_g = np.zeros((d, d))
    for i in range(n):
        g = class_mean(x, y, y[i]) - mu
        cov_g += np.outer(g, g) / n
    return float(np.trace(np.linalg.inv(cov_a) @ ((1 - a) * cov_g)))


# ------------------------------------------------------------------------------------------
# SFDA
# ------------------------------------------------------------------------------------------
def _shrunk(s: np.ndarray, lam: float) -> np.ndarray:
    d = s.shape[0]
    return (1 - lam) * s + lam * np.trace(s) / d * np.eye(d)


def _fisher_probs(x, y, kk, lam):
    n, d = x.shape
    priors = np.array([np.sum(y == k) / n for k in range(kk)])
    means = np.stack([class_mean(x, y, k) for k in range(kk)])
    sw = np.zeros((d, d))
    for k in range(kk):
        rows = np.stack([x[i] for i in range(n) if y[i] == k])
        sw += priors[k] * _scatter(rows, means[k]) / rows.shape[0]
    if lam is None:
        lam = max(math.exp(-5.0 * np.linalg.eigvalsh(sw)[-1]), 1e-10)
    st = _scatter(x, x.mean(axis=0)) / n
    sw_l, st_l = _shrunk(sw, lam), _shrunk(st, lam)
    _, v = eigh(st_l - sw_l, sw_l)  # Fisher directions, every one of them
    proj_means = means @ v
    probs = np.zeros((n, kk))
    for i in range(n):
        xi = x[i] @ v
        scores = np.array([xi @ proj_means[k] - 0.5 * proj_means[k] @ proj_means[k] + math.log(priors[k])
                           for k in range(kk)])
        e = np.exp(scores - scores.max())
        probs[i] = e / e.sum()
    return probs, means, lam


def sfda(x, labels) -> float:
    x = np.asarray(x, np.float64)
    y, kk = remap_labels(labels)
    n = x.shape[0]
    probs, means, lam = _fisher_probs(x, y, kk, None)
    mixed = np.zeros_like(x)
    for i in range(n):
        soft = np.exp(probs[i]) / np.exp(probs[i]).sum()
        q = soft[y[i]]
        others = sum(means[k] for k in range(kk) if k != y[i]) / (kk - 1)
        mixed[i] = q * x[i] + (1 - q) * others
    probs, _, _ = _fisher_probs(mixed, y, kk, lam)
    return float(np.mean([probs[i, y[i]] for i in range(n)]))


# ------------------------------------------------------------------------------------------
# NCTI
# ------------------------------------------------------------------------------------------
def _nuclear(a: np.ndarray) -> float:
    return float(np.sum(np.linalg.svd(a, compute_uv=False)))


def ncti_terms(x, labels, pca_dim: int = 64) -> dict:
    """seli, ncc, vc on PCA-64 features; LDA from its definition (pooled covariance, unbiased when unshrunk)."""
    y, kk = remap_labels(labels)
    z = pca(x, pca_dim)
    n, d = z.shape
    variances = np.sort(np.linalg.eigvalsh(_scatter(z, z.mean(axis=0)) / (n - 1)))[::-1]
    lam = max(math.exp(-variances[:32].sum()), 1e-10)
    priors = np.array([np.sum(y == k) / n for k in range(kk)])
    means = np.stack([class_mean(z, y, k) for k in range(kk)])
    if lam <= 1e-10:  # no shrinkage: pooled within-class covariance / (n - K)
        sw = sum(_scatter(np.stack([z[i] for i in range(n) if y[i] == k]), means[k]) for k in range(kk)) / (n - kk)
    else:  # shrinkage: sum_k pi_k shrunk(biased Sigma_k)
        sw = np.zeros((d, d))
        for k in range(kk):
            rows = np.stack([z[i] for i in range(n) if y[i] == k])
            sw += priors[k] * _shrunk(_scatter(rows, means[k]) / rows.shape[0], lam)
    st = _scatter(z, z.mean(axis=0)) / n
    if lam > 1e-10:
        st = _shrunk(st, lam)  # the shrinkage LDA shrinks the total covariance too (scikit-learn's "eigen" solver)
    w_vals, w = eigh(st - sw, sw)  # W^T S_W W = I
    w = w[:, np.argsort(w_vals)[::-1][: kk - 1]]
    g = (z - z.mean(axis=0)) @ w
    inv = np.linalg.inv(sw)
    probs = np.zeros((n, kk))
    for i in range(n):
        s = np.array([z[i] @ inv @ means[k] - 0.5 * means[k] @ inv @ means[k] + math.log(priors[k]) for k in range(kk)])
        e = np.exp(s - s.max())
        probs[i] = e / e.sum()
    seli = _nuclear(g - g.mean(axis=0))
    ncc = float(np.mean([probs[i, y[i]] for i in range(n)]))
    vc = math.log(sum(_nuclear(np.stack([probs[i] for i in range(n) if y[i] == k])) for k in range(kk)))
    return {"seli": seli, "ncc": ncc, "vc": vc}


def ncti_combine(values: dict) -> dict:
    models = list(values)
    out = {m: 0.0 for m in models}
    for term, sign in (("seli", 1.0), ("ncc", 1.0), ("vc", -1.0)):
        lo = min(values[m][term] for m in models)
        hi = max(values[m][term] for m in models)
        for m in models:
            out[m] += sign * (values[m][term] - lo) / (hi - lo)
    return out


# ------------------------------------------------------------------------------------------
# ETran energy score
# ------------------------------------------------------------------------------------------
def energy_score(x, percent: float = 0.5, tail: str = "bottom", temperature: float = 1.0) -> float:
    x = np.asarray(x, np.float64)
    scores = []
    for row in x:
        top = max(row / temperature)
        scores.append(temperature * (top + math.log(sum(math.exp(v / temperature - top) for v in row))))
    scores.sort()
    count = max(1, int(percent * len(scores) / 100.0 + 1e-9))
    chosen = scores[:count] if tail == "bottom" else scores[-count:]
    return sum(chosen) / len(chosen)


# ------------------------------------------------------------------------------------------
# PACTran-Gaussian
# ------------------------------------------------------------------------------------------
def pactran_gaussian(x, labels, lam: float = 1.0, prior_scale: float = 100.0, steps: int = 200) -> float:
    """-PAC_Gauss with the MAP head by Newton steps on the full (d+1)K Hessian (tiny inputs only)."""
    x = np.asarray(x, np.float64)
    y, kk = remap_labels(labels)
    x = x - x.mean(axis=0)
    n, d = x.shape
    reg = lam * n
    xb = np.hstack([x, np.ones((n, 1))])  # bias as a last input column
    theta = np.zeros((d + 1, kk))

    def probs(t):
        logits = xb @ t
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    penal = np.ones((d + 1, 1)); penal[d] = 0.0  # the prior is on W only
    for _ in range(steps):
        p = probs(theta)
        grad = np.zeros((d + 1, kk))
        hess = np.zeros(((d + 1) * kk, (d + 1) * kk))
        for i in range(n):
            r = p[i] - np.eye(kk)[y[i]]
            grad += np.outer(xb[i], r) / n
            hess += np.kron(np.outer(xb[i], xb[i]), np.diag(p[i]) - np.outer(p[i], p[i])) / n
        grad += penal * theta / reg
        hess += np.kron(np.diag(penal[:, 0]), np.eye(kk)) / reg
        step = np.linalg.lstsq(hess, grad.ravel(), rcond=1e-12)[0]
        theta -= step.reshape(d + 1, kk)
        if np.abs(step).max() < 1e-13:
            break
    p = probs(theta)
    loss = -sum(math.log(p[i, y[i]]) for i in range(n)) / n + 0.5 * np.sum(theta[:d] ** 2) / reg
    h = 0.0
    for j in range(d + 1):
        for k in range(kk):
            h += sum(xb[i, j] ** 2 * p[i, k] * (1 - p[i, k]) for i in range(n)) + (1.0 / reg if j < d else 0.0)
    inv_sigma2 = h * reg / (d * kk) + 1e-10
    return -(loss + 0.5 * d * kk / reg * (prior_scale / d) * math.log(inv_sigma2))


# ------------------------------------------------------------------------------------------
# PED: potential energy descent
# ------------------------------------------------------------------------------------------
def ped_moved(x, labels, time_step: float = 0.1, nsigma: float = 0.6, constant: float = 1.0,
              exit_ratio: float = 0.5, max_steps: int = 6, eps: float = 1e-3) -> np.ndarray:
    """The features after PED's class-repelling steps, pair by pair and sample by sample."""
    x = np.asarray(x, np.float64)
    y, kk = remap_labels(labels)
    n, d = x.shape
    m = x.mean(axis=0)
    s = np.maximum(np.sqrt(((x - m) ** 2).mean(axis=0)), eps)
    z = (x - m) / s
    first = None
    for _ in range(max_steps):
        means = [class_mean(z, y, k) for k in range(kk)]
        radius = []
        for k in range(kk):
            rows = np.stack([z[i] for i in range(n) if y[i] == k])
            radius.append(math.sqrt(float(((rows - means[k]) ** 2).mean(axis=0).sum())))
        shift = [np.zeros(d) for _ in range(kk)]
        for k in range(kk):
            for l in range(kk):
                if l == k:
                    continue
                dist = float(np.linalg.norm(means[k] - means[l]))
                overlap = max(nsigma * (radius[k] + radius[l]) - dist, 0.0)
                if overlap > 0:
                    shift[k] += (means[k] - means[l]) / dist * min(0.5 * time_step**2 * constant * overlap, overlap)
        change = sum(float(np.abs(v).sum()) for v in shift)
        if first is None:
            first = change
        if not (first > 0 and change / first > exit_ratio):
            break
        z = np.stack([z[i] + shift[y[i]] for i in range(n)])
    return z * s + m
