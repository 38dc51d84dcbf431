"""FaCe: Fair Collapse (Ding, Jiang, Sheng, Zheng, Liang; ICLR 2024), Eq. (1)-(6).

Registered metrics:

* ``face-vc``  variance collapse  C = -(1/K) tr(Sigma_W Sigma_B^+)                       (Eq. 2-3)
* ``face-cf``  class fairness F on PCA-reduced features with diagonal Gaussians (default below)
* ``face``     S = minmax(C) + minmax(F) over the models of a zoo on one target          (Eq. 1)
* ``face-cf-literal`` / ``face-literal``  F exactly as Eq. (4)-(6), full d x d covariances with a ridge

Fairness (Eq. 4-6): each class is a Gaussian N(mu_k, Sigma_k) with the biased covariance
Sigma_k = (1/n_k) sum_{y_i=k} (h_i - mu_k)(h_i - mu_k)^T; for every ordered pair (i, j), i = j
included, the Bhattacharyya distance
    D_ij = 1/8 (mu_i - mu_j)^T S^-1 (mu_i - mu_j) + 1/2 ln(|S| / sqrt(|Sigma_i| |Sigma_j|)),
    S = (Sigma_i + Sigma_j) / 2,
gives B = exp(-D) (B_ii = 1); P = row-wise softmax(B / t), t = 0.05; F = -(1/K) sum_ij P_ij ln P_ij.

Why ``face-cf`` does not use full d x d covariances by default: real features have n_k <= d, so
Sigma_k is singular. With any ridge the log-determinant term of Eq. (5) then dwarfs everything
else, every off-diagonal B_ij underflows to ~0, and F sits at its floor for every model (measured
on ImageNet EfficientNet-Lite features of Fashion-MNIST; see the project's closing notes), so a
min-max over the zoo would rank models by rounding noise. The default ``face-cf`` therefore fits
the Gaussians after PCA to ``pca_dim`` dimensions with diagonal covariances, as GBC does (Pandy et
al., CVPR 2022); ``covariance="full"`` keeps full covariances in the PCA space. When a term's
spread over the zoo is below what float64 resolves, :class:`FaCe` drops it with a warning
instead of normalising noise.
"""
from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np
from scipy.linalg import cholesky, solve_triangular
from scipy.special import log_softmax

from ..bundle import FeatureBundle
from ..errors import FacebenchWarning, MetricInputError
from ..resolution import is_unresolved
from ._linalg import (
    EPS,
    bhattacharyya_diag,
    class_stats,
    class_sums,
    class_variances,
    floor_variances,
    memo_per_bundle,
    pca_project,
)
from .base import Metric, MetricValue



# --------------------------------------------------------------------------------------------
# Variance collapse (Eq. 2-3)
# --------------------------------------------------------------------------------------------
def variance_collapse(features: np.ndarray, labels: np.ndarray, num_classes: int) -> float:
    """C = -(1/K) tr(Sigma_W Sigma_B^+), Eq. (2)-(3).

    Sigma_B = (1/K) M M^T with M = [mu_k - h_G] (d x K) has rank <= K, so its pseudo-inverse is
    taken in the span of the centred class means: with the thin SVD M = U diag(s) V^T,
    Sigma_B^+ = K U diag(1/s^2) U^T, and tr(Sigma_W Sigma_B^+) = K sum_r (u_r^T Sigma_W u_r) / s_r^2.
    Singular values below the rounding level of the (uncentred) means are dropped: that is the
    direction in which balanced classes make M exactly rank K-1, and inverting its rounding noise
    is what makes ``np.linalg.pinv(Sigma_B)`` return C ~ -1e9 on real features.
    Sigma_W is never formed: u^T Sigma_W u = (1/K) sum_k mean_{y_i=k} ((h_i - mu_k)^T u)^2.
    """
    st = class_stats(features, labels, num_classes)
    k = num_classes
    m = (st.means - st.global_mean).T  # d x K
    u, s, _ = np.linalg.svd(m, full_matrices=False)
    scale = max(s[0] if s.size else 0.0, float(np.linalg.norm(st.means, axis=1).max()) * np.sqrt(k))
    keep = s > max(m.shape) * EPS * scale * 10
    if not keep.any():
        raise MetricInputError("all class means coincide: the between-class covariance is zero")
    u, s = u[:, keep], s[keep]
    z = st.centered @ u  # n x r
    per_class = class_sums(z**2, labels, k)
    within = (per_class / st.counts[:, None]).mean(axis=0)  # u_r^T Sigma_W u_r
    trace = k * float(np.sum(within / s**2))
    return -trace / k


class VarianceCollapse(Metric):
    """FaCe variance collapse C = -(1/K) tr(Sigma_W Sigma_B^+) (Ding et al., ICLR 2024, Eq. 2-3).

    Sigma_W = (1/K) sum_k (1/n_k) sum_{y_i=k} (h_i - mu_k)(h_i - mu_k)^T;
    Sigma_B = (1/K) sum_k (mu_k - h_G)(mu_k - h_G)^T, h_G the mean of all samples.
    Invariant to relabelling, sample order, and scaling or rotating the features.
    """

    name = "face-vc"
    summary = "FaCe variance collapse C = -tr(Sigma_W Sigma_B^+)/K (Ding et al. 2024, Eq. 2-3)"
    min_per_class = 1

    def compute(self, bundle: FeatureBundle) -> float:
        return memo_per_bundle(
            bundle, "face-vc", lambda: variance_collapse(bundle.features, bundle.labels, bundle.num_classes)
        )


# --------------------------------------------------------------------------------------------
# Class fairness (Eq. 4-6)
# --------------------------------------------------------------------------------------------
def fairness_from_distances(distances: np.ndarray, t: float) -> float:
    """F = -(1/K) sum_ij P_ij ln P_ij with P = row-softmax(exp(-D) / t), Eq. (6)."""
    b = np.exp(-distances)
    log_p = log_softmax(b / t, axis=1)
    return float(-(np.exp(log_p) * log_p).sum() / distances.shape[0])


def bhattacharyya_full(
    features: np.ndarray, labels: np.ndarray, num_classes: int, ridge: float
) -> np.ndarray:
    """Bhattacharyya distances (Eq. 5) between full-covariance class Gaussians, K x K.

    Each biased Sigma_k (Eq. 4) gets a ridge lambda_k I, lambda_k = ridge * tr(Sigma_k) / d (the
    pooled covariance's trace if a class has none), so every log-determinant is finite; ridge=0 is
    the unregularised formula and needs non-singular covariances.

    Sigma_k = V_k diag(e_k) V_k^T is kept in its own eigenbasis (rank r_k <= n_k - 1). For a pair,
    S = lambda I + W W^T with W = [V_i sqrt(e_i/2), V_j sqrt(e_j/2)] (d x m). When m < d the
    determinant lemma and Woodbury identity work in m x m (only V_i^T V_j is needed, computed for
    all j > i in one product), reduced further by a Schur complement (see :func:`_lowrank_pair`);
    otherwise S is formed densely. Either way the result is exact up to rounding.
    """
    st = class_stats(features, labels, num_classes)
    n, d = features.shape
    pooled_trace = float((st.centered**2).sum() / n)
    vecs, vals, lams, logdets = [], [], [], []
    for k in range(num_classes):
        x = st.centered[labels == k] / np.sqrt(st.counts[k])
        if x.shape[0] <= d:
            _, s, vt = np.linalg.svd(x, full_matrices=False)
            e, v = s**2, vt.T
        else:
            e, v = np.linalg.eigh(x.T @ x)
        e = np.clip(e, 0.0, None)
        keep = e > (e.max() if e.size else 0.0) * max(x.shape) * EPS
        e, v = e[keep], v[:, keep]
        trace = float(e.sum())
        lam = ridge * (trace if trace > 0 else pooled_trace) / d
        if lam == 0.0 and e.size < d:
            raise MetricInputError(
                f"class {k} has a singular covariance (rank {e.size} < d={d}); the unregularised Eq. (5) "
                "is undefined: use ridge > 0"
            )
        vals.append(e)
        vecs.append(v)
        lams.append(lam)
        logdets.append(float(np.sum(np.log(e + lam)) + (d - e.size) * (np.log(lam) if lam > 0 else 0.0)))
    means = st.means
    dist = np.zeros((num_classes, num_classes))
    proj = [v.T @ means.T for v in vecs]  # V_k^T mu_l, r_k x K
    dense: dict[int, np.ndarray] = {}

    def dense_cov(k: int) -> np.ndarray:
        if k not in dense:
            dense[k] = (vecs[k] * vals[k]) @ vecs[k].T
        return dense[k]

    # All bases stacked as rows (R x d), so that V_i^T [V_{i+1} ... V_K] is one BLAS call on a view.
    bases = np.concatenate([v.T for v in vecs], axis=0)
    offsets = np.cumsum([0] + [v.shape[1] for v in vecs])
    for i in range(num_classes - 1):
        rest = list(range(i + 1, num_classes))
        cross = {}
        if any(vals[i].size + vals[j].size < d for j in rest):
            block = bases[offsets[i] : offsets[i + 1]] @ bases[offsets[i + 1] :].T
            base = offsets[i + 1]
            cross = {
                j: block[:, offsets[j] - base : offsets[j + 1] - base]
                for j in rest
                if vals[i].size + vals[j].size < d
            }
        for j in rest:
            lam = 0.5 * (lams[i] + lams[j])
            delta = means[i] - means[j]
            if j in cross:
                logdet, quad = _lowrank_pair(
                    lam, vals[i], vals[j], cross[j], proj[i][:, i] - proj[i][:, j], proj[j][:, i] - proj[j][:, j]
                )
                logdet += (d - vals[i].size - vals[j].size) * np.log(lam)
                mahal = max(float(delta @ delta) - quad, 0.0) / lam
            else:
                s = 0.5 * (dense_cov(i) + dense_cov(j))
                s[np.diag_indices_from(s)] += lam
                try:
                    chol = np.linalg.cholesky(s)
                except np.linalg.LinAlgError:
                    raise MetricInputError(
                        f"classes {i} and {j}: the average covariance is singular; use ridge > 0"
                    ) from None
                logdet = 2.0 * np.sum(np.log(np.diag(chol)))
                y = solve_triangular(chol, delta, lower=True)
                mahal = float(y @ y)
            dist[i, j] = dist[j, i] = mahal / 8.0 + 0.5 * (logdet - 0.5 * (logdets[i] + logdets[j]))
    return dist


def _lowrank_pair(
    lam: float, ei: np.ndarray, ej: np.ndarray, cross: np.ndarray, pi: np.ndarray, pj: np.ndarray
) -> tuple[float, float]:
    """ln|M| and b^T M^-1 b for M = lam I + W^T W, W = [V_i sqrt(e_i/2), V_j sqrt(e_j/2)].

    M = [[A, C], [C^T, D]] with A = diag(lam + e_i/2), D = diag(lam + e_j/2) and
    C = sqrt(e_i/2) (V_i^T V_j) sqrt(e_j/2); A is diagonal, so the Schur complement
    S = D - C^T A^-1 C gives ln|M| = ln|A| + ln|S| and
    b^T M^-1 b = b_i^T A^-1 b_i + (b_j - C^T A^-1 b_i)^T S^-1 (b_j - C^T A^-1 b_i),
    with b_k = sqrt(e_k/2) V_k^T delta (``pi``, ``pj`` are V_k^T delta). The smaller block is
    eliminated last, so the Cholesky factorisation is min(r_i, r_j) square.
    """
    if ej.size > ei.size:
        ei, ej, cross, pi, pj = ej, ei, cross.T, pj, pi
    si, sj = np.sqrt(ei / 2.0), np.sqrt(ej / 2.0)
    a = lam + ei / 2.0
    c = (si[:, None] * cross) * sj[None, :]
    schur = -(c.T @ (c / a[:, None]))
    schur[np.diag_indices_from(schur)] += lam + ej / 2.0
    bi, bj = si * pi, sj * pj
    y = bj - c.T @ (bi / a)
    try:
        chol = cholesky(schur, lower=True, check_finite=False)
    except np.linalg.LinAlgError:  # rounding made S indefinite: fall back to an eigendecomposition
        w, v = np.linalg.eigh(schur)
        w = np.maximum(w, lam)
        return float(np.sum(np.log(a)) + np.sum(np.log(w))), float(bi @ (bi / a) + ((v.T @ y) ** 2 / w).sum())
    z = solve_triangular(chol, y, lower=True, check_finite=False)
    logdet = float(np.sum(np.log(a)) + 2.0 * np.sum(np.log(np.diag(chol))))
    return logdet, float(bi @ (bi / a) + z @ z)


def bhattacharyya_pca(
    features: np.ndarray, labels: np.ndarray, num_classes: int, pca_dim: int, covariance: str
) -> np.ndarray:
    """Bhattacharyya distances between class Gaussians fitted after PCA to ``pca_dim`` dims."""
    z = pca_project(features, pca_dim)
    if covariance == "diagonal":
        st = class_stats(z, labels, num_classes)
        return bhattacharyya_diag(st.means, floor_variances(class_variances(st, labels)))
    return bhattacharyya_full(z, labels, num_classes, ridge=1e-6)


class ClassFairness(Metric):
    """FaCe class fairness F (Ding et al., ICLR 2024, Eq. 4-6), on PCA-reduced features.

    F = -(1/K) sum_ij P_ij ln P_ij,  P_ij = exp(B_ij/t) / sum_j' exp(B_ij'/t),  B = exp(-D),
    D the Bhattacharyya distance (Eq. 5) between class Gaussians fitted on the features projected
    on their top ``pca_dim`` principal components, with ``covariance="diagonal"`` (default, GBC's
    treatment) or ``"full"`` covariances. Biased (1/n_k) variances, floored at 1e-12 x their mean.
    Larger F: every class overlaps its neighbours alike (fair, close to a simplex ETF).
    """

    name = "face-cf"
    summary = "FaCe class fairness F: entropy of softmaxed Bhattacharyya overlaps (PCA, diagonal; Eq. 4-6)"
    min_per_class = 2

    def __init__(self, t: float = 0.05, pca_dim: int = 16, covariance: str = "diagonal") -> None:
        if t <= 0:
            raise ValueError(f"temperature t must be positive, got {t}")
        if covariance not in ("diagonal", "full"):
            raise ValueError(f"covariance must be 'diagonal' or 'full', got {covariance!r}")
        self.t, self.pca_dim, self.covariance = float(t), int(pca_dim), covariance

    def distances(self, bundle: FeatureBundle) -> np.ndarray:
        return memo_per_bundle(
            bundle,
            ("bhattacharyya-pca", self.pca_dim, self.covariance),
            lambda: bhattacharyya_pca(bundle.features, bundle.labels, bundle.num_classes, self.pca_dim, self.covariance),
        )

    def compute(self, bundle: FeatureBundle) -> float:
        return fairness_from_distances(self.distances(bundle), self.t)


class ClassFairnessLiteral(ClassFairness):
    """FaCe class fairness F exactly as Eq. (4)-(6): full d x d class covariances.

    Sigma_k (Eq. 4, biased) + lambda_k I with lambda_k = ridge * tr(Sigma_k)/d, default ridge 1e-10,
    which keeps every log-determinant finite when n_k <= d and changes nothing measurable when the
    covariances are well conditioned (ridge=0 gives the unregularised formula). On real features
    with n_k <= d the log-determinant term drives every off-diagonal B_ij to ~0 and F to its floor.
    """

    name = "face-cf-literal"
    summary = "FaCe class fairness F as literally in Eq. (4)-(6): full covariances + tiny trace-scaled ridge"
    min_per_class = 2

    def __init__(self, t: float = 0.05, ridge: float = 1e-10) -> None:
        if t <= 0:
            raise ValueError(f"temperature t must be positive, got {t}")
        if ridge < 0:
            raise ValueError(f"ridge must be >= 0, got {ridge}")
        self.t, self.ridge = float(t), float(ridge)

    def distances(self, bundle: FeatureBundle) -> np.ndarray:
        return memo_per_bundle(
            bundle,
            ("bhattacharyya-full", self.ridge),
            lambda: bhattacharyya_full(bundle.features, bundle.labels, bundle.num_classes, self.ridge),
        )


# --------------------------------------------------------------------------------------------
# FaCe (Eq. 1)
# --------------------------------------------------------------------------------------------
def minmax_sum(values: Mapping[str, Mapping[str, float]], terms: tuple[str, ...], metric: str) -> dict[str, float]:
    """S_m = sum over terms of (x_m - min x) / (max x - min x), Eq. (1).

    A term whose spread over the zoo is below float64 resolution (relative spread < 1e-10) is
    dropped with a :class:`FacebenchWarning`: min-max would only amplify rounding noise.
    """
    models = list(values)
    if len(models) < 2:
        raise MetricInputError(
            f"metric {metric!r} min-max normalises over the zoo and needs at least 2 models, got "
            f"{len(models)} ({', '.join(models) or 'none'})"
        )
    total = np.zeros(len(models))
    for term in terms:
        x = np.array([float(values[m][term]) for m in models])
        spread = float(x.max() - x.min())
        if is_unresolved(x):
            warnings.warn(
                f"{metric}: term {term} has no resolvable spread over the zoo "
                f"(values {x.min():.6g} .. {x.max():.6g}); dropped instead of normalising rounding noise",
                FacebenchWarning,
                stacklevel=2,
            )
            continue
        total += (x - x.min()) / spread
    return dict(zip(models, total.tolist()))


class FaCe(Metric):
    """FaCe, Fair Collapse (Ding et al., ICLR 2024), Eq. (1):  S_m = minmax(C_m) + minmax(F_m).

    C is ``face-vc`` (Eq. 2-3) and F is ``face-cf`` (Eq. 4-6 on PCA-reduced features with diagonal
    Gaussians; see the module docstring for why); min and max are taken over the models of the zoo
    on the same target, so the zoo needs at least two models.
    """

    name = "face"
    summary = "FaCe = minmax(C) + minmax(F) over the zoo (Ding et al., ICLR 2024, Eq. 1)"
    min_per_class = 2
    min_models = 2

    def __init__(self, t: float = 0.05, pca_dim: int = 16, covariance: str = "diagonal") -> None:
        self.fairness = ClassFairness(t=t, pca_dim=pca_dim, covariance=covariance)
        self.t, self.pca_dim, self.covariance = self.fairness.t, self.fairness.pca_dim, covariance

    def compute(self, bundle: FeatureBundle) -> MetricValue:
        return {"C": VarianceCollapse().compute(bundle), "F": self.fairness.compute(bundle)}

    def combine(self, values: Mapping[str, MetricValue]) -> dict[str, float]:
        return minmax_sum(values, ("C", "F"), self.name)  # type: ignore[arg-type]


class FaCeLiteral(FaCe):
    """FaCe with the literal fairness term of Eq. (4)-(6) (``face-cf-literal``): S = minmax(C) + minmax(F)."""

    name = "face-literal"
    summary = "FaCe with the literal full-covariance fairness term (Eq. 1, 4-6)"

    def __init__(self, t: float = 0.05, ridge: float = 1e-10) -> None:  # noqa: D107
        self.fairness = ClassFairnessLiteral(t=t, ridge=ridge)
        self.t, self.ridge = self.fairness.t, self.fairness.ridge
