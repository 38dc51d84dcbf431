"""The metrics after FaCe's paper (TransRate, N-LEEP, SFDA, NCTI, shrinkage H-score, ETran energy,
PACTran-Gaussian): against slow references written from their papers (``reference_impls_recent``),
hand-worked two-class cases, and the properties their papers claim.

Expected values are computed independently (loops, dense matrices, hand algebra in the comments),
never from facebench's outputs. The comparison with the authors' released code is recorded in
benchmarks/reference_comparisons.md (their code is not part of this repository).
"""
from __future__ import annotations

import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import reference_impls as ref  # noqa: E402
import reference_impls_recent as rref  # noqa: E402

from facebench.bundle import FeatureBundle  # noqa: E402
from facebench.errors import MetricInputError  # noqa: E402
from facebench.plugins import get_plugins  # noqa: E402
from facebench.score.zoo import score_zoo  # noqa: E402

SEEDS = (0, 1)
SHAPES = [([40, 30, 50], 6), ([25] * 4, 10), ([8, 12, 6], 20)]  # the last: n_k < d
RECENT = ["transrate", "nleep", "sfda", "ncti", "hscore-shrinkage", "etran-energy", "pactran-gauss", "ped"]


def metric(name: str, **params):
    return get_plugins().create_metric(name, **params)


def bundle(x, y, name="m") -> FeatureBundle:
    return FeatureBundle.from_arrays(np.asarray(x, dtype=np.float64), np.asarray(y), name=name)


def sigmoid(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


def shape_id(shape) -> str:
    return f"K{len(shape[0])}-n{sum(shape[0])}-d{shape[1]}"


def test_recent_metrics_registered_with_cards():
    names = set(get_plugins().metrics.names())
    assert set(RECENT) <= names
    for name in RECENT:
        card = metric(name).card()
        assert card.source and card.reference_code, name


# ===========================================================================================
# Against the slow references
# ===========================================================================================
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
@pytest.mark.parametrize("reading,eps", [("code", 1e-4), ("code", 0.5), ("mcr2", 1.0)])
def test_transrate_matches_reference(shape, seed, reading, eps):
    x, y, _ = ref.make_data(seed, *shape, sep=0.7, offset=2.0)
    got = metric("transrate", eps=eps, reading=reading).score(bundle(x, y))
    np.testing.assert_allclose(got, rref.transrate(x, y, eps=eps, reading=reading), rtol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_shrinkage_hscore_matches_reference(shape, seed):
    x, y, _ = ref.make_data(seed, *shape, sep=0.7, offset=1.0)
    np.testing.assert_allclose(metric("hscore-shrinkage").score(bundle(x, y)), rref.shrinkage_hscore(x, y), rtol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES[:2], ids=shape_id)
@pytest.mark.parametrize("scale", [1.0, 0.2])  # 0.2: sigma_max(S_W) < 4.6, lambda above its 1e-10 floor
def test_sfda_matches_reference(shape, seed, scale):
    x, y, _ = ref.make_data(seed, *shape, sep=0.5)
    x = x * scale
    np.testing.assert_allclose(metric("sfda").score(bundle(x, y)), rref.sfda(x, y), rtol=1e-8)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scale", [1.0, 0.02])  # 1: unshrunk LDA ("svd"); 0.02: shrinkage ("eigen")
def test_ncti_terms_match_reference(seed, scale):
    x, y, _ = ref.make_data(seed, [40, 30, 50, 35], 10, sep=0.4)
    got = metric("ncti").score(bundle(x * scale, y))
    expected = rref.ncti_terms(x * scale, y)
    for term in ("seli", "ncc", "vc"):
        np.testing.assert_allclose(got[term], expected[term], rtol=1e-7, err_msg=term)


def test_ncti_pca_dim_param():
    x, y, _ = ref.make_data(3, [30, 30, 30], 12, sep=0.5)
    got = metric("ncti", pca_dim=5).score(bundle(x, y))
    expected = rref.ncti_terms(x, y, pca_dim=5)
    for term in ("seli", "ncc", "vc"):
        np.testing.assert_allclose(got[term], expected[term], rtol=1e-7, err_msg=term)


def test_ncti_zoo_step_matches_reference_and_score_zoo():
    bundles = {f"m{i}": bundle(*ref.make_data(10 + i, [30, 40, 35], 8, sep=0.3 + 0.2 * i)[:2], name=f"m{i}")
               for i in range(4)}
    m = metric("ncti")
    values = {k: m.score(b) for k, b in bundles.items()}
    expected = rref.ncti_combine({k: rref.ncti_terms(b.features, b.labels) for k, b in bundles.items()})
    got = m.combine(values)
    for k in bundles:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-7, atol=1e-9)
    through = score_zoo({"ncti": m}, bundles)
    assert not any(through.errors.values()), through.errors
    for k in bundles:
        np.testing.assert_allclose(through.scores["ncti"][k], got[k], rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("percent,tail", [(0.5, "bottom"), (10.0, "top"), (30.0, "bottom"), (100.0, "bottom")])
def test_energy_score_matches_reference(seed, percent, tail):
    x, y, _ = ref.make_data(seed, [80, 70, 90], 12, sep=0.5)
    got = metric("etran-energy", percent=percent, tail=tail).score(bundle(x, y))
    np.testing.assert_allclose(got, rref.energy_score(x, percent, tail), rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("counts,d", [([20, 25, 15], 3), ([30, 30], 4)])
@pytest.mark.parametrize("lam,prior_scale", [(1.0, 100.0), (0.1, 10.0)])
def test_pactran_matches_newton_reference(seed, counts, d, lam, prior_scale):
    x, y, _ = ref.make_data(seed, counts, d, sep=0.6)
    got = metric("pactran-gauss", lam=lam, prior_scale=prior_scale).score(bundle(x, y))
    np.testing.assert_allclose(got, rref.pactran_gaussian(x, y, lam, prior_scale), rtol=1e-7)


def test_nleep_is_leep_on_the_mixture_posteriors():
    # the LEEP step against the loop reference, on the posteriors of the module's own mixture
    from facebench.metrics.nleep import mixture_posteriors

    x, y, _ = ref.make_data(4, [40, 50, 30], 6, sep=0.8)
    post = mixture_posteriors(x, 3, 0.8, seed=0)
    np.testing.assert_allclose(metric("nleep").score(bundle(x, y)), ref.leep(post, y), rtol=1e-10)


# ===========================================================================================
# Hand-worked two-class cases
#   1-D features: class 0 = {0, 2} (mean 1), class 1 = {4, 8} (mean 6); global mean 3.5
# ===========================================================================================
X1 = np.array([[0.0], [2.0], [4.0], [8.0]])
Y1 = np.array([0, 0, 1, 1])


def test_hand_transrate():
    # centred z = -3.5, -1.5, 0.5, 4.5 (each class keeps the global centring)
    # sum z^2 = 12.25 + 2.25 + 0.25 + 20.25 = 35; class 0: 14.5; class 1: 20.5
    # eps = 1, code reading: R = 1/2 ln(1 + 35/4); R_0 = 1/2 ln(1 + 14.5/2); R_1 = 1/2 ln(1 + 20.5/2)
    expected = 0.5 * math.log(9.75) - 0.5 * (0.5 * math.log(8.25) + 0.5 * math.log(11.25))
    np.testing.assert_allclose(metric("transrate", eps=1.0).score(bundle(X1, Y1)), expected, rtol=1e-12)
    # mcr2 reading, eps = 1, d = 1: a = 1/n, weights n_k/n = 1/2: the same numbers here
    np.testing.assert_allclose(metric("transrate", eps=1.0, reading="mcr2").score(bundle(X1, Y1)), expected, rtol=1e-12)
    # eps = 0.5 in the mcr2 reading: a = 1/(n 0.25) = 4/n
    expected = 0.5 * math.log(1 + 35.0) - 0.5 * (0.5 * math.log(1 + 29.0) + 0.5 * math.log(1 + 41.0))
    np.testing.assert_allclose(metric("transrate", eps=0.5, reading="mcr2").score(bundle(X1, Y1)), expected, rtol=1e-12)


def test_hand_shrinkage_hscore_one_dimension():
    # d = 1: S - mu I = 0, so the Ledoit-Wolf shrinkage is 0 and H_a is the plain H-score:
    # cov(f) = 35/4; cov(g) = 1/2 (1 - 3.5)^2 + 1/2 (6 - 3.5)^2 = 6.25; H = 6.25 / 8.75 = 5/7
    np.testing.assert_allclose(metric("hscore-shrinkage").score(bundle(X1, Y1)), 5.0 / 7.0, rtol=1e-12)


def test_hand_shrinkage_hscore_isotropic_classes_are_shrunk():
    # 2-D, 4 points at (+-1, +-1), classes split by the first coordinate: S = I exactly, so the
    # Ledoit-Wolf target is S itself (d^2 = 0): shrinkage 0 and H = tr(I^-1 cov(g)) = 1
    x = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    y = np.array([1, 1, 0, 0])
    np.testing.assert_allclose(metric("hscore-shrinkage").score(bundle(x, y)), 1.0, rtol=1e-12)


def test_hand_sfda():
    # S_W = 1/2 * 1 + 1/2 * 4 = 2.5; in 1-D the shrinkage leaves S_W unchanged (tr S_W / d = S_W).
    # delta_k(x) = x mu_k / 2.5 - mu_k^2 / 5 + ln 1/2, so p(1 | x) = sigmoid(x (6 - 1)/2.5 - (36 - 1)/5)
    #            = sigmoid(2x - 7); p(true): sigmoid(7), sigmoid(3) for class 0, sigmoid(1), sigmoid(9) for 1.
    # ConfMix: q = softmax(p)_true = sigmoid(2 p_true - 1); x <- q x + (1 - q) * (the other class mean).
    x = [0.0, 2.0, 4.0, 8.0]
    p_true = [sigmoid(7), sigmoid(3), sigmoid(1), sigmoid(9)]
    other = [6.0, 6.0, 1.0, 1.0]
    mixed = [sigmoid(2 * p - 1) * xi + (1 - sigmoid(2 * p - 1)) * o for xi, p, o in zip(x, p_true, other)]
    m0, m1 = (mixed[0] + mixed[1]) / 2, (mixed[2] + mixed[3]) / 2
    sw = 0.5 * ((mixed[0] - m0) ** 2 + (mixed[1] - m0) ** 2) / 2 + 0.5 * ((mixed[2] - m1) ** 2 + (mixed[3] - m1) ** 2) / 2
    logit1 = [xi * (m1 - m0) / sw - (m1**2 - m0**2) / (2 * sw) for xi in mixed]
    expected = (1 - sigmoid(logit1[0]) + 1 - sigmoid(logit1[1]) + sigmoid(logit1[2]) + sigmoid(logit1[3])) / 4
    np.testing.assert_allclose(metric("sfda").score(bundle(X1, Y1)), expected, rtol=1e-12)


def test_hand_energy_score():
    # rows (0, 0): ln 2;  (ln 3, 0): ln 4;  (ln 7, 0): ln 8
    x = np.array([[0.0, 0.0], [math.log(3.0), 0.0], [math.log(7.0), 0.0]])
    y = np.array([0, 1, 1])
    score = lambda **kw: metric("etran-energy", **kw).score(bundle(x, y))  # noqa: E731
    np.testing.assert_allclose(score(), math.log(2.0), rtol=1e-12)  # 0.5% of 3 rows: at least one
    np.testing.assert_allclose(score(percent=100.0), (1 + 2 + 3) * math.log(2.0) / 3, rtol=1e-12)
    np.testing.assert_allclose(score(percent=70.0, tail="top"), 2.5 * math.log(2.0), rtol=1e-12)  # 2 rows
    # T = 2: 2 ln(e^0 + e^0) = 2 ln 2 for the first row
    np.testing.assert_allclose(score(temperature=2.0), 2 * math.log(2.0), rtol=1e-12)


def test_hand_ncti_zoo_step():
    # seli: 1, 2, 3 -> 0, .5, 1;  ncc: .5, .9, .7 -> 0, 1, .5;  vc: 2, 2, 4 -> 0, 0, 1
    values = {"a": {"seli": 1.0, "ncc": 0.5, "vc": 2.0}, "b": {"seli": 2.0, "ncc": 0.9, "vc": 2.0},
              "c": {"seli": 3.0, "ncc": 0.7, "vc": 4.0}}
    got = metric("ncti").combine(values)
    np.testing.assert_allclose([got["a"], got["b"], got["c"]], [0.0, 1.5, 0.5], rtol=1e-12)


def test_ncti_one_model_zoo_is_an_error():
    with pytest.raises(MetricInputError, match="ncti"):
        metric("ncti").combine({"only": {"seli": 1.0, "ncc": 0.5, "vc": 2.0}})


def test_hand_nleep_separated_clusters_is_zero():
    # two far-apart tight clusters, one mixture component per class: the mixture recovers the
    # classes, P(y | z) is 0/1 and every EEP_i = 1, so N-LEEP = ln 1 = 0
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.1, (20, 2)), rng.normal(50, 0.1, (20, 2))])
    y = np.repeat([0, 1], 20)
    assert abs(metric("nleep").score(bundle(x, y))) < 1e-9


# ===========================================================================================
# Properties the papers claim
# ===========================================================================================
def test_pactran_prefers_separable_features():
    x_far, y, _ = ref.make_data(2, [40, 40, 40], 5, sep=3.0)
    x_near, _, _ = ref.make_data(2, [40, 40, 40], 5, sep=0.1)
    m = metric("pactran-gauss")
    assert m.score(bundle(x_far, y)) > m.score(bundle(x_near, y))


@pytest.mark.parametrize("name", RECENT)
def test_more_separated_classes_score_higher(name):
    # every metric that reads the labels should prefer features whose classes are further apart
    if name == "etran-energy":
        pytest.skip("the energy score does not read the labels")
    x_far, y, _ = ref.make_data(6, [40, 40, 40], 6, sep=2.0)
    x_near = x_far.copy()
    for k in range(3):  # pull every class towards the global mean, noise unchanged
        rows = y == k
        x_near[rows] -= 0.9 * (x_far[rows].mean(axis=0) - x_far.mean(axis=0))
    m = metric(name)
    if name == "ncti":
        scores = m.combine({"far": m.score(bundle(x_far, y)), "near": m.score(bundle(x_near, y))})
        assert scores["far"] > scores["near"]
    else:
        assert m.score(bundle(x_far, y)) > m.score(bundle(x_near, y))


@pytest.mark.parametrize("name", ["transrate", "hscore-shrinkage"])
def test_rotation_invariance_recent(name):
    x, y, _ = ref.make_data(21, [30, 25, 40], 8, sep=0.6)
    q, _ = np.linalg.qr(np.random.default_rng(9).normal(size=(8, 8)))
    m = metric(name)
    np.testing.assert_allclose(m.score(bundle(x @ q, y)), m.score(bundle(x, y)), rtol=1e-8)


@pytest.mark.parametrize("name", ["transrate", "hscore-shrinkage", "pactran-gauss", "sfda", "nleep"])
def test_translation_invariance_recent(name):
    # sfda: S_W, the class-mean differences and the ConfMix targets all move with the features
    x, y, _ = ref.make_data(22, [30, 25, 40], 6, sep=0.6)
    shift = np.random.default_rng(4).normal(size=6) * 5
    m = metric(name)
    np.testing.assert_allclose(m.score(bundle(x + shift, y)), m.score(bundle(x, y)), rtol=1e-6)


@pytest.mark.parametrize("factor", [1e-3, 1e3])
def test_shrinkage_hscore_scale_invariance(factor):
    x, y, _ = ref.make_data(23, [30, 25, 40], 6, sep=0.6)
    m = metric("hscore-shrinkage")
    np.testing.assert_allclose(m.score(bundle(x * factor, y)), m.score(bundle(x, y)), rtol=1e-8)


def test_shrinkage_hscore_below_hscore_when_n_small():
    # n_k < d: the unregularised H-score is the rank K - 1 of cov(g) (every model ties); the
    # shrunk version stays below it and depends on the features
    x, y, _ = ref.make_data(24, [6, 7, 5], 30, sep=0.5)
    h = metric("hscore").score(bundle(x, y))
    hs = metric("hscore-shrinkage").score(bundle(x, y))
    np.testing.assert_allclose(h, 2.0, rtol=1e-6)
    assert 0 < hs < h


def test_sfda_power_iteration_option_changes_only_lambda():
    x, y, _ = ref.make_data(25, [40, 30, 50], 6, sep=0.5)
    big = bundle(x * 3.0, y)  # sigma_max(S_W) > 4.6: lambda = 1e-10 either way
    exact, power = metric("sfda").score(big), metric("sfda", power_iterations=3).score(big)
    np.testing.assert_allclose(exact, power, rtol=1e-9)


COLLAPSED = np.repeat(np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 3.0]]), 5, axis=0)  # every sample at its class mean
Y_COLLAPSED = np.repeat([0, 1, 2], 5)


@pytest.mark.parametrize("name,x", [("sfda", COLLAPSED), ("ncti", COLLAPSED), ("hscore-shrinkage", np.ones((15, 2)))],
                         ids=["sfda-collapsed", "ncti-collapsed", "hscore-shrinkage-constant"])
def test_singular_scatter_is_a_clear_error(name, x):
    # zero within-class scatter (SFDA, NCTI) or zero covariance (shrinkage H-score): nothing to invert
    with pytest.raises(MetricInputError, match=f"collapsed: metric '{name}'"):
        metric(name).score(bundle(x, Y_COLLAPSED, name="collapsed"))


@pytest.mark.filterwarnings("ignore:Number of distinct clusters")  # scikit-learn, on the constant features
def test_nleep_collapsed_and_constant_features():
    # collapsed classes: the mixture finds them, EEP = 1, N-LEEP = 0;
    # constant features: every posterior is the same, P(y | z) = p(y) = 1/3, N-LEEP = ln(1/3)
    assert abs(metric("nleep").score(bundle(COLLAPSED, Y_COLLAPSED))) < 1e-9
    np.testing.assert_allclose(metric("nleep").score(bundle(np.ones((15, 2)), Y_COLLAPSED)), -math.log(3), rtol=1e-9)


# ===========================================================================================
# PED
# ===========================================================================================
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("nsigma,exit_ratio", [(0.6, 0.5), (2.0, 0.5), (2.0, 0.99)])
def test_ped_moves_features_as_the_reference(seed, nsigma, exit_ratio):
    from facebench.metrics.ped import potential_energy_descent

    x, y, _ = ref.make_data(seed, [30, 25, 35, 20], 6, sep=0.8, offset=1.0)
    moved, _ = potential_energy_descent(x, y, 4, nsigma=nsigma, exit_ratio=exit_ratio)
    expected = rref.ped_moved(x, y, nsigma=nsigma, exit_ratio=exit_ratio)
    np.testing.assert_allclose(moved, expected, rtol=1e-10, atol=1e-12)
    got = metric("ped", nsigma=nsigma, exit_ratio=exit_ratio).score(bundle(x, y))
    np.testing.assert_allclose(got, ref.logme(expected, y), rtol=1e-7)


def test_hand_ped_two_classes():
    # 1-D, class 0 = {0, 2}, class 1 = {4, 8}: standardised by s = sqrt(35/4), the class radii are
    # 1/s and 2/s and the means 5/s apart. nsigma = 0.6: overlap 0.6 * 3 - 5 < 0, nothing moves.
    np.testing.assert_allclose(metric("ped").score(bundle(X1, Y1)), metric("logme").score(bundle(X1, Y1)), rtol=1e-12)
    # nsigma = 2: overlap (6 - gap) / s; each class moves 1/2 t^2 overlap = 0.005 (6 - gap) apart (in
    # x units), so 6 - gap shrinks by 0.99 per step (each step's displacement 0.99 x the last: kept)
    for steps in (1, 2, 6):
        gap = 6.0 - 0.99**steps
        half = (gap - 5.0) / 2
        moved = X1 + np.array([[-half], [-half], [half], [half]])
        got = metric("ped", nsigma=2.0, max_steps=steps).score(bundle(X1, Y1))
        np.testing.assert_allclose(got, metric("logme").score(bundle(moved, Y1)), rtol=1e-10)
