"""NCE: Negative Conditional Entropy (Tran, Nguyen, Hassner; ICCV 2019).

With hard source labels z_i = argmax_z theta(x_i)_z (as in the LogME authors' implementation):
    P(y, z) = (1/n) #{i: y_i = y, z_i = z},
    NCE = -H(Y | Z) = sum_{y,z} P(y, z) ln (P(y, z) / P(z)).
"""
from __future__ import annotations

import numpy as np

from ..bundle import FeatureBundle
from .base import Metric


class NCE(Metric):
    """NCE = -H(Y|Z), Z the source classifier's argmax label (Tran et al., ICCV 2019)."""

    name = "nce"
    summary = "NCE: negative conditional entropy of target given source argmax labels (Tran et al. 2019)"
    source = "Tran et al., Transferability and Hardness of Supervised Classification Tasks, ICCV 2019"
    reference_code = "thuml/LogME NCE.py"
    departures = (
        "source labels are the source classifier's argmax on the target samples (as thuml's NCE.py): the original "
        "NCE uses true source labels of the same inputs, which target data do not have",
    )
    needs = frozenset({"probs"})

    def compute(self, bundle: FeatureBundle) -> float:
        assert bundle.probs is not None
        z = np.argmax(bundle.probs, axis=1)
        _, z = np.unique(z, return_inverse=True)
        nz_classes = int(z.max()) + 1
        counts = np.bincount(bundle.labels * nz_classes + z, minlength=bundle.num_classes * nz_classes)
        joint = counts.reshape(bundle.num_classes, nz_classes) / bundle.n
        pz = joint.sum(axis=0)
        nz = joint > 0
        return float(np.sum(joint[nz] * np.log((joint / pz)[nz])))
