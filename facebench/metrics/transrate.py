"""TransRate (Huang, Huang, Ji, Li, Yang; "Frustratingly easy transferability estimation", ICML 2022).

The transferability of features Z (n x d) to labels Y is the gap between their coding rate and
their coding rate given the classes (an estimate of the mutual information I(Z; Y) through Ma et
al.'s lossy coding rate, which stands in for entropy):

    TrR(Z, Y) = R(Z, eps) - R(Z, eps | Y),
    R(Z, eps) = 1/2 ln det(I_d + a Z^T Z),
    R(Z, eps | Y) = sum_k w_k R(Z_k, eps),  Z_k the rows of class k.

Z is centred by its global mean first; the class blocks Z_k keep that centring (they are not
re-centred on their class mean), as in TLlib. Two readings of the constants, both kept:

* ``reading="code"`` (default, as thuml's TLlib ``tllib/ranking/transrate.py``, the most used
  implementation): a = 1 / (n eps) with n the rows of the matrix being coded (n_k for Z_k), and
  w_k = 1 / K; eps = 1e-4.
* ``reading="mcr2"``: a = d / (n eps^2), the coding rate of Ma et al. (TPAMI 2007) as Yu et al.'s
  MCR^2 (NeurIPS 2020) writes it, with class weights w_k = n_k / n (the empirical p(y)). Kept as an
  option; not checked here against the TransRate paper's own typesetting.

ln det(I_d + a Z^T Z) = sum_i ln(1 + a s_i) over the eigenvalues s_i of the smaller of Z^T Z and
Z Z^T, so classes with n_k < d cost an n_k x n_k eigendecomposition, not d x d.
"""
from __future__ import annotations

import numpy as np

from ..bundle import FeatureBundle
from ._linalg import logdet_identity_plus_gram
from .base import Metric

READINGS = ("code", "mcr2")


def coding_rate(z: np.ndarray, eps: float, reading: str = "code") -> float:
    """R(Z, eps) = 1/2 ln det(I_d + a Z^T Z), a = 1/(n eps) ("code") or d/(n eps^2) ("mcr2")."""
    n, d = z.shape
    scale = 1.0 / (n * eps) if reading == "code" else d / (n * eps**2)
    return 0.5 * logdet_identity_plus_gram(z, scale)


def transrate(features: np.ndarray, labels: np.ndarray, num_classes: int, eps: float = 1e-4,
              reading: str = "code") -> float:
    """TrR = R(Z, eps) - sum_k w_k R(Z_k, eps) on globally centred Z (see the module docstring)."""
    z = features - features.mean(axis=0)
    n = z.shape[0]
    whole = coding_rate(z, eps, reading)
    conditional = 0.0
    for k in range(num_classes):
        zk = z[labels == k]
        weight = 1.0 / num_classes if reading == "code" else zk.shape[0] / n
        conditional += weight * coding_rate(zk, eps, reading)
    return whole - conditional


class TransRate(Metric):
    """TransRate = R(Z, eps) - R(Z, eps | Y), coding rates of centred features (Huang et al., ICML 2022, Eq. 4).

    ``eps`` is the distortion (1e-4, the TLlib default); ``reading`` picks the constants of the
    coding rate (module docstring): ``"code"`` (default) or ``"mcr2"``. Needs features only;
    one sample per class suffices.
    """

    name = "transrate"
    summary = "TransRate: coding rate of the features minus their rate given the class (Huang et al. 2022)"
    source = "Huang et al., Frustratingly easy transferability estimation, ICML 2022 (TrR = R(Z, eps) - R(Z, eps | Y))"
    reference_code = "thuml/Transfer-Learning-Library tllib/ranking/transrate.py @ c4aa59e"

    def __init__(self, eps: float = 1e-4, reading: str = "code") -> None:
        if reading not in READINGS:
            raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        self.eps, self.reading = float(eps), reading

    def departure_notes(self) -> tuple[str, ...]:
        notes = [
            "ln det via the eigenvalues of the smaller Gram matrix (Z Z^T when n_k < d) instead of slogdet of "
            "the d x d matrix: equal up to rounding",
        ]
        if self.reading == "mcr2":
            notes.append("reading='mcr2': a = d/(n eps^2) and class weights n_k/n, not TLlib's 1/(n eps) and 1/K")
        return tuple(notes)

    def compute(self, bundle: FeatureBundle) -> float:
        return transrate(bundle.features, bundle.labels, bundle.num_classes, self.eps, self.reading)
