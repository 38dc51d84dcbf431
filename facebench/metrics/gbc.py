"""GBC: Gaussian Bhattacharyya Coefficient (Pandy, Agostinelli, Uijlings, Ferrari, Mensink; CVPR 2022).

Features are projected by PCA to ``pca_dim`` dimensions (64 by default, as in the SFDA line of
evaluations); each class is a Gaussian with a diagonal (default) or spherical covariance (biased
variances, floored at 1e-12 x their mean instead of the reference's absolute 1e-4, so that the
score is scale-invariant);
    BC_ij = exp(-D_B(i, j)),  GBC = -sum_i sum_{j != i} BC_ij,
D_B the Bhattacharyya distance between the two Gaussians. Higher (closer to 0) is better.
"""
from __future__ import annotations

import numpy as np

from ..bundle import FeatureBundle
from ._linalg import bhattacharyya_diag, class_stats, class_variances, floor_variances, pca_project
from .base import Metric


class GBC(Metric):
    """GBC = -sum_{i != j} exp(-D_B(i, j)) on PCA-reduced class Gaussians (Pandy et al., CVPR 2022)."""

    name = "gbc"
    summary = "GBC: minus the summed Bhattacharyya overlaps of class Gaussians (Pandy et al. 2022)"
    min_per_class = 2

    def __init__(self, pca_dim: int = 64, gaussian: str = "diagonal") -> None:
        if gaussian not in ("diagonal", "spherical"):
            raise ValueError(f"gaussian must be 'diagonal' or 'spherical', got {gaussian!r}")
        self.pca_dim, self.gaussian = int(pca_dim), gaussian

    def compute(self, bundle: FeatureBundle) -> float:
        z = pca_project(bundle.features, self.pca_dim)
        st = class_stats(z, bundle.labels, bundle.num_classes)
        var = class_variances(st, bundle.labels)
        if self.gaussian == "spherical":
            var = np.repeat(var.mean(axis=1, keepdims=True), var.shape[1], axis=1)
        bc = np.exp(-bhattacharyya_diag(st.means, floor_variances(var)))
        np.fill_diagonal(bc, 0.0)
        return -float(bc.sum())
