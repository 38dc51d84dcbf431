"""A metric's failure names the line that raised it, and blames the data only when a numerical
library raised (a plugin's own bug is not "constant features")."""
from __future__ import annotations

import numpy as np

from facebench.errors import raised_at
from facebench.metrics.base import Metric
from facebench.score.zoo import score_zoo
from facebench.testing import make_bundle


class _Faulty(Metric):
    """Fails as the bundle's name says: a plugin's own bug, or a singular matrix inside numpy."""

    name = "faulty"
    summary = "test metric that fails"
    needs = frozenset({"features"})

    def compute(self, bundle):
        if bundle.name == "key":
            return {}["oops"]  # a plugin's own bug (KeyError is not a numerical failure)
        if bundle.name == "value":
            raise ValueError("my own check failed")
        if bundle.name == "singular":
            return float(np.linalg.inv(np.zeros((3, 3)))[0, 0])  # numpy raises LinAlgError
        return 1.0


def _line_of(text: str) -> int:
    """The line of this file holding ``text`` (computed, so the test does not hard-code numbers)."""
    with open(__file__, encoding="utf-8") as fh:
        return next(i for i, line in enumerate(fh, 1) if text in line and "_line_of" not in line)


def test_errors_name_the_raising_line_and_blame_data_only_for_library_failures():
    bundles = {name: make_bundle(seed=i, name=name) for i, name in enumerate(["key", "value", "singular", "fine"])}
    errors = score_zoo({"faulty": _Faulty()}, bundles).errors["faulty"]
    assert set(errors) == {"key", "value", "singular"}
    here = __file__.rsplit("/", 1)[-1]
    assert errors["key"].startswith("KeyError: 'oops'")
    assert f"{here}:{_line_of('return {}[')} in compute" in errors["key"]
    assert "my own check failed" in errors["value"]
    assert f"{here}:{_line_of('raise ValueError(')} in compute" in errors["value"]
    assert "constant" not in errors["value"] and "constant" not in errors["key"]
    # numpy raised: the place is this file's line that called it, and the data hint is given
    assert "LinAlgError" in errors["singular"]
    assert f"{here}:{_line_of('np.linalg.inv(')} in compute" in errors["singular"]
    assert "are the features constant" in errors["singular"]


def test_raised_at_without_a_traceback():
    assert raised_at(ValueError("never raised")) == ("", False)


def test_did_you_mean_ignores_case():
    from facebench.suggest import did_you_mean

    assert did_you_mean("LogME", ["logme", "leep", "nce"]) == "; did you mean logme?"
    assert did_you_mean("lgme", ["logme", "leep"]).startswith("; did you mean logme")
    assert did_you_mean("zzzz", ["logme"]) == ""
