"""H-score (Bao, Li, Huang, Zhang, Zheng, Zamir, Guibas; ICIP 2019).

H(f) = tr(cov(f)^+ cov(E[f | y])),  cov(E[f|y]) = (1/n) sum_k n_k (mu_k - mu)(mu_k - mu)^T.
So H = sum_k (n_k / n) (mu_k - mu)^T cov(f)^+ (mu_k - mu). Biased covariances (the 1/n factors
cancel in the ratio). The pseudo-inverse drops eigenvalues below d * eps * the largest, rather
than the reference code's rcond=1e-15, which inverts rounding noise when cov(f) is singular.
Invariant to invertible linear maps of the features.

Degenerate when n <= d: the centred samples span an (n - 1)-dimensional space that contains
every centred class mean, so H = tr(Q P) = tr(Q) = K - 1 for every model (Q, P the projections
on the centred class indicators and on that span), up to rounding; the board then reports no
statistic for it (:mod:`facebench.resolution`).
"""
from __future__ import annotations

import numpy as np

from ..bundle import FeatureBundle
from ._backend import eigh, gram
from ._linalg import EPS, class_stats
from .base import Metric


class HScore(Metric):
    """H-score = tr(cov(f)^+ cov(E[f|y])) (Bao et al., ICIP 2019)."""

    name = "hscore"
    summary = "H-score: tr(cov(f)^+ cov(E[f|y])) (Bao et al. 2019)"
    source = "Bao et al., An information-theoretic approach to transferability in task transfer learning, ICIP 2019"
    reference_code = "google-research stable_transfer/transferability/hscore.py (np.linalg.pinv, rcond=1e-15)"
    departures = (
        "pseudo-inverse drops eigenvalues below d x eps x the largest, not the reference's rcond=1e-15 (which inverts "
        "rounding noise when cov(f) is singular)",
        "degenerates when n <= d: cov(f)^+ then acts on the whole span of the centred samples and H = K - 1 (the rank "
        "of cov(E[f|y])) for every model, so its scores are constant and no statistic is reported",
    )

    def compute(self, bundle: FeatureBundle) -> float:
        x = bundle.features
        n, d = x.shape
        st = class_stats(x, bundle.labels, bundle.num_classes)
        xc = x - st.global_mean
        centred_means = st.means - st.global_mean
        if n < d:
            # cov(f) = xc^T xc / n shares its non-zero eigenvalues with the n x n xc xc^T / n, whose
            # eigenvectors u give cov's as v = xc^T u / sqrt(n w): the same terms in O(n^2 d), not O(d^3)
            w, u = eigh(xc @ xc.T / n)
            keep = w > max(w[-1], 0.0) * d * EPS
            m = (centred_means @ xc.T) @ u[:, keep] / np.sqrt(n * w[keep])
        else:
            w, v = eigh(gram(xc) / n)
            keep = w > max(w[-1], 0.0) * d * EPS
            m = centred_means @ v[:, keep]  # K x r
        return float(np.sum((st.counts / n)[:, None] * m**2 / w[keep]))
