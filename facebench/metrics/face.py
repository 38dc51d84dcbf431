"""FaCe: Fair Collapse (Ding, Jiang, Sheng, Zheng, Liang; arXiv:2310.05754, 2023), Eq. (1)-(6).

Registered metrics:

* ``face-vc``  variance collapse  C = -(1/K) tr(Sigma_W Sigma_B^+)                       (Eq. 2-3)
* ``face-cf``  class fairness F on PCA-reduced features with diagonal Gaussians (default below)
* ``face``     S = minmax(C) + minmax(F) over the models of a zoo on one target          (Eq. 1)
* ``face-cf-literal`` / ``face-literal``  F exactly as Eq. (4)-(6), full d x d covariances with a ridge

Fairness (Eq. 4-6): each class is a Gaussian N(mu_k, Sigma_k) with the biased covariance
Sigma_k = (1/n_k) sum_{y_i=k} (h_i - mu_k)(h_i - mu_k)^T; for every pair (i, j) the Bhattacharyya
distance
    D_ij = 1/8 (mu_i - mu_j)^T S^-1 (mu_i - mu_j) + 1/2 ln(|S| / sqrt(|Sigma_i| |Sigma_j|)),
    S = (Sigma_i + Sigma_j) / 2,
gives the overlap B = exp(-D); row i of P is the softmax of B_i. / t (t = 0.05) and
F = -(1/K) sum_i sum_j P_ij ln P_ij.

Which j enter row i (``row``). Eq. (6) prints sum_j over all K classes, j = i included. The text
after it says what F is for: "when each row of P approaches a uniform distribution, F reaches its
maximum value, which indicates that any class distribution has a similar overlap with the
distributions of *other* classes ... larger F indicates that the class distributions are closer to
various vertices of the simplex ETF". With j = i in the row that cannot hold: B_ii = exp(0) = 1,
so against well-separated classes (B_ij ~ 0) the diagonal logit is 1/t = 20 and every row is
almost one-hot on itself; a uniform row needs B_ij = 1 for all j, i.e. identical classes. F would
grow with overlap and reward the opposite of an ETF. So the default is the reading the text argues
for, ``row="others"``: row i is the softmax over j != i only. Its range, derived:
    each row is a distribution over K - 1 classes, so its entropy is at most ln(K - 1), with
    equality iff the row is uniform, iff B_ij is the same for every j != i (class i overlaps all
    the others alike). Hence 0 <= F <= ln(K - 1), and F = ln(K - 1) iff every class is
    equidistant (in overlap) from all the others, which is what a simplex ETF of equal-covariance
    classes gives. It measures how *equal* the overlaps are, not how small (separation is C's
    job): any set of equal overlaps, large or vanishing, reaches the maximum.
    With K = 2 each row holds one entry, P = 1 and F = 0 for every model: the term carries no
    information, :class:`ClassFairness` refuses it and :class:`FaCe` uses C alone (and says so).
``row="all"`` keeps Eq. (6)'s printed index range (range [0, ln K]); ``face-with-self`` and
``face-cf-with-self`` register it so Table 4's ablation can be run both ways.

Covariances (``pca_dim``, ``covariance``). Real features have n_k <= d, so the d x d Sigma_k of
Eq. (4) is singular; with any ridge the log-determinant term of Eq. (5) then dwarfs everything
else, every off-diagonal B_ij underflows to 0 and F is the same for every model (the
measurement: ``docs/design-notes.md``, "metrics/face.py"). The
default F therefore fits the Gaussians after PCA with diagonal covariances, the treatment of the
only published metric built on Bhattacharyya overlaps of deep-feature class Gaussians, GBC
(Pandy et al., CVPR 2022), with its published dimension, 64 (``pca_dim``; the rule: take the
published treatment of the same quantity, not a value tuned on our targets). ``face`` and
``face-cf`` name pca_dim in {8, 16, 32, 64} x {diagonal, full} x both row readings as their
sensitivity grid, so the leaderboard shows tau_w for each.
``face-cf-literal`` / ``face-literal`` keep full d x d covariances with a tiny ridge. When a
term's spread over the zoo is below float64 resolution, :class:`FaCe` drops it with a warning
instead of normalising noise.
"""
from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np
from scipy.linalg import cholesky, solve_triangular
from scipy.linalg.blas import dsyrk, ssyrk
from scipy.linalg.lapack import dpocon, dpotrf
from scipy.special import log_softmax

from ..bundle import FeatureBundle
from ..errors import FacebenchWarning, MetricInputError, MetricUndefined
from ..resolution import is_unresolved
from ._backend import matmul
from ._linalg import (
    EPS,
    bhattacharyya_diag,
    class_stats,
    class_sums,
    class_variances,
    floor_variances,
    memo_per_bundle,
    parallel_map,
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
    z = matmul(st.centered, u)  # n x r
    per_class = class_sums(z**2, labels, k)
    within = (per_class / st.counts[:, None]).mean(axis=0)  # u_r^T Sigma_W u_r
    trace = k * float(np.sum(within / s**2))
    return -trace / k


class VarianceCollapse(Metric):
    """FaCe variance collapse C = -(1/K) tr(Sigma_W Sigma_B^+) (Ding et al., arXiv:2310.05754, Eq. 2-3).

    Sigma_W = (1/K) sum_k (1/n_k) sum_{y_i=k} (h_i - mu_k)(h_i - mu_k)^T;
    Sigma_B = (1/K) sum_k (mu_k - h_G)(mu_k - h_G)^T, h_G the mean of all samples.
    Invariant to relabelling, sample order, and scaling or rotating the features.
    """

    name = "face-vc"
    summary = "FaCe variance collapse C = -tr(Sigma_W Sigma_B^+)/K (Ding et al. 2024, Eq. 2-3)"
    source = "Ding et al., Fair Collapse, arXiv:2310.05754, Eq. (2)-(3); Papyan et al., PNAS 2020 (NC1)"
    reference_code = "none released with the paper; checked against np.linalg.pinv in the span of the means (tests)"
    departures = (
        "C: Sigma_B^+ is taken in the span of the centred class means, with singular values below the rounding "
        "level of the means dropped (np.linalg.pinv of Sigma_B inverts rounding noise: C ~ -1e9 on real features)",
    )
    min_per_class = 1

    def compute(self, bundle: FeatureBundle) -> float:
        return memo_per_bundle(
            bundle, "face-vc", lambda: variance_collapse(bundle.features, bundle.labels, bundle.num_classes)
        )


# --------------------------------------------------------------------------------------------
# Class fairness (Eq. 4-6)
# --------------------------------------------------------------------------------------------
#: Which classes enter row i of P: "others" (j != i, the default; see the module docstring) or
#: "all" (j = i included, Eq. 6's printed index range).
ROW_READINGS = ("others", "all")


def check_row(row: str) -> str:
    if row not in ROW_READINGS:
        raise ValueError(f"row must be one of {', '.join(map(repr, ROW_READINGS))}, got {row!r}")
    return row


def fairness_from_distances(distances: np.ndarray, t: float, row: str = "others") -> float:
    """F = -(1/K) sum_i sum_j P_ij ln P_ij, P_i. = softmax_j(exp(-D_ij) / t), Eq. (6).

    ``row="others"``: j runs over j != i (0 <= F <= ln(K - 1)); ``row="all"``: over every j.
    """
    k = distances.shape[0]
    logits = np.exp(-distances) / t
    if check_row(row) == "others":
        if k < 3:
            raise MetricUndefined(
                f"class fairness over the other classes (row='others') needs K >= 3 classes, got K={k}: "
                "with K = 2 each row holds one class and F = 0 for every model"
            )
        logits[np.diag_indices(k)] = -np.inf
    log_p = log_softmax(logits, axis=1)
    p = np.exp(log_p)
    return float(-np.sum(p * np.where(p > 0, log_p, 0.0)) / k)


PRECISIONS = ("float64", "float32")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, got {precision!r}")
    return precision


def bhattacharyya_full(
    features: np.ndarray, labels: np.ndarray, num_classes: int, ridge: float, precision: str = "float64"
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

    ``precision="float32"`` runs the two products of the low-rank route that hold nearly all of its
    arithmetic, V_i^T V_j and the Schur complement's rank update, in float32; everything else
    (eigenbases, log-determinants, Cholesky factors, the dense route) stays in float64 and so does
    the result. Its agreement with float64 is measured in ``benchmarks/metric_speed_face_cf.md``.
    """
    single = check_precision(precision) == "float32"
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
    products = bases.astype(np.float32) if single else bases  # what the blocks V_i^T V_j are computed from
    offsets = np.cumsum([0] + [v.shape[1] for v in vecs])

    def row(i: int) -> tuple[list[tuple[int, float]], int]:
        """D_ij for every j > i, and how many low-rank pairs were given back to float64 by precision='float32'."""
        rest = list(range(i + 1, num_classes))
        cross = {}
        given_back = 0
        if any(vals[i].size + vals[j].size < d for j in rest):
            source = products if single else bases
            block = source[offsets[i] : offsets[i + 1]] @ source[offsets[i + 1] :].T
            base = offsets[i + 1]
            cross = {
                j: block[:, offsets[j] - base : offsets[j + 1] - base]
                for j in rest
                if vals[i].size + vals[j].size < d
            }
        out = []
        for j in rest:
            lam = 0.5 * (lams[i] + lams[j])
            delta = means[i] - means[j]
            if j in cross:
                pi, pj = proj[i][:, i] - proj[i][:, j], proj[j][:, i] - proj[j][:, j]
                if single:  # kept if the bound of its rounding error is within the tolerance, else float64
                    pair = _lowrank_pair_single(lam, vals[i], vals[j], cross[j], pi, pj)
                    if pair is not None:
                        logdet, quad, logdet_err, quad_err = pair
                        value = _distance(logdet + (d - vals[i].size - vals[j].size) * np.log(lam),
                                          max(float(delta @ delta) - quad, 0.0) / lam, logdets[i], logdets[j])
                        if 0.5 * logdet_err + quad_err / (8.0 * lam) <= FLOAT32_TOLERANCE * abs(value):
                            out.append((j, value))
                            continue
                    # float32 cannot resolve this pair to the tolerance: V_i^T V_j again, in float64
                    cross[j] = bases[offsets[i] : offsets[i + 1]] @ bases[offsets[j] : offsets[j + 1]].T
                    given_back += 1
                logdet, quad = _lowrank_pair(lam, vals[i], vals[j], cross[j], pi, pj)
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
            out.append((j, _distance(logdet, mahal, logdets[i], logdets[j])))
        return out, given_back

    rows = []
    if single and num_classes > 1:
        # Row 0 first, alone: if float32 had to give back most of its low-rank pairs (class subspaces
        # that nearly coincide), the other rows are computed in float64 directly, which is then cheaper.
        # Decided on row 0 only, so the result does not depend on the number of workers.
        rows = parallel_map(row, [0])
        lowrank = sum(vals[0].size + vals[j].size < d for j in range(1, num_classes))
        single = 2 * rows[0][1] <= lowrank
    rows += parallel_map(row, range(len(rows), num_classes - 1))
    for i, (pairs, _) in enumerate(rows):
        for j, value in pairs:
            dist[i, j] = dist[j, i] = value
    return dist


def _distance(logdet: float, mahal: float, logdet_i: float, logdet_j: float) -> float:
    """D_ij (Eq. 5) from ln|S|, (mu_i - mu_j)^T S^-1 (mu_i - mu_j) and ln|Sigma_i|, ln|Sigma_j|."""
    return mahal / 8.0 + 0.5 * (logdet - 0.5 * (logdet_i + logdet_j))


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
    # S = D - C^T A^-1 C: a symmetric rank-r_i update (syrk: half a matrix product's work), lower
    # triangle only, which is all that the Cholesky factorisation (and eigh) read.
    schur = dsyrk(-1.0, c / np.sqrt(a)[:, None], trans=1, lower=1)
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


# precision='float32'. Every D_ij within FLOAT32_TOLERANCE (relative) of float64: a pair is kept when
# the bound of its rounding error below is, else computed again in float64. The float32 products'
# rounding (unit u = 2^-23) reaches ln|S| and b^T S^-1 b amplified by kappa = ||S_n^-1||_1 (LAPACK's
# estimate); measured over 1,488 class pairs (benchmarks/metric_speed_face_cf.md: Fashion-MNIST pixels
# with ridges 1e-10 to 1, Gaussian and ReLU-latent features; `face_cf_precision.py --calibrate`),
# |error of ln|S|| <= 0.51 u kappa sqrt(r) and |error of b^T S^-1 b| <= 0.27 u kappa b^T S^-1 b; the bounds
# take twice those.
FLOAT32_TOLERANCE = 1e-5
SINGLE_LOGDET_ERROR = 1.0  # x u kappa sqrt(r)
SINGLE_QUAD_ERROR = 0.5  # x u kappa quad


def _lowrank_pair_single(
    lam: float, ei: np.ndarray, ej: np.ndarray, cross: np.ndarray, pi: np.ndarray, pj: np.ndarray
) -> tuple[float, float, float, float] | None:
    """:func:`_lowrank_pair` from a float32 ``cross`` with the rank update in float32, the rest in float64,
    and bounds of the rounding error of both results; None when S is singular in float32.

    S is factorised in its normalised form S_n = D^-1/2 S D^-1/2 = I - G^T G, G = A^-1/2 C D^-1/2
    (unit diagonal, ||S_n||_2 <= 1), so that LAPACK's estimate of ||S_n^-1||_1 from the Cholesky
    factor (O(r^2)) says how much the rounding of the float32 products is amplified;
    ln|S| = ln|S_n| + ln|D|.
    """
    if ej.size > ei.size:
        ei, ej, cross, pi, pj = ej, ei, cross.T, pj, pi
    si, sj = np.sqrt(ei / 2.0), np.sqrt(ej / 2.0)
    a, dj = lam + ei / 2.0, lam + ej / 2.0
    g = cross * (si / np.sqrt(a)).astype(np.float32)[:, None]
    g *= (sj / np.sqrt(dj)).astype(np.float32)[None, :]
    # S_n = I - G^T G: syrk on G^T (Fortran order when G is C order: no copy), lower triangle only
    schur = ssyrk(-1.0, g.T, lower=1).astype(np.float64, order="F")
    schur[np.diag_indices_from(schur)] += 1.0
    chol, info = dpotrf(schur, lower=1, clean=0, overwrite_a=1)
    if info != 0:
        return None
    inv_rcond, info = dpocon(chol, 1.0, uplo="L")  # with ||S_n||_1 given as 1: 1 / the estimate of ||S_n^-1||_1
    if info != 0 or not inv_rcond > 0.0:
        return None
    bi, bj = si * pi, sj * pj
    y = (bj - sj * (cross.T.astype(np.float64) @ (si * bi / a))) / np.sqrt(dj)
    z = solve_triangular(chol, y, lower=True, check_finite=False)
    logdet = float(np.sum(np.log(a)) + np.sum(np.log(dj)) + 2.0 * np.sum(np.log(np.diag(chol))))
    quad = float(bi @ (bi / a) + z @ z)
    amplified = np.finfo(np.float32).eps / inv_rcond  # u kappa
    return logdet, quad, SINGLE_LOGDET_ERROR * amplified * np.sqrt(ej.size), SINGLE_QUAD_ERROR * amplified * quad


def bhattacharyya_pca(
    features: np.ndarray, labels: np.ndarray, num_classes: int, pca_dim: int, covariance: str
) -> np.ndarray:
    """Bhattacharyya distances between class Gaussians fitted after PCA to ``pca_dim`` dims."""
    z = pca_project(features, pca_dim)
    if covariance == "diagonal":
        st = class_stats(z, labels, num_classes)
        return bhattacharyya_diag(st.means, floor_variances(class_variances(st, labels)))
    return bhattacharyya_full(z, labels, num_classes, ridge=1e-6)


# Card lines shared by the FaCe metrics (each a departure from Eq. 1-6 or a reading of them).
_C_NOTES = VarianceCollapse.departures


def _row_note(row: str) -> str:
    if row == "others":
        return ("F: row i of P is the softmax over j != i (the reading Sec. 3.2's text argues for: uniform rows = equal "
                "overlap with the *other* classes; range [0, ln(K-1)]); Eq. (6)'s printed j = i is row='all'")
    return ("F: row i of P includes j = i, as Eq. (6) prints it (B_ii = 1 dominates every row: F grows with class "
            "overlap; range [0, ln K])")


class ClassFairness(Metric):
    """FaCe class fairness F (Ding et al., arXiv:2310.05754, Eq. 4-6), on PCA-reduced features.

    F = -(1/K) sum_i sum_j P_ij ln P_ij,  P_i. = softmax_j(B_ij / t),  B = exp(-D),
    D the Bhattacharyya distance (Eq. 5) between class Gaussians fitted on the features projected
    on their top ``pca_dim`` principal components (64, GBC's published dimension), with
    ``covariance="diagonal"`` (default, GBC's treatment) or ``"full"`` covariances; biased (1/n_k)
    variances, floored at 1e-12 x their mean. ``row="others"`` (default): j != i, so
    0 <= F <= ln(K - 1) with the maximum iff each class overlaps all the others alike;
    ``row="all"``: Eq. (6)'s printed range j = 1..K. See the module docstring for why.
    """

    name = "face-cf"
    sensitivity = {"row": ("others", "all"), "covariance": ("diagonal", "full"), "pca_dim": (8, 16, 32, 64)}
    summary = "FaCe class fairness F: entropy of softmaxed Bhattacharyya overlaps with the other classes (Eq. 4-6)"
    source = "Ding et al., Fair Collapse, arXiv:2310.05754, Eq. (4)-(6)"
    reference_code = "none released with the paper; checked against a brute-force double loop (tests)"
    min_per_class = 2

    def __init__(self, t: float = 0.05, pca_dim: int = 64, covariance: str = "diagonal", row: str = "others") -> None:
        if t <= 0:
            raise ValueError(f"temperature t must be positive, got {t}")
        if covariance not in ("diagonal", "full"):
            raise ValueError(f"covariance must be 'diagonal' or 'full', got {covariance!r}")
        if int(pca_dim) < 1:
            raise ValueError(f"pca_dim must be >= 1, got {pca_dim}")
        self.t, self.pca_dim, self.covariance, self.row = float(t), int(pca_dim), covariance, check_row(row)

    def departure_notes(self) -> tuple[str, ...]:
        cov = ("diagonal covariances floored at 1e-12 x their mean" if self.covariance == "diagonal"
               else "full covariances + ridge 1e-6 x tr/d")
        return (
            _row_note(self.row),
            f"F: class Gaussians fitted after PCA to {self.pca_dim} dims with {cov} (GBC's treatment), not Eq. (4)'s "
            "full d x d covariances, which are singular when n_k <= d and make F the same for every model",
        )

    def distances(self, bundle: FeatureBundle) -> np.ndarray:
        return memo_per_bundle(
            bundle,
            ("bhattacharyya-pca", self.pca_dim, self.covariance),
            lambda: bhattacharyya_pca(bundle.features, bundle.labels, bundle.num_classes, self.pca_dim, self.covariance),
        )

    def compute(self, bundle: FeatureBundle) -> float:
        return fairness_from_distances(self.distances(bundle), self.t, self.row)


class _WithSelf:
    """The ablation of a FaCe metric with j = i in every row of F's softmax, as Eq. (6) prints it: the
    same metric with ``row="all"`` by default (put before the metric's class in the bases)."""

    sensitivity: dict = {}  # the grid of its parent varies row and covariance: shown once, there

    def __init__(self, t: float = 0.05, pca_dim: int = 64, covariance: str = "diagonal", row: str = "all") -> None:
        super().__init__(t=t, pca_dim=pca_dim, covariance=covariance, row=row)  # type: ignore[call-arg]


class ClassFairnessWithSelf(_WithSelf, ClassFairness):
    """FaCe class fairness F with j = i in every row, as Eq. (6) prints it (ablation of ``face-cf``)."""

    name = "face-cf-with-self"
    summary = "FaCe class fairness F with j = i in each row's softmax (Eq. 6 as printed; ablation)"


def _precision_notes(precision: str) -> tuple[str, ...]:
    if precision == "float64":
        return ()
    return (f"F: precision='float32': V_i^T V_j and the Schur complement's rank update in float32, the rest in "
            f"float64, pairs too ill-conditioned for float32 recomputed in float64; every D_ij and F within "
            f"{FLOAT32_TOLERANCE:g} (relative) of precision='float64' (measured: benchmarks/metric_speed_face_cf.md)",)


class ClassFairnessLiteral(ClassFairness):
    """FaCe class fairness F with Eq. (4)'s full d x d class covariances.

    Sigma_k (Eq. 4, biased) + lambda_k I with lambda_k = ridge * tr(Sigma_k)/d, default ridge 1e-10,
    which keeps every log-determinant finite when n_k <= d and changes nothing measurable when the
    covariances are well conditioned (ridge=0 gives the unregularised formula). On real features
    with n_k <= d the log-determinant term drives every off-diagonal B_ij to ~0: with
    ``row="others"`` F then sits at its maximum ln(K - 1), with ``row="all"`` at its floor, for
    every model.

    ``precision="float64"`` (default) is the exact method. ``precision="float32"`` computes the two
    products that hold nearly all the arithmetic when n_i + n_j - 2 < d (the low-rank route of
    :func:`bhattacharyya_full`: V_i^T V_j and the Schur complement's rank update) in float32, and
    everything else, the result included, in float64. A pair whose rounding-error bound (from
    LAPACK's condition estimate of the Schur complement, calibrated on measured errors) exceeds
    1e-5 |D_ij| is computed again in float64; if row 0 gives most of its pairs back, the other rows
    run in float64 directly. Stated tolerance: every D_ij and F within a relative 1e-5 of
    float64 (:data:`FLOAT32_TOLERANCE`; largest difference measured 2.0e-6 on D, 6.4e-7 on F).
    Speed and agreement at n = 50,000, d = 2,048, K = 100 on one core: ``benchmarks/metric_speed_face_cf.md``.
    The option is recorded with the scores (``params()``), so it enters the job keys.
    """

    name = "face-cf-literal"
    sensitivity = {}  # full d x d covariances: no pca_dim or covariance to vary
    summary = "FaCe class fairness F with Eq. (4)'s full covariances + a tiny trace-scaled ridge"
    min_per_class = 2

    def __init__(self, t: float = 0.05, ridge: float = 1e-10, row: str = "others", precision: str = "float64") -> None:
        if t <= 0:
            raise ValueError(f"temperature t must be positive, got {t}")
        if ridge < 0:
            raise ValueError(f"ridge must be >= 0, got {ridge}")
        self.t, self.ridge, self.row = float(t), float(ridge), check_row(row)
        self.precision = check_precision(precision)

    def departure_notes(self) -> tuple[str, ...]:
        return (
            _row_note(self.row),
            f"F: full d x d covariances as Eq. (4), plus a ridge {self.ridge:g} x tr(Sigma_k)/d so that every "
            "log-determinant is finite when n_k <= d (then every off-diagonal B_ij underflows and F is the same "
            "for every model)",
            *_precision_notes(self.precision),
        )

    def distances(self, bundle: FeatureBundle) -> np.ndarray:
        return memo_per_bundle(
            bundle,
            ("bhattacharyya-full", self.ridge, self.precision),
            lambda: bhattacharyya_full(bundle.features, bundle.labels, bundle.num_classes, self.ridge, self.precision),
        )


# --------------------------------------------------------------------------------------------
# FaCe (Eq. 1)
# --------------------------------------------------------------------------------------------
def minmax_sum(values: Mapping[str, Mapping[str, float]], terms: tuple[str, ...], metric: str) -> dict[str, float]:
    """S_m = sum over terms of (x_m - min x) / (max x - min x), Eq. (1).

    A term whose spread over the zoo is below float64 resolution (:mod:`facebench.resolution`) is
    dropped with a :class:`FacebenchWarning`: min-max would only amplify rounding noise. So is a
    term that the models' values do not carry (F when K = 2, see :class:`FaCe`).
    """
    models = list(values)
    if len(models) < 2:
        raise MetricInputError(
            f"metric {metric!r} min-max normalises over the zoo and needs at least 2 models, got "
            f"{len(models)} ({', '.join(models) or 'none'})"
        )
    total = np.zeros(len(models))
    for term in terms:
        if not all(term in values[m] for m in models):
            continue
        x = np.array([float(values[m][term]) for m in models])
        if is_unresolved(x):
            warnings.warn(
                f"{metric}: term {term} has no resolvable spread over the zoo "
                f"(values {x.min():.6g} .. {x.max():.6g}); dropped instead of normalising rounding noise",
                FacebenchWarning,
                stacklevel=2,
            )
            continue
        total += (x - x.min()) / (x.max() - x.min())
    return dict(zip(models, total.tolist()))


class FaCe(Metric):
    """FaCe, Fair Collapse (Ding et al., arXiv:2310.05754), Eq. (1):  S_m = minmax(C_m) + minmax(F_m).

    C is ``face-vc`` (Eq. 2-3) and F is ``face-cf`` (Eq. 4-6 on PCA-reduced features with diagonal
    Gaussians, row softmax over the other classes; see the module docstring for why); min and max
    are taken over the models of the zoo on the same target, so the zoo needs at least two models.
    With K = 2 and ``row="others"`` F is 0 for every model, so S = minmax(C) (with a warning).
    """

    name = "face"
    sensitivity = {"row": ("others", "all"), "covariance": ("diagonal", "full"), "pca_dim": (8, 16, 32, 64)}
    summary = "FaCe = minmax(C) + minmax(F) over the zoo (Ding et al., arXiv:2310.05754, Eq. 1)"
    source = "Ding et al., Fair Collapse, arXiv:2310.05754, Eq. (1)-(6)"
    reference_code = "none released with the paper; each term checked against brute-force loops (tests)"
    min_per_class = 2
    min_models = 2

    def __init__(self, t: float = 0.05, pca_dim: int = 64, covariance: str = "diagonal", row: str = "others") -> None:
        self.fairness = ClassFairness(t=t, pca_dim=pca_dim, covariance=covariance, row=row)

    # FaCe's parameters are its fairness term's (C has none): the term holds them, once, and they
    # are read here under their own names (what params() and the cards record).
    t = property(lambda self: self.fairness.t)
    pca_dim = property(lambda self: self.fairness.pca_dim)
    covariance = property(lambda self: self.fairness.covariance)
    row = property(lambda self: self.fairness.row)

    def departure_notes(self) -> tuple[str, ...]:
        return (
            *self.fairness.departure_notes(),
            *_C_NOTES,
            "S: a term with no resolvable spread over the zoo (relative < 1e-10) is dropped from the min-max sum, with "
            "a warning, instead of normalising rounding noise; with K = 2 and row='others' F is 0 and S = minmax(C)",
        )

    def compute(self, bundle: FeatureBundle) -> MetricValue:
        c = VarianceCollapse().compute(bundle)
        if self.fairness.row == "others" and bundle.num_classes < 3:
            return {"C": c}
        return {"C": c, "F": self.fairness.compute(bundle)}

    def combine(self, values: Mapping[str, MetricValue]) -> dict[str, float]:
        if any("F" not in v for v in values.values()):  # type: ignore[operator]
            warnings.warn(
                f"{self.name}: F is 0 for every model when the target has K = 2 classes (row='others': each row "
                "of P holds one class); S = minmax(C)",
                FacebenchWarning,
                stacklevel=2,
            )
        return minmax_sum(values, ("C", "F"), self.name)  # type: ignore[arg-type]


class FaCeWithSelf(_WithSelf, FaCe):
    """FaCe with j = i in every row of F's softmax, as Eq. (6) prints it (ablation of ``face``)."""

    name = "face-with-self"
    summary = "FaCe with F's row softmax including j = i (Eq. 6 as printed; ablation)"


class FaCeLiteral(FaCe):
    """FaCe with the full-covariance fairness term of Eq. (4)-(6) (``face-cf-literal``): S = minmax(C) + minmax(F)."""

    name = "face-literal"
    sensitivity = {}  # full d x d covariances: no pca_dim or covariance to vary
    summary = "FaCe with the full-covariance fairness term (Eq. 1, 4-6)"

    def __init__(self, t: float = 0.05, ridge: float = 1e-10, row: str = "others",  # noqa: D107
                 precision: str = "float64") -> None:
        self.fairness = ClassFairnessLiteral(t=t, ridge=ridge, row=row, precision=precision)

    ridge = property(lambda self: self.fairness.ridge)
    precision = property(lambda self: self.fairness.precision)
