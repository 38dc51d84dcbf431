"""Slow, obviously-correct reference implementations of the metrics, written from the papers.

Nothing here imports ``facebench``: every formula is re-derived from its paper with plain loops
over classes, over ordered class pairs (i, j) and over samples, dense d x d matrices and
``np.linalg.inv`` / ``slogdet`` / ``pinv``. They are meant for small inputs (d <= ~100) only.

* FaCe (Ding et al., arXiv:2310.05754): variance collapse C (Eq. 2-3), class fairness F (Eq. 4-6),
  FaCe S = minmax(C) + minmax(F) over a zoo (Eq. 1); NC2(A) of its appendix A.2.
* LEEP (Nguyen et al., ICML 2020), NCE (Tran et al., ICCV 2019; hard argmax source labels),
  LogME (You et al., ICML 2021; MacKay fixed point with a dense solve per class),
  H-score (Bao et al., ICIP 2019; biased covariances, dense pseudo-inverse),
  GBC (Pandy et al., CVPR 2022; PCA + diagonal / spherical Gaussians).
"""
from __future__ import annotations

import math

import numpy as np


# ------------------------------------------------------------------------------------------
# Class statistics, the slow way
# ------------------------------------------------------------------------------------------
def remap_labels(labels) -> tuple[np.ndarray, int]:
    """Labels -> 0..K-1 (sorted order of the original values) and K."""
    labels = np.asarray(labels)
    values = sorted(set(labels.tolist()))
    index = {v: k for k, v in enumerate(values)}
    return np.array([index[v] for v in labels.tolist()], dtype=np.int64), len(values)


def class_members(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    return np.stack([x[i] for i in range(x.shape[0]) if y[i] == k])


def class_mean(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    rows = class_members(x, y, k)
    total = np.zeros(x.shape[1])
    for r in rows:
        total += r
    return total / rows.shape[0]


def class_cov_biased(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Sigma_k = (1/n_k) sum_{y_i = k} (h_i - mu_k)(h_i - mu_k)^T   (FaCe Eq. 4)."""
    rows = class_members(x, y, k)
    diff = rows - class_mean(x, y, k)  # n_k x d; sum of outer products = diff^T diff
    return diff.T @ diff / rows.shape[0]


# ------------------------------------------------------------------------------------------
# FaCe: variance collapse (Eq. 2-3)
# ------------------------------------------------------------------------------------------
def within_between(x, labels) -> tuple[np.ndarray, np.ndarray, int]:
    """Sigma_W and Sigma_B of Eq. (3), dense d x d."""
    x = np.asarray(x, np.float64)
    y, kk = remap_labels(labels)
    d = x.shape[1]
    h_g = x.mean(axis=0)
    sw = np.zeros((d, d))
    sb = np.zeros((d, d))
    for k in range(kk):
        sw += class_cov_biased(x, y, k)
        mu = class_mean(x, y, k)
        sb += np.outer(mu - h_g, mu - h_g)
    return sw / kk, sb / kk, kk


def variance_collapse(x, labels, rank: int | None = None, rtol: float = 1e-10) -> float:
    """C = -(1/K) tr(Sigma_W Sigma_B^+) with the pseudo-inverse taken in the span of Sigma_B.

    ``rank``: the rank of Sigma_B when the caller knows it (for instance K - 1 for balanced
    classes with generic means, where the last eigenvalue is rounding noise); otherwise the
    eigenvalues above ``rtol`` x the largest are kept.
    """
    sw, sb, kk = within_between(x, labels)
    w, v = np.linalg.eigh(sb)
    order = np.argsort(w)[::-1]
    w, v = w[order], v[:, order]
    r = int(np.sum(w > rtol * w[0])) if rank is None else rank
    sb_pinv = np.zeros_like(sb)
    for a in range(r):
        sb_pinv += np.outer(v[:, a], v[:, a]) / w[a]
    return -float(np.trace(sw @ sb_pinv)) / kk


def variance_collapse_dense_pinv(x, labels, rcond: float = 1e-10) -> float:
    """Same formula with ``np.linalg.pinv`` of the dense Sigma_B (well-separated data only)."""
    sw, sb, kk = within_between(x, labels)
    return -float(np.trace(sw @ np.linalg.pinv(sb, rcond=rcond, hermitian=True))) / kk


# ------------------------------------------------------------------------------------------
# FaCe: class fairness (Eq. 4-6)
# ------------------------------------------------------------------------------------------
def bhattacharyya_gauss(mu_i, cov_i, mu_j, cov_j) -> float:
    """D = 1/8 dmu^T S^-1 dmu + 1/2 ln(|S| / sqrt(|S_i||S_j|)), S = (S_i + S_j)/2  (Eq. 5)."""
    s = 0.5 * (cov_i + cov_j)
    dmu = mu_i - mu_j
    sign_s, logdet_s = np.linalg.slogdet(s)
    sign_i, logdet_i = np.linalg.slogdet(cov_i)
    sign_j, logdet_j = np.linalg.slogdet(cov_j)
    assert sign_s > 0 and sign_i > 0 and sign_j > 0, "covariances must be positive definite"
    return float(dmu @ np.linalg.inv(s) @ dmu) / 8.0 + 0.5 * (logdet_s - 0.5 * (logdet_i + logdet_j))


def entropy_fairness(b: np.ndarray, t: float, row: str = "others") -> float:
    """F = -(1/K) sum_i sum_j P_ij ln P_ij, P_ij = exp(B_ij/t) / sum_j' exp(B_ij'/t)  (Eq. 6).

    row="others": j and j' run over the classes other than i; row="all": over all K classes.
    """
    kk = b.shape[0]
    total = 0.0
    for i in range(kk):
        cols = [j for j in range(kk) if row == "all" or j != i]
        logits = [b[i, j] / t for j in cols]
        top = max(logits)
        z = sum(math.exp(l - top) for l in logits)
        for l in logits:
            p = math.exp(l - top) / z
            if p > 0:
                total += p * math.log(p)
    return -total / kk


def gaussians_full(x, labels, ridge: float = 0.0):
    """Class means and biased covariances (Eq. 4) + ridge * tr(Sigma_k)/d * I."""
    x = np.asarray(x, np.float64)
    y, kk = remap_labels(labels)
    d = x.shape[1]
    means, covs = [], []
    for k in range(kk):
        cov = class_cov_biased(x, y, k)
        lam = ridge * np.trace(cov) / d
        means.append(class_mean(x, y, k))
        covs.append(cov + lam * np.eye(d))
    return means, covs


def overlap_matrix(means, covs) -> np.ndarray:
    """B_ij = exp(-D_ij) over all ordered pairs, B_ii = 1."""
    kk = len(means)
    b = np.ones((kk, kk))
    for i in range(kk):
        for j in range(kk):
            if i != j:
                b[i, j] = math.exp(-bhattacharyya_gauss(means[i], covs[i], means[j], covs[j]))
    return b


def fairness_full(x, labels, t: float = 0.05, ridge: float = 0.0, row: str = "others") -> float:
    """F of Eq. (4)-(6) with full covariances on the given features (ridge 0: unregularised)."""
    means, covs = gaussians_full(x, labels, ridge)
    return entropy_fairness(overlap_matrix(means, covs), t, row)


def pca(x, dim: int) -> np.ndarray:
    """Scores of the centred features on their top ``dim`` principal axes (via SVD)."""
    x = np.asarray(x, np.float64)
    xc = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    k = min(dim, x.shape[0], x.shape[1])
    return xc @ vt[:k].T


def diag_gaussians(z, labels, spherical: bool = False, floor_rel: float = 1e-12):
    """Class means and biased per-dimension variances (floored at floor_rel x their mean)."""
    y, kk = remap_labels(labels)
    means, variances = [], []
    for k in range(kk):
        rows = class_members(z, y, k)
        mu = class_mean(z, y, k)
        var = np.array([np.mean((rows[:, c] - mu[c]) ** 2) for c in range(z.shape[1])])
        if spherical:
            var = np.full_like(var, var.mean())
        means.append(mu)
        variances.append(var)
    floor = floor_rel * float(np.mean(variances))
    variances = [np.maximum(v, floor) for v in variances]
    return means, variances


def bhattacharyya_diag(mu_i, var_i, mu_j, var_j) -> float:
    total = 0.0
    for c in range(len(mu_i)):
        s = 0.5 * (var_i[c] + var_j[c])
        total += (mu_i[c] - mu_j[c]) ** 2 / s / 8.0 + 0.5 * (math.log(s) - 0.5 * (math.log(var_i[c]) + math.log(var_j[c])))
    return total


def diag_overlap_matrix(means, variances) -> np.ndarray:
    kk = len(means)
    b = np.ones((kk, kk))
    for i in range(kk):
        for j in range(kk):
            if i != j:
                b[i, j] = math.exp(-bhattacharyya_diag(means[i], variances[i], means[j], variances[j]))
    return b


def fairness_pca_diag(x, labels, t: float = 0.05, pca_dim: int = 64, row: str = "others") -> float:
    """F with class Gaussians fitted after PCA to ``pca_dim`` dims, diagonal covariances."""
    means, variances = diag_gaussians(pca(x, pca_dim), labels)
    return entropy_fairness(diag_overlap_matrix(means, variances), t, row)


def fairness_pca_full(x, labels, t: float = 0.05, pca_dim: int = 64, ridge: float = 1e-6, row: str = "others") -> float:
    """F with full-covariance class Gaussians after PCA (ridge-scaled like the literal variant)."""
    return fairness_full(pca(x, pca_dim), labels, t=t, ridge=ridge, row=row)


def face_combine(values: dict) -> dict:
    """Eq. (1): S_m = (C_m - C_min)/(C_max - C_min) + (F_m - F_min)/(F_max - F_min)."""
    cs = [values[m]["C"] for m in values]
    fs = [values[m]["F"] for m in values]
    return {
        m: (values[m]["C"] - min(cs)) / (max(cs) - min(cs)) + (values[m]["F"] - min(fs)) / (max(fs) - min(fs))
        for m in values
    }


# ------------------------------------------------------------------------------------------
# NC2(A) (FaCe appendix A.2)
# ------------------------------------------------------------------------------------------
def nc2(x, labels) -> float:
    """NC2(A) = || A A^T / ||A A^T||_F - (I - 11^T/K)/sqrt(K-1) ||_F, A = class means - h_G."""
    x = np.asarray(x, np.float64)
    y, kk = remap_labels(labels)
    h_g = x.mean(axis=0)
    a = np.stack([class_mean(x, y, k) - h_g for k in range(kk)])
    gram = np.zeros((kk, kk))
    for i in range(kk):
        for j in range(kk):
            gram[i, j] = float(a[i] @ a[j])
    fro = math.sqrt(sum(gram[i, j] ** 2 for i in range(kk) for j in range(kk)))
    total = 0.0
    for i in range(kk):
        for j in range(kk):
            etf = ((1.0 if i == j else 0.0) - 1.0 / kk) / math.sqrt(kk - 1)
            total += (gram[i, j] / fro - etf) ** 2
    return math.sqrt(total)


# ------------------------------------------------------------------------------------------
# LEEP, NCE
# ------------------------------------------------------------------------------------------
def leep(probs, labels) -> float:
    probs = np.asarray(probs, np.float64)
    y, kk = remap_labels(labels)
    n, zz = probs.shape
    joint = [[0.0] * zz for _ in range(kk)]
    for i in range(n):
        for z in range(zz):
            joint[y[i]][z] += probs[i, z] / n
    marg = [sum(joint[k][z] for k in range(kk)) for z in range(zz)]
    total = 0.0
    for i in range(n):
        eep = sum(joint[y[i]][z] / marg[z] * probs[i, z] for z in range(zz) if marg[z] > 0)
        total += math.log(eep)
    return total / n


def nce(probs, labels) -> float:
    """-H(Y|Z) with Z the argmax source label."""
    probs = np.asarray(probs, np.float64)
    y, kk = remap_labels(labels)
    n = probs.shape[0]
    z = [int(np.argmax(probs[i])) for i in range(n)]
    counts: dict = {}
    zcounts: dict = {}
    for i in range(n):
        counts[(int(y[i]), z[i])] = counts.get((int(y[i]), z[i]), 0) + 1
        zcounts[z[i]] = zcounts.get(z[i], 0) + 1
    return sum(c / n * math.log(c / zcounts[zz]) for (_, zz), c in counts.items())


# ------------------------------------------------------------------------------------------
# LogME
# ------------------------------------------------------------------------------------------
def logme_class(f: np.ndarray, y: np.ndarray, iters: int = 20000, tol: float = 1e-14) -> float:
    """Maximum log evidence / n for one target column (MacKay fixed point, dense solves)."""
    n, dim = f.shape
    ftf = f.T @ f
    fty = f.T @ y
    eye = np.eye(dim)
    alpha, beta = 1.0, 1.0
    for _ in range(iters):
        a = alpha * eye + beta * ftf
        a_inv = np.linalg.inv(a)
        m = beta * a_inv @ fty
        gamma = dim - alpha * np.trace(a_inv)
        new_alpha = gamma / float(m @ m)
        new_beta = (n - gamma) / float(np.sum((f @ m - y) ** 2))
        done = abs(new_alpha / new_beta - alpha / beta) <= tol * alpha / beta
        alpha, beta = new_alpha, new_beta
        if done:
            break
    a = alpha * eye + beta * ftf
    m = beta * np.linalg.solve(a, fty)
    _, logdet = np.linalg.slogdet(a)
    ev = (
        dim / 2 * math.log(alpha)
        + n / 2 * math.log(beta)
        - n / 2 * math.log(2 * math.pi)
        - beta / 2 * float(np.sum((f @ m - y) ** 2))
        - alpha / 2 * float(m @ m)
        - logdet / 2
    )
    return ev / n


def logme(x, labels, iters: int = 20000) -> float:
    x = np.asarray(x, np.float64)
    y, kk = remap_labels(labels)
    return sum(logme_class(x, (y == k).astype(np.float64), iters) for k in range(kk)) / kk


# ------------------------------------------------------------------------------------------
# H-score
# ------------------------------------------------------------------------------------------
def hscore(x, labels, rcond: float = 1e-10) -> float:
    """tr(cov(f)^+ cov(E[f|y])), biased covariances."""
    x = np.asarray(x, np.float64)
    y, kk = remap_labels(labels)
    n, d = x.shape
    mu = x.mean(axis=0)
    cov_f = np.zeros((d, d))
    for i in range(n):
        cov_f += np.outer(x[i] - mu, x[i] - mu)
    cov_f /= n
    means = [class_mean(x, y, k) for k in range(kk)]
    cov_g = np.zeros((d, d))
    for i in range(n):
        g = means[y[i]] - mu
        cov_g += np.outer(g, g)
    cov_g /= n
    return float(np.trace(np.linalg.pinv(cov_f, rcond=rcond, hermitian=True) @ cov_g))


# ------------------------------------------------------------------------------------------
# GBC
# ------------------------------------------------------------------------------------------
def gbc(x, labels, pca_dim: int = 64, spherical: bool = False) -> float:
    """-sum_{i != j} exp(-D_B(i, j)) on PCA-reduced diagonal (or spherical) class Gaussians.

    spherical=True follows the formula of stable_transfer's GBC as published (google-research,
    stable_transfer/transferability/gbc.py, described here in words): per-dimension biased
    variances floored at the absolute 1e-4, averaged into one scalar per class; the distance is
    sum_d (dmu_d)^2 / (8 s) + 1/2 (ln s - 1/2 ln v_i - 1/2 ln v_j), s = (v_i + v_j)/2, the log
    terms once for the scalars.
    """
    z = pca(x, pca_dim)
    if not spherical:
        means, variances = diag_gaussians(z, labels)
        b = diag_overlap_matrix(means, variances)
        kk = len(means)
        return -sum(b[i, j] for i in range(kk) for j in range(kk) if i != j)
    y, kk = remap_labels(labels)
    means, scalars = [], []
    for k in range(kk):
        rows = class_members(z, y, k)
        mu = class_mean(z, y, k)
        var = [max(float(np.mean((rows[:, c] - mu[c]) ** 2)), 1e-4) for c in range(z.shape[1])]
        means.append(mu)
        scalars.append(sum(var) / len(var))
    total = 0.0
    for i in range(kk):
        for j in range(kk):
            if i == j:
                continue
            s = 0.5 * (scalars[i] + scalars[j])
            dist = sum((means[i][c] - means[j][c]) ** 2 for c in range(z.shape[1])) / (8.0 * s)
            dist += 0.5 * (math.log(s) - 0.5 * math.log(scalars[i]) - 0.5 * math.log(scalars[j]))
            total += math.exp(-dist)
    return -total


# ------------------------------------------------------------------------------------------
# Test data (not a reference implementation: shared random inputs for the tests)
# ------------------------------------------------------------------------------------------
def make_data(seed: int, counts, d: int, sep: float = 1.0, z: int = 7, offset: float = 0.0):
    """Gaussian classes (means ~ N(0, sep^2 I)) with anisotropic noise; ``counts``: n_k per class.

    Returns features (n x d), labels (n ints, 0..K-1, shuffled order) and a softmax ``probs``
    (n x z) correlated with the labels.
    """
    rng = np.random.default_rng(seed)
    counts = list(counts)
    kk = len(counts)
    scales = np.linspace(0.5, 2.0, d)
    means = rng.normal(size=(kk, d)) * sep
    x = np.concatenate([means[k] + rng.normal(size=(c, d)) * scales for k, c in enumerate(counts)]) + offset
    y = np.repeat(np.arange(kk), counts)
    order = rng.permutation(y.size)
    x, y = x[order], y[order]
    logits = rng.normal(size=(y.size, z)) + 2.0 * np.eye(z)[y % z]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return x, y, p
