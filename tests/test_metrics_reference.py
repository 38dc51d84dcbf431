"""Every registered metric against the slow loop-based references of ``reference_impls``.

The expected values are computed independently from the papers' formulas (dense matrices, loops
over classes and ordered pairs), never from facebench's own outputs.
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import reference_impls as ref  # noqa: E402

from facebench.bundle import FeatureBundle  # noqa: E402
from facebench.errors import FacebenchWarning, MetricInputError  # noqa: E402
from facebench.plugins import get_plugins  # noqa: E402
from facebench.score.zoo import ZOO, score_zoo  # noqa: E402

SEEDS = (0, 1, 2)
# (counts per class, d): n_k > d ("well conditioned"), and n_k < d (singular class covariances).
WELL = [([50, 50, 50, 50], 8), ([80, 60, 100], 5), ([40] * 6, 12)]
SMALL_N = [([10] * 5, 20), ([6, 9, 7], 30), ([12, 5, 12, 8], 20)]
ALL_SHAPES = WELL + SMALL_N


def shape_id(shape) -> str:
    counts, d = shape
    return f"K{len(counts)}-n{sum(counts)}-d{d}"


def metric(name: str, **params):
    return get_plugins().create_metric(name, **params)


def bundle(x, y, p=None, name="m") -> FeatureBundle:
    return FeatureBundle.from_arrays(x, y, p, name=name)


def close(actual, expected, rtol=1e-8, atol=0.0):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


@pytest.fixture(params=SEEDS, ids=lambda s: f"seed{s}")
def seed(request):
    return request.param


# -------------------------------------------------------------------------------------------
# Registry sanity
# -------------------------------------------------------------------------------------------
def test_all_expected_metrics_registered():
    names = set(get_plugins().metrics.names())
    expected = {"face", "face-vc", "face-cf", "face-with-self", "face-cf-with-self", "face-literal", "face-cf-literal",
                "nc2", "leep", "nce", "logme", "hscore", "gbc",
                "transrate", "nleep", "sfda", "ncti", "hscore-shrinkage", "etran-energy", "pactran-gauss", "ped"}
    assert expected <= names


# -------------------------------------------------------------------------------------------
# FaCe: variance collapse
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ALL_SHAPES, ids=shape_id)
def test_variance_collapse_matches_reference(shape, seed):
    counts, d = shape
    x, y, _ = ref.make_data(seed, counts, d, sep=0.8)
    rank = min(len(counts) - 1, d)  # sum_k n_k (mu_k - h_G) = 0: Sigma_B has rank K - 1 here
    expected = ref.variance_collapse(x, y, rank=rank)
    close(metric("face-vc").score(bundle(x, y)), expected, rtol=1e-8)


@pytest.mark.parametrize("shape", WELL, ids=shape_id)
def test_variance_collapse_matches_dense_pinv(shape, seed):
    counts, d = shape
    x, y, _ = ref.make_data(seed, counts, d, sep=2.0)
    close(metric("face-vc").score(bundle(x, y)), ref.variance_collapse_dense_pinv(x, y), rtol=1e-8)


def test_variance_collapse_more_classes_than_dims():
    # K - 1 > d: Sigma_B is full rank d, the pseudo-inverse is the inverse.
    x, y, _ = ref.make_data(5, [30] * 6, 3, sep=1.0)
    sw, sb, kk = ref.within_between(x, y)
    expected = -np.trace(sw @ np.linalg.inv(sb)) / kk
    close(metric("face-vc").score(bundle(x, y)), expected, rtol=1e-8)


# -------------------------------------------------------------------------------------------
# FaCe: class fairness
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ALL_SHAPES, ids=shape_id)
@pytest.mark.parametrize("t", [0.05, 1.0])
@pytest.mark.parametrize("row", ["others", "all"])
def test_face_cf_default_matches_pca_diag_reference(shape, seed, t, row):
    counts, d = shape
    x, y, _ = ref.make_data(seed, counts, d, sep=0.5)
    expected = ref.fairness_pca_diag(x, y, t=t, pca_dim=64, row=row)
    close(metric("face-cf", t=t, row=row).score(bundle(x, y)), expected, rtol=1e-7)


@pytest.mark.parametrize("pca_dim", [2, 4])
def test_face_cf_pca_dim_param(seed, pca_dim):
    x, y, _ = ref.make_data(seed, [40, 30, 50, 20], 10, sep=0.5)
    expected = ref.fairness_pca_diag(x, y, t=0.2, pca_dim=pca_dim)
    close(metric("face-cf", t=0.2, pca_dim=pca_dim).score(bundle(x, y)), expected, rtol=1e-7)


@pytest.mark.parametrize("shape", ALL_SHAPES, ids=shape_id)
def test_face_cf_full_covariance_matches_reference(shape, seed):
    counts, d = shape
    x, y, _ = ref.make_data(seed, counts, d, sep=0.5)
    pca_dim = 4
    expected = ref.fairness_pca_full(x, y, t=0.3, pca_dim=pca_dim, ridge=1e-6)
    got = metric("face-cf", t=0.3, pca_dim=pca_dim, covariance="full").score(bundle(x, y))
    close(got, expected, rtol=1e-7)


@pytest.mark.parametrize("shape", WELL, ids=shape_id)
@pytest.mark.parametrize("t", [0.05, 0.5])
def test_face_cf_literal_unregularised_matches_reference(shape, seed, t):
    counts, d = shape
    x, y, _ = ref.make_data(seed, counts, d, sep=0.4)
    expected = ref.fairness_full(x, y, t=t, ridge=0.0)
    close(metric("face-cf-literal", t=t, ridge=0.0).score(bundle(x, y)), expected, rtol=1e-8)


@pytest.mark.parametrize("sep", [0.15, 0.3, 0.6])
def test_face_cf_literal_default_ridge_equals_unregularised(seed, sep):
    # d=8, n_k=200, K=4; classes close together so that the off-diagonal B_ij are far from 0
    x, y, _ = ref.make_data(seed, [200] * 4, 8, sep=sep)
    means, covs = ref.gaussians_full(x, y, ridge=0.0)
    b = ref.overlap_matrix(means, covs)
    off = b[~np.eye(4, dtype=bool)]
    assert off.min() > 1e-3, "test data should give overlapping classes"
    for t in (0.05, 1.0):
        expected = ref.entropy_fairness(b, t)
        got = metric("face-cf-literal", t=t).score(bundle(x, y))  # default ridge
        close(got, expected, rtol=1e-6)


@pytest.mark.parametrize("shape", ALL_SHAPES, ids=shape_id)
@pytest.mark.parametrize("ridge", [1e-3, 1.0])
def test_face_cf_literal_ridge_matches_reference(shape, seed, ridge):
    # n_k < d exercises the low-rank (Woodbury / determinant lemma) path and, for pairs whose
    # ranks add up to >= d, the dense path; ridge=1 keeps the overlaps far from 0.
    counts, d = shape
    x, y, _ = ref.make_data(seed, counts, d, sep=0.3)
    expected = ref.fairness_full(x, y, t=0.5, ridge=ridge)
    close(metric("face-cf-literal", t=0.5, ridge=ridge).score(bundle(x, y)), expected, rtol=1e-7)


def test_face_cf_literal_bhattacharyya_distances_match(seed):
    # Compare the K x K distance matrix itself, not only the entropy after the softmax.
    counts, d = [12, 5, 12, 8, 30], 20
    x, y, _ = ref.make_data(seed, counts, d, sep=0.3)
    means, covs = ref.gaussians_full(x, y, ridge=0.01)
    kk = len(counts)
    expected = np.zeros((kk, kk))
    for i in range(kk):
        for j in range(kk):
            if i != j:
                expected[i, j] = ref.bhattacharyya_gauss(means[i], covs[i], means[j], covs[j])
    got = metric("face-cf-literal", ridge=0.01).distances(bundle(x, y))
    close(got, expected, rtol=1e-8, atol=1e-10)


def test_face_cf_literal_unregularised_singular_is_an_error():
    x, y, _ = ref.make_data(0, [5] * 3, 10)
    with pytest.raises(MetricInputError):
        metric("face-cf-literal", ridge=0.0).score(bundle(x, y))


# -------------------------------------------------------------------------------------------
# FaCe: per-model components and the zoo step
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", WELL[:2] + SMALL_N[:1], ids=shape_id)
def test_face_components_match_reference(shape, seed):
    counts, d = shape
    x, y, _ = ref.make_data(seed, counts, d, sep=0.5)
    value = metric("face").score(bundle(x, y))
    assert set(value) == {"C", "F"}
    close(value["C"], ref.variance_collapse(x, y, rank=min(len(counts) - 1, d)), rtol=1e-8)
    close(value["F"], ref.fairness_pca_diag(x, y, t=0.05, pca_dim=64), rtol=1e-7)


def test_face_literal_components_match_reference(seed):
    x, y, _ = ref.make_data(seed, [60] * 4, 6, sep=0.3)
    value = metric("face-literal", t=0.5).score(bundle(x, y))
    close(value["C"], ref.variance_collapse(x, y, rank=3), rtol=1e-8)
    close(value["F"], ref.fairness_full(x, y, t=0.5, ridge=0.0), rtol=1e-6)


def _zoo(n_models=4, seed=0):
    """Several 'models' on the same target: the same labels, different features."""
    rng = np.random.default_rng(seed)
    _, y, _ = ref.make_data(seed, [40, 30, 50, 35], 6)
    zoo = {}
    for m in range(n_models):
        means = rng.normal(size=(4, 6)) * rng.uniform(0.3, 1.5)
        x = means[y] + rng.normal(size=(y.size, 6)) * rng.uniform(0.5, 2.0, size=6)
        zoo[f"model{m}"] = x
    return y, zoo


@pytest.mark.parametrize("name", ["face", "face-literal"])
def test_face_combine_is_minmax_sum_by_hand(name):
    y, zoo = _zoo(5, seed=3)
    m = metric(name, t=0.5)
    values = {model: m.score(bundle(x, y, name=model)) for model, x in zoo.items()}
    # by hand, from the references
    comps = {}
    for model, x in zoo.items():
        c = ref.variance_collapse(x, y, rank=3)
        f = ref.fairness_pca_diag(x, y, t=0.5, pca_dim=64) if name == "face" else ref.fairness_full(x, y, t=0.5)
        comps[model] = {"C": c, "F": f}
    cs = [comps[k]["C"] for k in zoo]
    fs = [comps[k]["F"] for k in zoo]
    assert max(cs) - min(cs) > 1e-3 and max(fs) - min(fs) > 1e-6
    expected = ref.face_combine(comps)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        combined = m.combine(values)
    assert set(combined) == set(zoo)
    for model in zoo:
        close(combined[model], expected[model], rtol=1e-6, atol=1e-9)
    # the combination also ranks the extremes as by construction: each term lies in [0, 1]
    assert min(combined.values()) >= -1e-12 and max(combined.values()) <= 2 + 1e-12


def test_face_combine_literal_values():
    # Pure arithmetic of Eq. (1): C = (1, 3, 2) -> (0, 1, .5); F = (.2, .1, .6) -> (.2, 0, 1)
    m = metric("face")
    out = m.combine({"a": {"C": 1.0, "F": 0.2}, "b": {"C": 3.0, "F": 0.1}, "c": {"C": 2.0, "F": 0.6}})
    close([out["a"], out["b"], out["c"]], [0.2, 1.0, 1.5], rtol=1e-12)


def test_face_through_score_zoo_matches_hand_combination():
    y, zoo = _zoo(3, seed=7)
    bundles = {model: bundle(x, y, name=model) for model, x in zoo.items()}
    result = score_zoo({"face": metric("face"), "face-vc": metric("face-vc"), "face-cf": metric("face-cf")}, bundles)
    assert not any(result.errors.values()), result.errors
    comps = {m: {"C": result.scores["face-vc"][m], "F": result.scores["face-cf"][m]} for m in zoo}
    expected = ref.face_combine(comps)
    for model in zoo:
        close(result.scores["face"][model], expected[model], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["face", "face-literal"])
def test_face_one_model_zoo_is_a_zoo_error(name):
    x, y, _ = ref.make_data(0, [30] * 3, 4)
    result = score_zoo({name: metric(name), "face-vc": metric("face-vc")}, {"only": bundle(x, y, name="only")})
    assert ZOO in result.errors[name]
    assert "2" in result.errors[name][ZOO] and "model" in result.errors[name][ZOO]
    assert result.scores[name] == {}
    # other metrics are unaffected
    assert result.errors["face-vc"] == {}
    close(result.scores["face-vc"]["only"], ref.variance_collapse(x, y, rank=2), rtol=1e-8)


def test_face_term_without_spread_is_dropped_with_warning():
    m = metric("face")
    values = {"a": {"C": -1.0, "F": 0.25}, "b": {"C": -3.0, "F": 0.25}, "c": {"C": -2.0, "F": 0.25 * (1 + 1e-14)}}
    with pytest.warns(FacebenchWarning, match="F"):
        out = m.combine(values)
    # only minmax(C) remains: C = (-1, -3, -2) -> (1, 0, 0.5)
    close([out["a"], out["b"], out["c"]], [1.0, 0.0, 0.5], rtol=1e-12, atol=1e-15)


def test_face_term_without_spread_warning_through_score_zoo():
    # face-literal with n_k < d and the tiny default ridge: every off-diagonal B_ij ~ 0, so F is
    # at its floor (the same value for every model) while C differs between models.
    rng = np.random.default_rng(11)
    y = np.repeat(np.arange(4), 6)
    bundles = {}
    for m in range(3):
        x = rng.normal(size=(4, 40))[y] * (1 + m) + rng.normal(size=(y.size, 40))
        bundles[f"m{m}"] = bundle(x, y, name=f"m{m}")
    result = score_zoo({"face-literal": metric("face-literal")}, bundles)
    assert result.errors["face-literal"] == {}
    assert any("F" in w for w in result.warnings["face-literal"]), result.warnings
    cs = {k: ref.variance_collapse(b.features, y, rank=3) for k, b in bundles.items()}
    lo, hi = min(cs.values()), max(cs.values())
    for k in bundles:
        close(result.scores["face-literal"][k], (cs[k] - lo) / (hi - lo), rtol=1e-6, atol=1e-9)


# -------------------------------------------------------------------------------------------
# NC2, LEEP, NCE, LogME, H-score, GBC
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ALL_SHAPES, ids=shape_id)
def test_nc2_matches_reference(shape, seed):
    counts, d = shape
    x, y, _ = ref.make_data(seed, counts, d, sep=0.7, offset=3.0)
    close(metric("nc2").score(bundle(x, y)), -ref.nc2(x, y), rtol=1e-9)


@pytest.mark.parametrize("z", [3, 7, 40])
@pytest.mark.parametrize("counts", [[30, 20, 50], [15] * 6], ids=["K3", "K6"])
def test_leep_matches_reference(seed, z, counts):
    x, y, p = ref.make_data(seed, counts, 4, z=z)
    close(metric("leep").score(bundle(x, y, p)), ref.leep(p, y), rtol=1e-10)


def test_leep_source_class_never_predicted():
    # a source class with zero mass everywhere (P(z) = 0) must not produce NaN
    x, y, p = ref.make_data(4, [20, 20, 20], 3, z=5)
    p = np.concatenate([p, np.zeros((p.shape[0], 2))], axis=1)
    close(metric("leep").score(bundle(x, y, p)), ref.leep(p, y), rtol=1e-10)


@pytest.mark.parametrize("z", [3, 7, 40])
@pytest.mark.parametrize("counts", [[30, 20, 50], [15] * 6], ids=["K3", "K6"])
def test_nce_matches_reference(seed, z, counts):
    x, y, p = ref.make_data(seed, counts, 4, z=z)
    close(metric("nce").score(bundle(x, y, p)), ref.nce(p, y), rtol=1e-10)


@pytest.mark.parametrize("shape", ALL_SHAPES, ids=shape_id)
def test_logme_matches_reference(shape, seed):
    counts, d = shape
    x, y, _ = ref.make_data(seed, counts, d, sep=0.5)
    close(metric("logme").score(bundle(x, y)), ref.logme(x, y), rtol=1e-7)


def test_logme_rank_deficient_features(seed):
    # duplicated columns: F^T F is singular even with n > D; the (D - rank) ln alpha term counts
    x, y, _ = ref.make_data(seed, [40, 30, 50], 5, sep=0.5)
    x = np.concatenate([x, x[:, :2]], axis=1)
    close(metric("logme").score(bundle(x, y)), ref.logme(x, y), rtol=1e-7)


@pytest.mark.parametrize("shape", ALL_SHAPES, ids=shape_id)
def test_hscore_matches_reference(shape, seed):
    counts, d = shape
    x, y, _ = ref.make_data(seed, counts, d, sep=0.5, offset=2.0)
    close(metric("hscore").score(bundle(x, y)), ref.hscore(x, y), rtol=1e-8)


@pytest.mark.parametrize("shape", ALL_SHAPES, ids=shape_id)
@pytest.mark.parametrize("gaussian", ["diagonal", "spherical"])
def test_gbc_matches_reference(shape, seed, gaussian):
    counts, d = shape
    x, y, _ = ref.make_data(seed, counts, d, sep=0.3)
    expected = ref.gbc(x, y, pca_dim=64, spherical=gaussian == "spherical")
    close(metric("gbc", gaussian=gaussian).score(bundle(x, y)), expected, rtol=1e-7)


@pytest.mark.parametrize("pca_dim", [2, 5])
def test_gbc_pca_dim_param(seed, pca_dim):
    x, y, _ = ref.make_data(seed, [40, 30, 50, 20], 10, sep=0.3)
    close(metric("gbc", pca_dim=pca_dim).score(bundle(x, y)), ref.gbc(x, y, pca_dim=pca_dim), rtol=1e-7)
