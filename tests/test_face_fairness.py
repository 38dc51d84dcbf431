"""What the class fairness term F claims to measure (FaCe, Sec. 3.2 after Eq. 6), tested as claims.

The text: "when each row of P approaches a uniform distribution, F reaches its maximum value,
which indicates that any class distribution has a similar overlap with the distributions of
other classes". Under the default reading (row softmax over j != i) that maximum is ln(K - 1).

Layouts are built so that their class Gaussians are known exactly: each class is the 2d points
mu_k +- s e_c (c = 1..d), whose biased covariance is exactly (s^2 / d) I, isotropic, so any PCA
rotation keeps it diagonal and the Bhattacharyya distances depend on the means only.
"""
from __future__ import annotations

import math
import os
import sys
import warnings

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import reference_impls as ref  # noqa: E402

from facebench.bundle import FeatureBundle  # noqa: E402
from facebench.errors import FacebenchWarning  # noqa: E402
from facebench.metrics.face import fairness_from_distances  # noqa: E402
from facebench.plugins import get_plugins  # noqa: E402
from facebench.score.zoo import score_zoo  # noqa: E402


def metric(name: str, **params):
    return get_plugins().create_metric(name, **params)


def layout(means: np.ndarray, s: float = 1.0) -> FeatureBundle:
    """Each class: the 2d points mean +- s e_c; exact isotropic covariance (s^2/d) I."""
    k, d = means.shape
    eye = np.eye(d)
    x = np.concatenate([np.concatenate([m + s * eye, m - s * eye]) for m in means])
    y = np.repeat(np.arange(k), 2 * d)
    return FeatureBundle.from_arrays(x, y, name="layout")


def simplex(k: int, scale: float) -> np.ndarray:
    """K equidistant means: scale * e_k in K dims (every pair at distance scale * sqrt 2)."""
    return scale * np.eye(k)


K = 6
F_MAX = math.log(K - 1)


# ------------------------------------------------------------------------------------------
# Against a brute-force double loop, written apart from the vectorised code
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", ["others", "all"])
@pytest.mark.parametrize("t", [0.05, 0.3, 2.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_entropy_step_matches_brute_force_loop(row, t, seed):
    rng = np.random.default_rng(seed)
    d = rng.uniform(0.0, 4.0, size=(7, 7))
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0.0)
    b = np.exp(-d)
    assert fairness_from_distances(d, t, row) == pytest.approx(ref.entropy_fairness(b, t, row), rel=1e-10)


@pytest.mark.parametrize("row", ["others", "all"])
@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_face_cf_on_exact_layout_matches_brute_force(row, covariance):
    # means spread unevenly, s = 1: isotropic classes, PCA is a rotation of the K-dim span
    rng = np.random.default_rng(3)
    b = layout(rng.normal(size=(K, K)) * 1.5)
    x, y = b.features, b.labels
    expected = (ref.fairness_pca_diag(x, y, t=0.05, pca_dim=64, row=row) if covariance == "diagonal"
                else ref.fairness_pca_full(x, y, t=0.05, pca_dim=64, ridge=1e-6, row=row))
    got = metric("face-cf", covariance=covariance, row=row).score(b)
    assert got == pytest.approx(expected, rel=1e-10)


# ------------------------------------------------------------------------------------------
# The claims of Sec. 3.2, default reading (j != i)
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0, 10.0])
@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_equidistant_classes_reach_the_maximum(scale, covariance):
    f = metric("face-cf", covariance=covariance).score(layout(simplex(K, scale)))
    assert f == pytest.approx(F_MAX, rel=1e-12)


def test_one_pair_moved_closer_lowers_f_monotonically():
    values = []
    for frac in (0.0, 0.4, 0.7, 0.85, 0.95):
        means = simplex(K, 5.0)
        means[1] = means[1] + frac * (means[0] - means[1])  # class 1 approaches class 0
        values.append(metric("face-cf").score(layout(means)))
    assert values[0] == pytest.approx(F_MAX, rel=1e-12)
    assert all(a > b for a, b in zip(values, values[1:])), values
    assert values[-1] < F_MAX - 0.2


def test_partly_overlapping_unequal_layout_lies_below_separated_equidistant():
    line = np.zeros((K, K))
    line[:, 0] = np.arange(K) * 1.0  # means on a line, neighbours overlap, far pairs do not
    f_line = metric("face-cf").score(layout(line))
    f_simplex = metric("face-cf").score(layout(simplex(K, 10.0)))
    assert f_line < f_simplex - 0.1
    assert 0.0 <= f_line <= F_MAX


def test_relabelling_does_not_change_f():
    rng = np.random.default_rng(8)
    b = layout(rng.normal(size=(K, K)))
    perm = np.array([3, 0, 5, 1, 4, 2])
    relabelled = FeatureBundle.from_arrays(b.features, perm[b.labels] * 7 - 2, name="relabelled")
    for row in ("others", "all"):
        m = metric("face-cf", row=row)
        assert m.score(relabelled) == pytest.approx(m.score(b), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_range_is_zero_to_ln_k_minus_one(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(K, 10))[np.repeat(np.arange(K), 15)] * rng.uniform(0.1, 3) + rng.normal(size=(90, 10))
    f = metric("face-cf").score(FeatureBundle.from_arrays(x, np.repeat(np.arange(K), 15)))
    assert 0.0 <= f <= F_MAX + 1e-12


def test_issue_measurement_separated_gaussians_reach_ln_k_minus_one():
    # The measurement quoted in issue 7: 10 Gaussian classes, 32 dims, 50 samples per class; once
    # the classes are far apart every overlap is ~0, so every row is uniform: F = ln 9.
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 50)
    centres = rng.normal(size=(10, 32))
    for scale, separated in [(10.0, True), (0.1, False)]:
        x = centres[y] * scale + rng.normal(size=(500, 32))
        f = metric("face-cf").score(FeatureBundle.from_arrays(x, y))
        if separated:
            assert f == pytest.approx(math.log(9), rel=1e-9)
        else:
            assert f < math.log(9)


# ------------------------------------------------------------------------------------------
# The other reading (j = i in the row, Eq. 6 as printed) rewards overlap
# ------------------------------------------------------------------------------------------
def test_with_self_reading_falls_as_classes_separate():
    values = [metric("face-cf-with-self").score(layout(simplex(K, s))) for s in (0.3, 1.0, 3.0, 10.0)]
    assert all(a > b for a, b in zip(values, values[1:])), values
    # the separated simplex (an ETF) gets the with-self floor, the smallest value there is
    p_diag = math.exp(1 / 0.05) / (math.exp(1 / 0.05) + K - 1)
    p_off = 1 / (math.exp(1 / 0.05) + K - 1)
    floor = -(p_diag * math.log(p_diag) + (K - 1) * p_off * math.log(p_off))
    assert values[-1] == pytest.approx(floor, rel=1e-9)


def test_with_self_variants_are_the_row_all_option():
    rng = np.random.default_rng(4)
    b = layout(rng.normal(size=(K, K)))
    assert metric("face-cf-with-self").score(b) == pytest.approx(metric("face-cf", row="all").score(b), rel=1e-15)
    assert metric("face-with-self").row == "all" and metric("face").row == "others"


# ------------------------------------------------------------------------------------------
# K = 2: F carries no information under the default reading
# ------------------------------------------------------------------------------------------
def test_face_on_two_classes_is_minmax_of_c_with_a_warning():
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1], 20)
    bundles = {f"m{i}": FeatureBundle.from_arrays(rng.normal(size=(2, 5))[y] * (i + 1) + rng.normal(size=(40, 5)), y,
                                                  name=f"m{i}") for i in range(3)}
    result = score_zoo({"face": metric("face"), "face-vc": metric("face-vc")}, bundles)
    assert result.errors["face"] == {}
    assert any("K = 2" in w for w in result.warnings["face"]), result.warnings
    c = result.scores["face-vc"]
    lo, hi = min(c.values()), max(c.values())
    for m in bundles:
        assert result.scores["face"][m] == pytest.approx((c[m] - lo) / (hi - lo), rel=1e-12)


def test_default_face_combine_has_no_warning_with_both_terms():
    values = {"a": {"C": 1.0, "F": 0.2}, "b": {"C": 3.0, "F": 0.1}}
    with warnings.catch_warnings():
        warnings.simplefilter("error", FacebenchWarning)
        metric("face").combine(values)


# ------------------------------------------------------------------------------------------
# The literal distances do not depend on how many cores compute them
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("workers", [2, 3])
def test_literal_distances_identical_on_any_number_of_workers(monkeypatch, workers):
    import facebench.metrics._linalg as linalg
    from facebench.metrics.face import bhattacharyya_full

    x, y, _ = ref.make_data(4, [15, 9, 20, 12, 17, 11], 40, sep=0.4)  # n_k < d: the low-rank path
    monkeypatch.setattr(linalg, "available_cores", lambda: 1)
    one = bhattacharyya_full(x, y, 6, ridge=1e-3)
    monkeypatch.setattr(linalg, "available_cores", lambda: workers)
    many = bhattacharyya_full(x, y, 6, ridge=1e-3)
    assert np.array_equal(one, many)  # bitwise: each pair is computed alone, on one BLAS thread
