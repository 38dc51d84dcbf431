"""A metric's own warnings reach its scores, model by model; pactran-gauss warns at its step cap."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from facebench.metrics import ConvergenceWarning
from facebench.metrics.base import Metric
from facebench.metrics.pactran import PACTranGaussian, pactran_gaussian
from facebench.score.zoo import score_zoo
from facebench.testing import make_bundle


class _Chatty(Metric):
    """Mean of the first feature; warns as its flags say (a stand-in for any plugin metric)."""

    name = "chatty"
    summary = "test metric that warns"
    needs = frozenset({"features"})

    def compute(self, bundle):
        if bundle.name == "a":
            warnings.warn("stopped at the cap", ConvergenceWarning)
            warnings.warn("stopped at the cap", ConvergenceWarning)  # the same message twice: kept once
            warnings.warn("old API", DeprecationWarning)  # a library's deprecation: not the metric's verdict
        if bundle.name == "b":
            warnings.warn("a plain user warning")
        return float(np.mean(bundle.features[:, 0]))


def test_metric_warnings_are_kept_per_model():
    bundles = {name: make_bundle(seed=i, name=name) for i, name in enumerate("abc")}
    result = score_zoo({"chatty": _Chatty()}, bundles)
    assert sorted(result.warnings["chatty"]) == ["model a: stopped at the cap", "model b: a plain user warning"]
    assert set(result.scores["chatty"]) == {"a", "b", "c"}  # a warning never costs the value


def test_pactran_warns_when_the_cap_is_reached():
    b = make_bundle(n_classes=3, per_class=20, dim=6, seed=1)
    with pytest.warns(ConvergenceWarning, match=r"stopped before gtol=1e-09 after 3 steps \(max_iter=3"):
        capped = pactran_gaussian(b.features, b.labels, b.num_classes, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # converged: no warning
        converged = pactran_gaussian(b.features, b.labels, b.num_classes)
    assert np.isfinite(capped) and capped != converged


def test_pactran_cap_warning_reaches_the_zoo_scores():
    bundles = {name: make_bundle(n_classes=3, per_class=20, dim=6, seed=i, name=name) for i, name in enumerate("xy")}
    result = score_zoo({"pactran-gauss": PACTranGaussian(max_iter=2)}, bundles)
    notes = result.warnings["pactran-gauss"]
    assert len(notes) == 2 and {n.split(":")[0] for n in notes} == {"model x", "model y"}
    assert set(result.scores["pactran-gauss"]) == {"x", "y"}
