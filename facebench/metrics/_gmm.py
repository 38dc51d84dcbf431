"""Full-covariance Gaussian-mixture EM, as scikit-learn's ``GaussianMixture`` runs it, with exact pruning.

What is computed is scikit-learn's (1.x) ``GaussianMixture(covariance_type="full", init_params="kmeans",
n_init=1, reg_covar=1e-6)``, step for step:

* initialisation: the labels of ``KMeans(n_clusters=Z, n_init=1, random_state=RandomState(seed))``
  as one-hot responsibilities, then the weighted statistics below with weights N_z / n;
* E step: ln w_z + ln N(x_i | mu_z, Sigma_z) for every sample and component, their log-sum-exp per
  sample (the per-sample log-likelihood; its mean is the "lower bound") and the responsibilities
  r_iz = exp(ln w_z N(x_i | z) - logsumexp_z');
* M step: N_z = sum_i r_iz + 10 eps, mu_z = sum_i r_iz x_i / N_z,
  Sigma_z = sum_i r_iz (x_i - mu_z)(x_i - mu_z)^T / N_z + 1e-6 I, w_z = N_z / sum N;
* stop when the lower bound changes by less than ``tol`` (or after ``max_iter`` steps); the
  posteriors are one more E step with the final parameters (``predict_proba``).

Only the arithmetic is organised differently, and that is what makes it fast:

1. **Pruning that cannot change a number.** With Sigma_z = U_z^T U_z (U_z upper triangular) the
   Mahalanobis term is a sum of d squares, ||U_z^-T (x - mu_z)||^2 = sum_j ((x - mu_z)^T c_zj)^2 over
   the columns c_zj of U_z^-1 (scikit-learn's ``precisions_cholesky_``), so the sum over any subset J
   of the columns is a lower bound, and ln w_z N(x | z) has an upper bound that costs |J| dot
   products instead of d^2 / 2 flops. A component whose upper bound lies more than ``PRUNE_NATS``
   (1000) below the exact value of another component for that sample has ln r_iz < -1000, and
   exp(-1000) is exactly 0.0 in float64 (exp underflows below -745.2): its responsibility *is* 0 in
   scikit-learn's arithmetic too, and it adds exactly nothing to the log-sum-exp. Only the
   components that can matter are evaluated exactly: first the one with the largest bound, then
   every component whose bound comes within ``PRUNE_NATS`` of that exact value. J: the ``PROBES``
   (4) columns of the smallest pivots of U_z, the directions in which the component has (almost)
   no spread. On bench_metrics' large data (d' = 1,394 PCA dimensions, 500 samples per component,
   so every Sigma_z is rank-deficient plus 1e-6 I) 1% of the pairs are evaluated exactly. If the
   bounds leave more than half of the pairs, the E steps fall back to evaluating every pair, as
   scikit-learn does (so do mixtures on 2 x ``PROBES`` dimensions or fewer).
2. **Sparse M step.** Sigma_z sums only the rows with r_iz > 0 (the others add exactly 0), by a
   symmetric rank-k update of sqrt(r_iz)(x_i - mu_z) (half the flops of the general product).
3. **Triangular LAPACK.** A Cholesky factor (``potrf``) per covariance and triangular solves
   (``trsm``) for the Mahalanobis terms, one component per single-threaded worker (``parallel_map``),
   instead of scikit-learn's explicit inverse (a solve against the identity) and general products.
4. **No step twice.** An M step whose responsibilities equal (bitwise) those of the previous M step
   (or of the k-means initialisation, whose weights N_z / n are then replaced by N_z / sum N)
   returns the same means and covariances, and an E step with the same parameters the same result;
   both are reused instead of recomputed. On well-separated data the first E step keeps the k-means
   assignment, and the whole fit is k-means, one M step and one E step.

The values are scikit-learn's up to rounding (the order of the sums, a triangular solve instead of
a product with an explicit inverse: the posteriors agree to 1e-12, the lower bound to ~1e-11
relative); ``tests/test_nleep_fast.py`` compares the two. Float64 throughout; deterministic given
the seed (the parallel workers compute each component exactly as alone).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import blas, lapack

from ._linalg import parallel_map

LOG_2PI = float(np.log(2 * np.pi))
PRUNE_NATS = 1000.0  # exp(-1000) == 0.0 in float64: a component this far below another has r_iz = 0 exactly
PROBES = 4  # terms of the Mahalanobis sum in the cheap upper bound
REG_COVAR = 1e-6  # scikit-learn's default reg_covar
_CHUNK = 4096  # rows per block of the bound products (memory: CHUNK x Z x PROBES floats)

_ILL_DEFINED = ("Fitting the mixture model failed because some components have ill-defined empirical "
                "covariance (for instance caused by singleton or collapsed samples). Try to decrease the "
                "number of components, increase reg_covar, or scale the input data.")


@dataclass
class FullMixture:
    weights: np.ndarray  # (Z,)
    means: np.ndarray  # (Z, d)
    chol: list  # Z upper-triangular (d, d) Fortran arrays U_z with Sigma_z = U_z^T U_z
    log_det: np.ndarray  # (Z,) -sum_j ln (U_z)_jj = -1/2 ln det Sigma_z


@dataclass
class FitInfo:
    n_iter: int = 0
    converged: bool = False
    lower_bound: float = -np.inf
    exact_pairs: int = 0  # (sample, component) pairs evaluated exactly, over all E steps
    all_pairs: int = 0  # n x Z per E step, summed
    prune: bool = False  # whether the last E steps still pruned
    reused_steps: int = 0  # E / M steps skipped because their inputs equalled those of the last one


def _logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """ln sum_j exp(a_ij) per row (scikit-learn's / SciPy's formula; -inf entries add nothing)."""
    top = a.max(axis=1, keepdims=True)
    at_top = a == top
    count = at_top.sum(axis=1, keepdims=True).astype(np.float64)
    rest = np.where(at_top, -np.inf, a)
    shift = np.where(np.isfinite(top), top, 0.0)
    s = np.exp(rest - shift).sum(axis=1, keepdims=True)
    s = np.where(s == 0, s, s / count)
    return (np.log1p(s) + np.log(count) + top)[:, 0]


def _component(x: np.ndarray, resp_k: np.ndarray, nk: float, mean: np.ndarray) -> tuple[np.ndarray, float]:
    """(U, -sum ln U_jj) for Sigma_k = U^T U = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / N_k + reg I, summed over
    the rows with r_ik > 0 (the others add exactly 0); ValueError if Sigma_k is not positive definite."""
    rows = np.flatnonzero(resp_k > 0)
    if 2 * rows.size > resp_k.size:
        diff, w = x - mean, resp_k
    else:
        diff, w = x[rows] - mean, resp_k[rows]
    if not np.all(w == 1.0):
        diff *= np.sqrt(w)[:, None]
    d = x.shape[1]
    if diff.shape[0] == 0:
        cov = np.zeros((d, d), order="F")
    else:
        # diff.T is a Fortran view: dsyrk(trans=0) gives (1/N_k) diff^T diff in the upper triangle
        cov = blas.dsyrk(1.0 / nk, diff.T, trans=0, lower=0)
    cov[np.diag_indices(d)] += REG_COVAR
    u, info = lapack.dpotrf(cov, lower=0, clean=1, overwrite_a=1)
    if info != 0:
        raise ValueError(_ILL_DEFINED)
    return u, -float(np.sum(np.log(np.diagonal(u))))


def m_step(x: np.ndarray, resp: np.ndarray, weights_by_n: bool = False) -> FullMixture:
    """Weights, means and covariance Cholesky factors from responsibilities (n x Z)."""
    n = x.shape[0]
    nk = resp.sum(axis=0) + 10 * np.finfo(np.float64).eps
    means = (resp.T @ x) / nk[:, None]
    parts = parallel_map(lambda k: _component(x, resp[:, k], nk[k], means[k]), range(resp.shape[1]))
    weights = nk / n if weights_by_n else nk / nk.sum()
    return FullMixture(weights, means, [u for u, _ in parts], np.array([ld for _, ld in parts]))


def _exact_rows(x: np.ndarray, rows: np.ndarray, mix: FullMixture, k: int) -> np.ndarray:
    """ln w_k + ln N(x_i | k) = ln w_k - (d ln 2pi + ||U_k^-T (x_i - mu_k)||^2)/2 + ln det U_k^-1 for the given rows."""
    d = x.shape[1]
    out = np.empty(rows.size)
    for start in range(0, rows.size, _CHUNK):
        block = rows[start:start + _CHUNK]
        diff = x[block] - mix.means[k]  # C order: diff.T is Fortran, solved in place
        y = blas.dtrsm(1.0, mix.chol[k], diff.T, side=0, lower=0, trans_a=1, overwrite_b=1)
        out[start:start + block.size] = np.einsum("ji,ji->i", y, y)
    return -0.5 * (d * LOG_2PI + out) + mix.log_det[k] + np.log(mix.weights[k])


def _upper_bounds(x: np.ndarray, mix: FullMixture) -> np.ndarray:
    """n x Z upper bounds of ln w_z N(x_i | z): the Mahalanobis sum of squares over PROBES of its d terms.

    ||U^-T e||^2 = sum_j (e^T c_j)^2 over the columns c_j of U^-1; the bound keeps the columns of the
    PROBES smallest pivots U_jj (the largest 1/U_jj, a lower bound of ||c_j||): in a near-singular
    Sigma those are the directions where the component has (almost) no spread. Any choice of
    columns gives a valid bound; this one decides only how much it prunes."""
    n, d = x.shape
    z_count = len(mix.chol)
    m = min(PROBES, d)
    probes = np.empty((d, z_count * m))
    for k, u in enumerate(mix.chol):
        cols = np.sort(np.argpartition(np.diagonal(u), m - 1)[:m])
        unit = np.zeros((d, m), order="F")
        unit[cols, np.arange(m)] = 1.0
        probes[:, k * m:(k + 1) * m] = blas.dtrsm(1.0, u, unit, side=0, lower=0, trans_a=0, overwrite_b=1)
    shifts = np.einsum("kd,dkm->km", mix.means, probes.reshape(d, z_count, m)).reshape(-1)
    const = -0.5 * d * LOG_2PI + mix.log_det + np.log(mix.weights)
    out = np.empty((n, z_count))
    for start in range(0, n, _CHUNK):
        y = x[start:start + _CHUNK] @ probes
        y -= shifts
        y *= y
        out[start:start + y.shape[0]] = const - 0.5 * y.reshape(y.shape[0], z_count, m).sum(axis=2)
    return out


def _grouped_exact(x: np.ndarray, mix: FullMixture, rows: np.ndarray, comps: np.ndarray) -> np.ndarray:
    """Exact ln w_z N(x_i | z) for the pairs (rows[j], comps[j])."""
    out = np.empty(rows.size)
    order = np.argsort(comps, kind="stable")
    bounds = np.searchsorted(comps[order], np.arange(len(mix.chol) + 1))
    groups = [(k, order[bounds[k]:bounds[k + 1]]) for k in range(len(mix.chol)) if bounds[k + 1] > bounds[k]]
    values = parallel_map(lambda g: _exact_rows(x, rows[g[1]], mix, g[0]), groups)
    for (_, idx), v in zip(groups, values):
        out[idx] = v
    return out


def e_step(x: np.ndarray, mix: FullMixture, prune: bool, info: FitInfo) -> tuple[np.ndarray, np.ndarray, bool]:
    """(per-sample log-likelihood, log responsibilities n x Z, whether pruning paid off).

    Pruned pairs get ln w N = -inf: exactly what scikit-learn's arithmetic makes of them (r = 0.0)."""
    n, z_count = x.shape[0], len(mix.chol)
    info.all_pairs += n * z_count
    if prune and z_count > 1 and x.shape[1] > 2 * PROBES:
        ub = _upper_bounds(x, mix)
        best = np.argmax(ub, axis=1)
        rows = np.arange(n)
        exact_best = _grouped_exact(x, mix, rows, best)
        floor = exact_best - (PRUNE_NATS + 1e-9 * np.abs(exact_best))
        cand = ub >= floor[:, None]
        cand[rows, best] = False
        more_rows, more_comps = np.nonzero(cand)
        wlp = np.full((n, z_count), -np.inf)
        wlp[rows, best] = exact_best
        wlp[more_rows, more_comps] = _grouped_exact(x, mix, more_rows, more_comps)
        exact = n + more_rows.size
        info.exact_pairs += exact
        paid = exact <= 0.5 * n * z_count
    else:
        wlp = np.empty((n, z_count))
        for k in range(z_count):  # threaded BLAS on all rows, one component at a time
            wlp[:, k] = _exact_rows(x, np.arange(n), mix, k)
        info.exact_pairs += n * z_count
        paid = False
    log_norm = _logsumexp_rows(wlp)
    with np.errstate(under="ignore", invalid="ignore"):
        log_resp = wlp - log_norm[:, None]
    return log_norm, log_resp, paid


def fit_full_mixture(x: np.ndarray, n_components: int, seed: int, max_iter: int = 100, tol: float = 1e-3,
                     prune: bool = True) -> tuple[FullMixture, np.ndarray, FitInfo]:
    """scikit-learn's ``GaussianMixture(n_components, covariance_type="full", max_iter, tol,
    random_state=seed).fit(x)`` and its ``predict_proba(x)``, by the arithmetic of the module docstring:
    (the fitted mixture, the posteriors p(z | x_i) (n x Z) in the order of ``x``, what the fit did)."""
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    x = np.ascontiguousarray(x, dtype=np.float64)
    n = x.shape[0]
    if n < 2 or n < n_components:
        raise ValueError(f"Expected n_samples >= n_components and >= 2 but got n_components = {n_components}, "
                         f"n_samples = {n}")
    info = FitInfo()
    labels = KMeans(n_clusters=n_components, n_init=1, random_state=np.random.RandomState(seed)).fit(x).labels_
    resp = np.zeros((n, n_components))
    resp[np.arange(n), labels] = 1.0
    mix = m_step(x, resp, weights_by_n=True)
    resp_of_mix, weights_by_n = resp, True  # what the current mixture was computed from
    last = None  # (mixture, log-likelihoods, log responsibilities) of the last E step
    lower_bound = -np.inf
    for n_iter in range(1, max_iter + 1):
        previous = lower_bound
        if last is not None and last[0] is mix:  # the same parameters as the last E step: the same result
            log_norm, log_resp = last[1], last[2]
            info.reused_steps += 1
        else:
            log_norm, log_resp, paid = e_step(x, mix, prune, info)
            prune = prune and paid
            last = (mix, log_norm, log_resp)
        with np.errstate(under="ignore"):
            resp = np.exp(log_resp)
        if np.array_equal(resp, resp_of_mix):
            # the M step of the same responsibilities gives the same means and covariances; only the
            # initialisation's weights (N_z / n) differ from an M step's (N_z / sum N), and often not in a bit
            info.reused_steps += 1
            if weights_by_n:
                nk = resp.sum(axis=0) + 10 * np.finfo(np.float64).eps
                weights = nk / nk.sum()
                if not np.array_equal(weights, mix.weights):
                    mix = FullMixture(weights, mix.means, mix.chol, mix.log_det)
                weights_by_n = False
        else:
            mix, resp_of_mix, weights_by_n = m_step(x, resp), resp, False
        lower_bound = float(np.mean(log_norm))
        info.n_iter = n_iter
        if abs(lower_bound - previous) < tol:
            info.converged = True
            break
    info.lower_bound = lower_bound
    info.prune = prune
    if max_iter > 0 and not info.converged:
        warnings.warn("Best performing initialization did not converge. Try different init parameters, or "
                      "increase max_iter, tol, or check for degenerate data.", ConvergenceWarning, stacklevel=2)
    if last is not None and last[0] is mix:
        log_resp = last[2]
        info.reused_steps += 1
    else:
        _, log_resp, _ = e_step(x, mix, prune, info)
    with np.errstate(under="ignore"):
        return mix, np.exp(log_resp), info


def posteriors(x: np.ndarray, mix: FullMixture, prune: bool = True) -> np.ndarray:
    """p(z | x_i) (n x Z) under a fitted mixture (scikit-learn's ``predict_proba``)."""
    _, log_resp, _ = e_step(np.ascontiguousarray(x, dtype=np.float64), mix, prune, FitInfo())
    with np.errstate(under="ignore"):
        return np.exp(log_resp)
