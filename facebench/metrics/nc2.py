"""Naive equiangularity NC2(A) of the FaCe appendix (Table 5), after Papyan et al. (PNAS 2020).

NC2(A) = || A A^T / ||A A^T||_F - (I_K - 1 1^T / K) / sqrt(K - 1) ||_F,
A (K x d) the target class means centred at the global mean of all samples (as in Eq. 3).
0 when the centred means form a simplex equiangular tight frame; the score is -NC2(A), so that
higher is better. Invariant to scaling, rotating and translating the features.
"""
from __future__ import annotations

import numpy as np

from ..bundle import FeatureBundle
from ._linalg import class_stats
from .base import Metric


class NC2(Metric):
    """-NC2(A): distance of the centred class-mean Gram matrix to a simplex ETF (FaCe appendix A.2)."""

    name = "nc2"
    summary = "-NC2(A): closeness of centred target class means to a simplex ETF (FaCe Table 5)"
    source = "Ding et al., arXiv:2310.05754, appendix A.2 / Table 5; Papyan et al., PNAS 2020 (NC2)"
    departures = (
        "class means centred at the global mean of all samples (Eq. 3's h_G), which weights classes by size; "
        "Papyan et al. centre at the mean of the class means (the same when classes are balanced)",
        "sign flipped (score = -NC2) so that higher is better",
    )

    def compute(self, bundle: FeatureBundle) -> float:
        k = bundle.num_classes
        st = class_stats(bundle.features, bundle.labels, k)
        a = st.means - st.global_mean
        gram = a @ a.T
        etf = (np.eye(k) - np.full((k, k), 1.0 / k)) / np.sqrt(k - 1)
        return -float(np.linalg.norm(gram / np.linalg.norm(gram) - etf))
