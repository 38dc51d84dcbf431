"""face-cf-literal's ``precision``: float64 (the default) is the exact method, unchanged; float32 runs the
low-rank route's two big products in float32 and agrees with float64 within the tolerance stated in the
metric's docstring and card (relative 1e-5 on every D_ij and on F; measured: benchmarks/metric_speed_face_cf.md)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from facebench.bundle import FeatureBundle
from facebench.metrics import face
from facebench.metrics.face import bhattacharyya_full, fairness_from_distances
from facebench.plugins import get_plugins
from facebench.testing import check_metric

TOLERANCE = face.FLOAT32_TOLERANCE  # the stated one, 1e-5 (ClassFairnessLiteral's docstring and card)
assert TOLERANCE == 1e-5


def metric(name, **params):
    return get_plugins().create_metric(name, **params)


def gaussian(n, d, k, seed):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    rng.shuffle(y)
    x = rng.standard_normal((n, d)) + 0.5 * rng.standard_normal((k, d))[y] + 0.3
    return x.astype(np.float32), y


def relu_latent(n, d, k, seed, latent=16):
    """Every class from one ReLU map of a small latent space: strongly overlapping class subspaces."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    w = rng.standard_normal((latent, d)) / np.sqrt(latent)
    z = rng.standard_normal((n, latent)) + rng.standard_normal((k, latent))[y]
    return np.maximum(z @ w, 0.0).astype(np.float32), y


def shared_subspace(n, d, k, seed, dim=40, noise=1e-4):
    """Classes in one dim-dimensional subspace (+ tiny isotropic noise): their covariances nearly share
    it, so S = (Sigma_i + Sigma_j)/2 is ill-conditioned in the low-rank route (as raw pixels make it)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    basis = np.linalg.qr(rng.standard_normal((d, dim)))[0]
    z = rng.standard_normal((n, dim)) + 2.0 * rng.standard_normal((k, dim))[y]
    return (z @ basis.T + noise * rng.standard_normal((n, d))).astype(np.float32), y


def lowrank_route_count(monkeypatch):
    """Counts the pairs computed by the float64 low-rank function (with float32: those it recomputed)."""
    calls = {"n": 0}
    real = face._lowrank_pair

    def counted(*args):
        calls["n"] += 1
        return real(*args)

    monkeypatch.setattr(face, "_lowrank_pair", counted)
    return calls


def assert_agree(x, y, k, ridge, tolerance=TOLERANCE):
    d64 = bhattacharyya_full(x, y, k, ridge, "float64")
    d32 = bhattacharyya_full(x, y, k, ridge, "float32")
    off = ~np.eye(k, dtype=bool)
    rel = np.abs(d32 - d64)[off] / np.abs(d64)[off]
    assert rel.max() <= tolerance, rel.max()
    for row in ("others", "all"):
        f64, f32 = fairness_from_distances(d64, 0.05, row), fairness_from_distances(d32, 0.05, row)
        assert abs(f32 - f64) <= tolerance * abs(f64) + 1e-300, (row, f32, f64)
    return d64, d32


@pytest.mark.parametrize("shape", [(400, 128, 8), (720, 256, 12)])  # n_k - 1 + n_k - 1 < d: the low-rank route
@pytest.mark.parametrize("seed", [0, 1])
def test_the_default_is_float64_unchanged(shape, seed):
    """The default equals explicit precision='float64' and the function called as before the option
    (no precision argument), bit for bit; the float64 route is the code path that existed before."""
    n, d, k = shape
    x, y = gaussian(n, d, k, seed)
    before = bhattacharyya_full(x, y, k, 0.01)
    default = metric("face-cf-literal", ridge=0.01)
    explicit = metric("face-cf-literal", ridge=0.01, precision="float64")
    b = FeatureBundle.from_arrays(x, y, None)
    assert np.array_equal(default.distances(b), before)
    assert np.array_equal(explicit.distances(FeatureBundle.from_arrays(x, y, None)), before)
    assert default.score(b) == explicit.score(FeatureBundle.from_arrays(x, y, None))
    assert default.params()["precision"] == "float64"


@pytest.mark.parametrize("ridge", [1e-10, 1e-2, 1.0, 100.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("make", [gaussian, relu_latent])
def test_float32_agrees_with_float64_within_the_stated_tolerance(make, seed, ridge):
    x, y = make(600, 160, 10, seed)
    assert_agree(x, y, 10, ridge)


def test_float32_uses_float32_where_it_can_and_float64_where_it_cannot(monkeypatch):
    """Well-conditioned pairs stay in float32 (not one falls back); classes sharing a subspace (S
    numerically singular in float32) are given back to float64, so the tolerance still holds."""
    calls = lowrank_route_count(monkeypatch)
    x, y = gaussian(600, 160, 10, 0)
    bhattacharyya_full(x, y, 10, 1e-10, "float32")
    assert calls["n"] == 0

    x, y = shared_subspace(600, 160, 10, 0)
    calls["n"] = 0
    bhattacharyya_full(x, y, 10, 1e-10, "float32")
    assert calls["n"] > 0
    assert_agree(x, y, 10, 1e-10)


def test_when_row_0_gives_most_pairs_back_the_other_rows_run_in_float64(monkeypatch):
    calls = lowrank_route_count(monkeypatch)
    x, y = shared_subspace(600, 160, 10, 0)
    d32 = bhattacharyya_full(x, y, 10, 1e-10, "float32")
    assert calls["n"] == 45  # every pair: row 0's 9 given back, then rows 1-8 directly
    np.testing.assert_array_equal(d32[1:, 1:], bhattacharyya_full(x, y, 10, 1e-10)[1:, 1:])


@pytest.mark.parametrize("make", [gaussian, shared_subspace])
def test_float32_does_not_depend_on_the_number_of_workers(monkeypatch, make):
    from facebench.metrics import _linalg

    x, y = make(600, 160, 10, 3)
    runs = []
    for cores in (1, 3):
        monkeypatch.setattr(_linalg, "available_cores", lambda cores=cores: cores)
        runs.append(bhattacharyya_full(x, y, 10, 1e-10, "float32"))
    np.testing.assert_array_equal(runs[0], runs[1])


FMNIST = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not FMNIST.is_dir(), reason="apt package dataset-fashion-mnist not installed")
def test_the_guard_keeps_the_tolerance_on_raw_pixels(monkeypatch):
    """Raw Fashion-MNIST pixels, 100 per class (d = 784, the low-rank route): nearly shared class
    subspaces, where the float32 products alone miss float64 by more than the tolerance (1.3e-4 at
    ridge 1e-10; 3e-2 with 300 per class) and the guarded option does not."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from face_cf_precision import fmnist_bundle

    b = fmnist_bundle(100)
    x, y = b.features, b.labels
    for ridge in (1e-10, 1.0):
        assert_agree(x, y, 10, ridge)
    monkeypatch.setattr(face, "FLOAT32_TOLERANCE", np.inf)  # the guard off: every float32 pair kept
    with pytest.raises(AssertionError):
        assert_agree(x, y, 10, 1e-10)


def test_the_dense_route_is_float64_either_way():
    x, y = gaussian(600, 20, 4, 0)  # n_k >= d: S formed densely
    assert np.array_equal(bhattacharyya_full(x, y, 4, 0.01, "float32"), bhattacharyya_full(x, y, 4, 0.01))


def test_precision_is_a_recorded_parameter_and_enters_the_score_key():
    from facebench.runner.score import TargetScorer

    single = metric("face-cf-literal", precision="float32")
    assert single.params() == {"t": 0.05, "ridge": 1e-10, "row": "others", "precision": "float32"}
    assert type(single)(**single.params()).params() == single.params()
    scorer = TargetScorer("b", "t", {"m": ("f.npz", "key")})
    assert scorer.key("face-cf-literal", single) != scorer.key("face-cf-literal", metric("face-cf-literal"))
    card = single.card()
    assert card.params["precision"] == "float32"
    assert any("float32" in line and "1e-05" in line for line in card.departures), card.departures
    assert not any("float32" in line for line in metric("face-cf-literal").card().departures)
    literal = metric("face-literal", precision="float32")
    assert literal.params()["precision"] == "float32" and literal.fairness.precision == "float32"
    with pytest.raises(ValueError, match="precision must be one of 'float64', 'float32'"):
        face.ClassFairnessLiteral(precision="float16")


@pytest.mark.parametrize("name", ["face-cf-literal", "face-literal"])
def test_the_float32_option_conforms(name):
    check_metric(name, precision="float32")
