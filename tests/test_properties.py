"""Property-based tests (hypothesis): every metric, and ``facebench score``, on hostile bundles.

Random shapes, singleton and degenerate classes, duplicate samples, constant or rank-one
features, huge (1e30) and tiny (1e-30) scales, float16/float32 input, peaked and uniform source
probabilities. The property: a finite number (or mapping of finite numbers), or a facebench error
that names the problem; never an uncaught library exception, never a NaN or inf that could reach
a board. Examples are derandomized, so a failure reproduces.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facebench.bundle import FeatureBundle
from facebench.errors import BadInputError, FacebenchError
from facebench.plugins import get_plugins
from facebench.score.zoo import score_zoo

EXAMPLES = 6  # per metric in the fast suite; the slow tests below run many more
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SCALES = (1.0, 1e30, 1e-30, 1e8, 1e-8)
DTYPES = (np.float64, np.float32, np.float16)
METRICS = sorted(get_plugins().metrics.names())


@st.composite
def hostile_arrays(draw):
    """(features, labels, probs) as a user might hand them over: any dtype, scale or degeneracy."""
    n_classes = draw(st.integers(2, 5))
    counts = draw(st.lists(st.integers(1, 9), min_size=n_classes, max_size=n_classes))
    d = draw(st.integers(1, 10))
    kind = draw(st.sampled_from(["normal", "separated", "constant", "duplicates", "rank-one", "one-hot"]))
    scale = draw(st.sampled_from(SCALES))
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    labels = np.repeat(np.arange(n_classes), counts)
    n = labels.size
    if kind == "normal":
        x = rng.normal(size=(n, d))
    elif kind == "separated":
        x = rng.normal(size=(n, d)) + 5 * np.eye(n_classes, d)[labels]
    elif kind == "constant":
        x = np.full((n, d), rng.normal())
    elif kind == "duplicates":
        x = np.repeat(rng.normal(size=(1, d)), n, axis=0) + (labels[:, None] == 0)
    elif kind == "rank-one":
        x = np.outer(rng.normal(size=n), rng.normal(size=d))
    else:
        x = np.eye(n_classes, d)[labels]
    n_src = draw(st.integers(2, 6))
    peaked = draw(st.sampled_from(["dirichlet", "one-hot", "uniform"]))
    if peaked == "dirichlet":
        probs = rng.dirichlet(np.ones(n_src), size=n)
    elif peaked == "one-hot":
        probs = np.eye(n_src)[rng.integers(0, n_src, size=n)]
    else:
        probs = np.full((n, n_src), 1.0 / n_src)
    perm = rng.permutation(n)
    return (x * scale).astype(dtype)[perm], labels[perm], probs.astype(dtype)[perm]


def bundle_or_none(arrays, name="m"):
    x, y, p = arrays
    try:
        return FeatureBundle.from_arrays(x, y, p, name=name)
    except BadInputError as exc:  # e.g. float16 overflowing to inf, probs rows off by rounding: named
        assert name in str(exc)
        return None


def assert_finite(value, where):
    items = value.items() if isinstance(value, dict) else [("", value)]
    for key, v in items:
        assert isinstance(v, (int, float, np.floating)) and math.isfinite(float(v)), f"{where}: {key} = {v!r}"


@pytest.mark.parametrize("name", METRICS)
@SETTINGS
@given(arrays=hostile_arrays())
def test_every_metric_gives_a_finite_value_or_a_named_error(name, arrays):
    bundle = bundle_or_none(arrays)
    if bundle is None:
        return
    metric = get_plugins().create_metric(name)
    try:
        with np.errstate(all="ignore"):
            value = metric.score(bundle)
    except FacebenchError as exc:
        message = str(exc)
        assert "\n" not in message and (name in message or bundle.name in message), message
        return
    assert_finite(value, f"{name} on {bundle.name}")


@pytest.mark.slow
@pytest.mark.parametrize("name", METRICS)
@settings(SETTINGS, max_examples=100)
@given(arrays=hostile_arrays())
def test_every_metric_on_many_more_examples(name, arrays):
    test_every_metric_gives_a_finite_value_or_a_named_error.hypothesis.inner_test(name, arrays)


@settings(SETTINGS, max_examples=3)
@given(zoo=st.lists(hostile_arrays(), min_size=2, max_size=4))
def test_zoo_scores_are_finite_or_recorded_as_errors(zoo):
    bundles = {f"m{i}": b for i, a in enumerate(zoo) if (b := bundle_or_none(a, f"m{i}")) is not None}
    metrics = {name: get_plugins().create_metric(name) for name in METRICS}
    result = score_zoo(metrics, bundles)
    for name in METRICS:
        assert_finite(result.scores[name], f"{name} zoo scores")
        scored = set(result.scores[name])
        assert scored.isdisjoint(m for m in result.errors[name] if m != "*"), name


@settings(SETTINGS, max_examples=2, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(zoo=st.lists(hostile_arrays(), min_size=2, max_size=3))
def test_facebench_score_prints_only_finite_numbers(zoo, tmp_path_factory, capsys):
    from facebench.cli import main

    d = tmp_path_factory.mktemp("bundles")
    for i, (x, y, p) in enumerate(zoo):
        np.savez(d / f"m{i}.npz", features=x, labels=y, probs=p)
    with pytest.raises(SystemExit) as info:
        main(["score", str(d), "--format", "json"])
    out, err = capsys.readouterr()
    assert info.value.code in (0, 1) and "Traceback" not in err
    scores = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-finite {c} printed"))
    for metric, per_model in scores.items():
        assert_finite(per_model, metric)


@pytest.mark.slow
@settings(SETTINGS, max_examples=40)
@given(zoo=st.lists(hostile_arrays(), min_size=2, max_size=4))
def test_zoo_scores_on_many_more_zoos(zoo):
    test_zoo_scores_are_finite_or_recorded_as_errors.hypothesis.inner_test(zoo)
