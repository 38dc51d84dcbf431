"""Templates of a metric plugin package (``string.Template``: ``$name`` placeholders, ``$$`` for a dollar).

Placeholders: ``$metric`` (registry name, e.g. ``my-metric``), ``$ident`` (python identifier),
``$package`` (import package), ``$dist`` (distribution name), ``$cls`` (metric class),
``$facebench_version``.
"""

PYPROJECT = '''\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "facebench plugin: the $metric transferability metric."
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["facebench>=$facebench_version", "numpy>=1.26"]

# facebench loads plugins from this entry-point group; the module holds the @hookimpl functions.
[project.entry-points.facebench]
$metric = "$package.plugin"

[project.optional-dependencies]
test = ["pytest>=8"]

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["src"]   # the tests run before the package is installed
addopts = "-p no:cacheprovider"
'''

INIT = '''\
"""$dist: the $metric transferability metric, a facebench plugin."""
from .metric import $cls

__version__ = "0.1.0"
__all__ = ["$cls", "__version__"]
'''

PLUGIN = '''\
"""facebench hook implementations (entry point ``$metric`` in group ``facebench``)."""
from facebench import hookimpl

from .metric import $cls


@hookimpl
def facebench_metrics():
    return [$cls]
'''

METRIC = '''\
"""The $metric metric."""
from __future__ import annotations

import numpy as np

from facebench.bundle import FeatureBundle
from facebench.metrics.base import Metric


def nearest_centroid_accuracy(features: np.ndarray, labels: np.ndarray, num_classes: int) -> float:
    """Fraction of samples nearer (euclidean) to their own class mean than to any other class mean."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    means = np.zeros((num_classes, features.shape[1]))
    np.add.at(means, labels, features)
    means /= counts[:, None]
    # |h - mu_c|^2 = |h|^2 - 2 h.mu_c + |mu_c|^2; |h|^2 is the same for every class.
    d2 = (means**2).sum(axis=1)[None, :] - 2.0 * features @ means.T
    return float(np.mean(np.argmin(d2, axis=1) == labels))


class $cls(Metric):
    """TODO one line: what $metric measures (nearest-centroid accuracy in this template).

    Formula (TODO: replace with yours; name every symbol):

        mu_c = (1/n_c) sum_{y_i = c} h_i                       class means of the features h
        y_hat_i = argmin_c |h_i - mu_c|                         nearest class mean
        score = (1/n) sum_i 1[y_hat_i = y_i]                    higher = more transferable

    Source: TODO (paper, equation numbers; "nearest class mean classifier", Mensink et al., 2013).
    Needs: features only (add "probs" to ``needs`` if the formula uses the source classifier's
    softmax, ``bundle.probs``). min_per_class: 1 (raise it if the formula needs e.g. a class
    covariance; Metric.check() then rejects smaller classes with a clear error).
    Invariant to relabelling the classes and to the order of the samples.
    """

    name = "$metric"
    summary = "TODO one line for `facebench list metrics` (template: nearest-centroid accuracy)"
    needs = frozenset({"features"})
    min_per_class = 1

    def __init__(self) -> None:
        # Constructor parameters: store each as an attribute of the same name (they are recorded
        # with every score and settable from configs: metrics: {$metric: {param: value}}).
        pass

    def compute(self, bundle: FeatureBundle) -> float:
        return nearest_centroid_accuracy(bundle.features, bundle.labels, bundle.num_classes)
'''

TEST = '''\
"""Tests of $metric: the facebench conformance kit, plus a case worked by hand."""
import numpy as np
import pytest

from facebench.bundle import FeatureBundle
from facebench.testing import MetricConformance
from $package.metric import $cls


class Test${cls}Conformance(MetricConformance):
    """Finite, deterministic, invariant to label renaming and sample order, needs honoured, registered."""

    metric = $cls
    plugin_module = "$package.plugin"  # checks registration without installing the package


def test_hand_worked_case():
    # TODO: replace with a case worked by hand for your formula.
    # Class 0 at 0 and 1 (mean 0.5), class 1 at 3 and 10 (mean 6.5): the sample at 3 is nearer
    # 0.5 (2.5) than 6.5 (3.5), so it is misclassified; the other three are right => 3/4.
    bundle = FeatureBundle.from_arrays(np.array([[0.0], [1.0], [3.0], [10.0]]), np.array([0, 0, 1, 1]))
    assert $cls().score(bundle) == pytest.approx(0.75)
'''

README = '''\
# $dist

A [facebench](https://pypi.org/project/facebench/) plugin adding the transferability metric
**`$metric`** (class `$cls` in `src/$package/metric.py`).

## Develop

1. Write the formula in `$cls.compute` and its docstring (formula, source, needs, min_per_class).
2. Replace the hand-worked case in `tests/test_$ident.py`, then run the tests, which include the
   facebench conformance kit (`facebench.testing.MetricConformance`):

   ```bash
   python -m pytest
   ```

3. Install it so that facebench finds it through the `facebench` entry-point group:

   ```bash
   pip install -e .
   facebench list metrics            # shows $metric
   facebench score FEATURES_DIR --metric $metric --format json
   ```

   Without installing: `FACEBENCH_PLUGINS=$package.plugin` with `src/` on `PYTHONPATH`.
'''

FILES = {
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    "src/$package/__init__.py": INIT,
    "src/$package/plugin.py": PLUGIN,
    "src/$package/metric.py": METRIC,
    "tests/test_$ident.py": TEST,
}
