"""LEEP: Log Expected Empirical Prediction (Nguyen, Hassner, Seeger, Archambeau; ICML 2020).

With theta(x_i) the source classifier's softmax over Z source classes:
    P(y, z) = (1/n) sum_{i: y_i = y} theta(x_i)_z,   P(y | z) = P(y, z) / sum_y' P(y', z),
    LEEP = (1/n) sum_i ln sum_z P(y_i | z) theta(x_i)_z.
"""
from __future__ import annotations

import numpy as np

from ..bundle import FeatureBundle
from ._linalg import class_sums
from .base import Metric


class LEEP(Metric):
    """LEEP = (1/n) sum_i ln sum_z P(y_i|z) theta(x_i)_z (Nguyen et al., ICML 2020)."""

    name = "leep"
    summary = "LEEP: log expected empirical prediction from source probabilities (Nguyen et al. 2020)"
    source = "Nguyen et al., LEEP: A New Measure to Evaluate Transferability of Learned Representations, ICML 2020, Eq. 1-2"
    departures = ("P(y | z) is set to 0 for a source class z that no target sample gives any probability to",)
    needs = frozenset({"probs"})

    def compute(self, bundle: FeatureBundle) -> float:
        probs = bundle.probs
        assert probs is not None
        joint = class_sums(probs, bundle.labels, bundle.num_classes) / bundle.n
        marginal = joint.sum(axis=0)
        cond = np.divide(joint, marginal, out=np.zeros_like(joint), where=marginal > 0)  # P(y|z)
        eep = np.einsum("iz,iz->i", probs, cond[bundle.labels])
        return float(np.mean(np.log(eep)))
