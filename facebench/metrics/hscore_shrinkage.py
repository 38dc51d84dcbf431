"""Shrinkage H-score (Ibrahim, Ponomareva, Mazumder; "Newer is not always better: rethinking
transferability metrics, their peculiarities, stability and performance", ICLR 2023, Sec. 4).

The H-score tr(cov(f)^-1 cov(g)), g = E[f | y], inverts a d x d feature covariance estimated from
n samples, which is unstable when d is large against n. The regularised H-score replaces cov(f)
by the Ledoit-Wolf shrinkage estimate and shrinks the between-class covariance by the same factor:

    cov_a(f) = (1 - a) cov(f) + a (tr(cov(f)) / d) I,
    H_a(f)  = tr( cov_a(f)^-1 (1 - a) cov(g) ),   cov(g) = sum_k (n_k/n) (mu_k - mu)(mu_k - mu)^T,

with a the Ledoit-Wolf (2004) optimal shrinkage, computed by scikit-learn's
``sklearn.covariance.LedoitWolf`` (biased covariances, features centred); cov(g) is biased too. Since cov(g) has rank
< K, H_a = (1 - a) sum_k (n_k/n) (mu_k - mu)^T cov_a(f)^-1 (mu_k - mu), one Cholesky solve.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from sklearn.covariance import LedoitWolf

from ..bundle import FeatureBundle
from ._linalg import class_stats
from .base import input_errors_named
from .base import Metric


def shrinkage_hscore(features: np.ndarray, labels: np.ndarray, num_classes: int,
                     block_size: int = 1000) -> tuple[float, float]:
    """(H_a, a): the Ledoit-Wolf-shrunk H-score and the shrinkage a (module docstring)."""
    st = class_stats(features, labels, num_classes)
    lw = LedoitWolf(store_precision=False, assume_centered=False, block_size=block_size).fit(features)
    shrinkage = float(lw.shrinkage_)
    m = st.means - st.global_mean  # K x d
    solved = cho_solve(cho_factor(lw.covariance_, lower=True), m.T)  # d x K
    per_class = np.einsum("kd,dk->k", m, solved)
    return float((1.0 - shrinkage) * np.sum(st.counts / features.shape[0] * per_class)), shrinkage


class ShrinkageHScore(Metric):
    """Shrinkage H-score H_a = tr(cov_a(f)^-1 (1 - a) cov(E[f|y])), Ledoit-Wolf a (Ibrahim et al., ICLR 2023).

    Needs features only; one sample per class suffices. ``block_size`` is scikit-learn's memory
    block for the Ledoit-Wolf shrinkage (it does not change the value).
    """

    name = "hscore-shrinkage"
    summary = "Regularised H-score with Ledoit-Wolf shrinkage of the feature covariance (Ibrahim et al. 2023)"
    source = "Ibrahim et al., Newer is not always better, ICLR 2023, Sec. 4 (shrinkage-based H-score)"
    reference_code = ("thuml/Transfer-Learning-Library tllib/ranking/hscore.py regularized_h_score @ c4aa59e "
                      "(no release by the paper's authors found); shrinkage by sklearn.covariance.LedoitWolf")
    departures = (
        "cov(E[f|y]) is the biased (1/n) covariance, like the Ledoit-Wolf cov_a(f) it is divided by; TLlib takes "
        "np.cov (1/(n-1)) for it, so TLlib's value is this one times n/(n-1) (same ranking on one target)",
    )

    def __init__(self, block_size: int = 1000) -> None:
        self.block_size = int(block_size)

    def compute(self, bundle: FeatureBundle) -> float:
        with input_errors_named(self.name, bundle.name, "the Cholesky factorisation of the shrunk covariance"):
            return shrinkage_hscore(bundle.features, bundle.labels, bundle.num_classes, self.block_size)[0]
