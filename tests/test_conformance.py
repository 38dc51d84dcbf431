"""The conformance kit (facebench.testing): every built-in passes, and each broken metric is caught."""
from __future__ import annotations

import numpy as np
import pytest

from facebench.errors import MetricInputError
from facebench.metrics.base import Metric
from facebench.plugins import BUILTIN_PLUGINS, get_plugins
from facebench.testing import (
    ConformanceError,
    MetricConformance,
    check_combine,
    check_declaration,
    check_finite_deterministic,
    check_label_renaming,
    check_metric,
    check_min_per_class,
    check_needs,
    check_registered,
    check_sample_permutation,
    make_bundle,
)

BUILTIN_METRICS = [e.name for e in get_plugins().metrics.entries() if e.plugin in BUILTIN_PLUGINS]


@pytest.mark.parametrize("name", BUILTIN_METRICS)
def test_every_builtin_metric_conforms(name):
    metric = check_metric(name)  # by name: registration is checked too
    assert metric.name == name


class TestGBCThroughTheMixin(MetricConformance):
    metric = "gbc"
    params = {"pca_dim": 4}


def test_make_bundle_is_valid():
    b = make_bundle(per_class=[5, 7, 2], dim=3, n_source=4)
    assert b.n == 14 and b.dim == 3 and b.num_classes == 3
    assert list(b.class_counts) == [5, 7, 2]
    np.testing.assert_allclose(b.probs.sum(axis=1), 1.0)
    assert make_bundle(probs=False).probs is None


# --------------------------------------------------------------------------------------------
# broken metrics: each must fail the check that is about its defect, with a helpful message
# --------------------------------------------------------------------------------------------
class Good(Metric):
    """Mean distance of the samples to the global mean (a valid, boring metric)."""

    name = "good"
    summary = "a valid metric"

    def compute(self, bundle):
        return float(np.linalg.norm(bundle.features - bundle.features.mean(axis=0), axis=1).mean())


class NoDoc(Good):
    name = "nodoc"


NoDoc.__doc__ = None


class Spaced(Good):
    """Bad name."""

    name = "bad name"


class HiddenParam(Good):
    """Stores its parameter under another name, so params() cannot rebuild it."""

    name = "hidden"

    def __init__(self, k: int = 3) -> None:
        self._k = k


class Random(Good):
    """Not deterministic."""

    name = "random"

    def compute(self, bundle):
        return float(np.random.default_rng().normal())


class Mutating(Good):
    """Centres the features in place."""

    name = "mutating"

    def compute(self, bundle):
        bundle.features[:] -= bundle.features.mean(axis=0)
        return 1.0


class NotFinite(Good):
    """Returns NaN."""

    name = "nan"

    def compute(self, bundle):
        return float("nan")


class LabelOrder(Good):
    """Depends on which class is numbered 0."""

    name = "label-order"

    def compute(self, bundle):
        return float(bundle.features[bundle.labels == 0].mean())


class SampleOrder(Good):
    """Depends on the order of the samples."""

    name = "sample-order"

    def compute(self, bundle):
        return float(bundle.features[0, 0])


class TwoDefects(Good):
    """Depends on the sample order and on the label numbering."""

    name = "two-defects"

    def compute(self, bundle):
        return float(bundle.features[0, 0] + bundle.features[bundle.labels == 0].mean())


class SecretProbs(Good):
    """Uses probs when present without declaring them."""

    name = "secret-probs"

    def compute(self, bundle):
        return 1.0 if bundle.probs is None else float(bundle.probs.max(axis=1).mean())


class UncheckedProbs(Good):
    """Declares probs but overrides score() without the check: crashes with a TypeError."""

    name = "unchecked-probs"
    needs = frozenset({"probs"})

    def score(self, bundle):
        return float(bundle.probs.max())


class VagueError(Good):
    """Declares probs and raises an error that names nothing."""

    name = "vague"
    needs = frozenset({"probs"})

    def score(self, bundle):
        if bundle.probs is None:
            raise MetricInputError("missing input")
        return 1.0


class IgnoresMinPerClass(Good):
    """Declares min_per_class=3 but skips Metric.check()."""

    name = "ignores-min"
    min_per_class = 3

    def score(self, bundle):
        return self.compute(bundle)


class TooStrictForItsDeclaration(Good):
    """Declares min_per_class=1 but fails on a singleton class."""

    name = "too-strict"

    def compute(self, bundle):
        if bundle.class_counts.min() < 2:
            raise MetricInputError(f"{bundle.name}: metric 'too-strict' needs 2 per class")
        return 1.0


class BadCombine(Good):
    """combine() drops the models."""

    name = "bad-combine"

    def combine(self, values):
        return {"zoo": 1.0}


@pytest.mark.parametrize(
    "cls, check, message",
    [
        (NoDoc, check_declaration, "no docstring"),
        (Spaced, check_declaration, "without spaces"),
        (HiddenParam, check_declaration, "not stored as attributes"),
        (Random, check_finite_deterministic, "not deterministic"),
        (Mutating, check_finite_deterministic, "modified the bundle"),
        (NotFinite, check_finite_deterministic, "non-finite"),
        (LabelOrder, check_label_renaming, "renaming the labels"),
        (SampleOrder, check_sample_permutation, "order of the samples"),
        (SecretProbs, check_needs, "without declaring"),
        (UncheckedProbs, check_needs, "expected a facebench error"),
        (VagueError, check_needs, "names neither the metric nor the bundle"),
        (IgnoresMinPerClass, check_min_per_class, "expected a facebench error"),
        (TooStrictForItsDeclaration, check_min_per_class, "exactly min_per_class=1"),
        (BadCombine, check_combine, "one score per model"),
    ],
)
def test_broken_metric_is_caught(cls, check, message):
    with pytest.raises(ConformanceError, match=message) as info:
        check(cls())
    assert repr(cls.name) in str(info.value) or cls.__name__ in str(info.value)


def test_good_metric_passes_and_check_metric_lists_every_failure():
    assert isinstance(check_metric(Good), Good)
    with pytest.raises(ConformanceError) as info:
        check_metric(TwoDefects)
    text = str(info.value)
    assert "[sample_permutation]" in text and "[label_renaming]" in text  # both defects reported at once
    assert "[declaration]" not in text


def test_registration_checks():
    assert check_registered("face") is get_plugins().metrics.get("face")
    with pytest.raises(ConformanceError, match="not registered"):
        check_registered("no-such-metric")
    with pytest.raises(ConformanceError, match="registered as"):
        check_registered("face", Good)
    with pytest.raises(ConformanceError, match="plugin"):
        check_registered("good", Good, plugin_module="no_such_module_xyz")
    with pytest.raises(ConformanceError, match="unknown metric"):
        check_metric("no-such-metric")


def test_metric_params_are_passed():
    metric = check_metric("face", t=0.1)
    assert metric.params()["t"] == 0.1
