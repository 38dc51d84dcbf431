"""GBC: Gaussian Bhattacharyya Coefficient (Pandy, Agostinelli, Uijlings, Ferrari, Mensink; CVPR 2022).

Features are projected by PCA to ``pca_dim`` dimensions (64, as in the authors' experiments);
each class k is a Gaussian N(mu_k, Sigma_k) with biased per-dimension variances, and
    BC_ij = exp(-D_B(i, j)),  GBC = -sum_i sum_{j != i} BC_ij,
    D_B(i, j) = 1/8 sum_d (mu_id - mu_jd)^2 / s_d + 1/2 [sum_d ln s_d - 1/2 sum_d (ln v_id + ln v_jd)],
    s = (v_i + v_j) / 2,
the Bhattacharyya distance between the two Gaussians. Higher (closer to 0) is better.

``gaussian="diagonal"`` (default): v_k the per-dimension variances, floored at 1e-12 x their mean
(a relative floor, so the score is invariant to the features' scale; the authors floor at an
absolute 1e-4). ``gaussian="spherical"`` reproduces the authors' default in google-research
``stable_transfer/transferability/gbc.py`` exactly: per-dimension variances floored at the
absolute 1e-4, then averaged into one scalar v_k per class, and the log-determinant term taken
once for that scalar (1/2 [ln s - 1/2 (ln v_i + ln v_j)]), not d times as a spherical covariance
v_k I would give. Both are on the metric card.
"""
from __future__ import annotations

import numpy as np

from ..bundle import FeatureBundle
from ._linalg import bhattacharyya_diag, class_stats, class_variances, floor_variances, pca_project
from .base import Metric

#: The absolute variance floor of stable_transfer's GBC.
REFERENCE_VARIANCE_FLOOR = 1e-4


def bhattacharyya_spherical_reference(means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """stable_transfer's spherical D_B (K x K): scalar v_k = mean of max(var, 1e-4), log term once."""
    v = np.maximum(variances, REFERENCE_VARIANCE_FLOOR).mean(axis=1)  # (K,)
    s = 0.5 * (v[:, None] + v[None, :])
    sq = ((means[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
    d = sq / (8.0 * s) + 0.5 * (np.log(s) - 0.5 * (np.log(v)[:, None] + np.log(v)[None, :]))
    np.fill_diagonal(d, 0.0)
    return d


class GBC(Metric):
    """GBC = -sum_{i != j} exp(-D_B(i, j)) on PCA-reduced class Gaussians (Pandy et al., CVPR 2022)."""

    name = "gbc"
    summary = "GBC: minus the summed Bhattacharyya overlaps of class Gaussians (Pandy et al. 2022)"
    source = "Pandy et al., Transferability Estimation using Bhattacharyya Class Separability, CVPR 2022, Eq. 1-3"
    reference_code = "google-research/google-research stable_transfer/transferability/gbc.py"
    min_per_class = 2

    def __init__(self, pca_dim: int = 64, gaussian: str = "diagonal") -> None:
        if gaussian not in ("diagonal", "spherical"):
            raise ValueError(f"gaussian must be 'diagonal' or 'spherical', got {gaussian!r}")
        self.pca_dim, self.gaussian = int(pca_dim), gaussian

    def departure_notes(self) -> tuple[str, ...]:
        if self.gaussian == "spherical":
            return (
                "reproduces stable_transfer's default spherical Gaussian: absolute 1e-4 variance floor, one scalar "
                "variance per class, log-determinant term counted once (not d times); not scale-invariant",
            )
        return (
            "diagonal Gaussians (stable_transfer's option 'diagonal'; its default is 'spherical', see gaussian=)",
            "variances floored at 1e-12 x their mean instead of the reference's absolute 1e-4 (scale-invariant)",
            f"PCA to {self.pca_dim} dims by the eigendecomposition of the scatter or Gram matrix (same subspace as "
            "sklearn's PCA; component signs do not affect D_B)",
        )

    def compute(self, bundle: FeatureBundle) -> float:
        z = pca_project(bundle.features, self.pca_dim)
        st = class_stats(z, bundle.labels, bundle.num_classes)
        var = class_variances(st, bundle.labels)
        if self.gaussian == "spherical":
            dist = bhattacharyya_spherical_reference(st.means, var)
        else:
            dist = bhattacharyya_diag(st.means, floor_variances(var))
        bc = np.exp(-dist)
        np.fill_diagonal(bc, 0.0)
        return -float(bc.sum())
