"""Hand-worked small cases, invariances and robustness of the metrics.

Each expected value of the hand-worked cases is derived on paper in the comments; nothing is
taken from facebench's own outputs.
"""
from __future__ import annotations

import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import reference_impls as ref  # noqa: E402

from facebench.bundle import FeatureBundle  # noqa: E402
from facebench.errors import MetricInputError  # noqa: E402
from facebench.plugins import get_plugins  # noqa: E402

ALL_METRICS = ["face", "face-vc", "face-cf", "face-with-self", "face-cf-with-self", "face-literal", "face-cf-literal",
               "nc2", "leep", "nce", "logme", "hscore", "gbc",
               "transrate", "nleep", "sfda", "ncti", "hscore-shrinkage", "etran-energy", "pactran-gauss", "ped"]


def metric(name: str, **params):
    return get_plugins().create_metric(name, **params)


def bundle(x, y, p=None) -> FeatureBundle:
    return FeatureBundle.from_arrays(np.asarray(x, dtype=np.float64), np.asarray(y), p, name="case")


def col(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)[:, None]


def binary_entropy(p: float) -> float:
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def assert_value_close(a, b, rtol=1e-9, atol=0.0):
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=atol, err_msg=k)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ===========================================================================================
# Hand-worked: two classes in 1-D
#   class 0 = {0, 2}: mean 1, biased variance ((0-1)^2 + (2-1)^2)/2 = 1
#   class 1 = {4, 8}: mean 6, biased variance ((4-6)^2 + (8-6)^2)/2 = 4
#   global mean h_G = (0+2+4+8)/4 = 3.5
# ===========================================================================================
X1 = col([0, 2, 4, 8])
Y1 = np.array([0, 0, 1, 1])
# Bhattacharyya (Eq. 5): S = (1+4)/2 = 2.5; (1/8)(6-1)^2/2.5 = 25/20 = 1.25;
# (1/2) ln(2.5 / sqrt(1*4)) = (1/2) ln 1.25; D = 1.25 + 0.5 ln 1.25 = 1.3615718; B = e^-D = 0.2562577
D1 = 1.25 + 0.5 * math.log(1.25)
B1 = math.exp(-D1)


def test_hand_1d_variance_collapse():
    # Sigma_W = (1 + 4)/2 = 2.5; Sigma_B = ((1-3.5)^2 + (6-3.5)^2)/2 = 6.25
    # C = -(1/K) Sigma_W / Sigma_B = -(1/2)(2.5/6.25) = -0.2
    assert metric("face-vc").score(bundle(X1, Y1)) == pytest.approx(-0.2, rel=1e-12)


@pytest.mark.parametrize("t", [0.05, 1.0])
@pytest.mark.parametrize("name,params", [("face-cf", {}), ("face-cf-literal", {"ridge": 0.0}), ("face-cf-literal", {})])
def test_hand_1d_fairness(name, params, t):
    # Eq. (6) as printed (row="all", j = i in the row):
    # B = [[1, b], [b, 1]]; each row softmax of [1/t, b/t] -> P = [p, 1-p], p = 1/(1 + e^{-(1-b)/t})
    # F = -(1/2) sum_rows sum_j P ln P = binary entropy h(p) (both rows are the same)
    # t = 1:    p = 1/(1+e^-0.7437423) = 0.6778137, F = 0.6285065
    # t = 0.05: p = 1/(1+e^-14.874846) = 0.99999965, F = 5.5035850e-06
    p = 1.0 / (1.0 + math.exp(-(1.0 - B1) / t))
    expected = binary_entropy(p)
    assert expected == pytest.approx({0.05: 5.503585031508738e-06, 1.0: 0.6285064916755179}[t], rel=1e-12)
    # face-cf: PCA of 1-D features is the identity up to sign; the default ridge 1e-10 changes
    # the variances by a relative 1e-10 only.
    assert metric(name, t=t, row="all", **params).score(bundle(X1, Y1)) == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("name", ["face-cf", "face-cf-literal"])
def test_two_classes_fairness_over_other_classes_is_undefined_by_construction(name):
    # row="others" with K = 2: each row holds the one other class, P = 1, F = 0 for any features
    from facebench.errors import MetricUndefined

    with pytest.raises(MetricUndefined, match="K >= 3") as info:
        metric(name).score(bundle(X1, Y1))
    assert str(info.value).startswith(MetricUndefined.PREFIX)


def test_hand_1d_gbc_hscore_nc2():
    b = bundle(X1, Y1)
    # GBC = -(B_01 + B_10) = -2 e^-D = -0.5125154
    assert metric("gbc").score(b) == pytest.approx(-2 * B1, rel=1e-10)
    # H-score: cov(f) = ((-3.5)^2 + (-1.5)^2 + 0.5^2 + 4.5^2)/4 = 35/4 = 8.75;
    # cov(E[f|y]) = (2 * 2.5^2 + 2 * 2.5^2)/4 = 6.25; H = 6.25/8.75 = 5/7
    assert metric("hscore").score(b) == pytest.approx(5 / 7, rel=1e-12)
    # NC2: balanced K=2 -> A = [-2.5, 2.5], A A^T / ||.||_F = [[.5,-.5],[-.5,.5]] = (I - 11^T/2)/1
    assert metric("nc2").score(b) == pytest.approx(0.0, abs=1e-12)


def test_hand_1d_unbalanced_nc2():
    # class 0 = {0} (mean 0), class 1 = {3, 4, 5} (mean 4); h_G = 12/4 = 3; A = [-3, 1]
    # A A^T = [[9, -3], [-3, 1]], ||.||_F = sqrt(81+9+9+1) = 10 -> [[.9, -.3], [-.3, .1]]
    # minus ETF [[.5, -.5], [-.5, .5]] = [[.4, .2], [.2, -.4]]; NC2 = sqrt(.16+.04+.04+.16) = sqrt(.4)
    b = bundle(col([0, 3, 4, 5]), [0, 1, 1, 1])
    assert metric("nc2").score(b) == pytest.approx(-math.sqrt(0.4), rel=1e-12)


# ===========================================================================================
# Hand-worked: three classes in 1-D, unit variances
#   class k = {m_k - 1, m_k + 1}, m = (0, 2, 5): every biased variance is 1, h_G = 7/3
# ===========================================================================================
X3 = col([-1, 1, 1, 3, 4, 6])
Y3 = np.array([0, 0, 1, 1, 2, 2])


def test_hand_three_classes_variance_collapse_hscore_nc2():
    b = bundle(X3, Y3)
    # Sigma_W = 1; Sigma_B = ((0-7/3)^2 + (2-7/3)^2 + (5-7/3)^2)/3 = (49 + 1 + 64)/27 = 114/27
    # C = -(1/3) * 27/114 = -9/114 = -3/38
    assert metric("face-vc").score(b) == pytest.approx(-3 / 38, rel=1e-12)
    # H-score: between = 114/27 (balanced), total = within + between = 1 + 114/27 = 141/27 -> 114/141
    assert metric("hscore").score(b) == pytest.approx(114 / 141, rel=1e-12)
    # NC2: A = a (rank 1), a = (-7/3, -1/3, 8/3), sum a = 0; G = u u^T, u = a/|a|;
    # ||G - E||^2 = ||G||^2 - 2 u^T E u + ||E||^2 = 1 - 2 (1/sqrt 2) + 1, E = (I - 11^T/3)/sqrt 2
    assert metric("nc2").score(b) == pytest.approx(-math.sqrt(2 - math.sqrt(2)), rel=1e-12)


@pytest.mark.parametrize("t", [0.05, 0.3, 1.0])
def test_hand_three_classes_fairness(t):
    # Unit variances: the log-determinant term vanishes, D_ij = (m_i - m_j)^2 / 8:
    #   D01 = 4/8 = 0.5, D12 = 9/8 = 1.125, D02 = 25/8 = 3.125
    b01, b12, b02 = math.exp(-0.5), math.exp(-1.125), math.exp(-3.125)  # .60653, .32465, .04394
    rows = [[1.0, b01, b02], [b01, 1.0, b12], [b02, b12, 1.0]]
    f = 0.0
    for row in rows:
        z = sum(math.exp(v / t) for v in row)
        f -= sum(math.exp(v / t) / z * (v / t - math.log(z)) for v in row)
    f /= 3
    # Over the other classes only (row="others", the default): row i is softmax of its two
    # off-diagonal overlaps, a binary distribution with p = 1/(1 + e^{-(b_a - b_b)/t})
    f_others = (binary_entropy(1 / (1 + math.exp(-(b01 - b02) / t)))
                + binary_entropy(1 / (1 + math.exp(-(b01 - b12) / t)))
                + binary_entropy(1 / (1 + math.exp(-(b02 - b12) / t)))) / 3
    for name, params in [("face-cf", {}), ("face-cf-literal", {"ridge": 0.0})]:
        assert metric(name, t=t, row="all", **params).score(bundle(X3, Y3)) == pytest.approx(f, rel=1e-9)
        assert metric(name, t=t, **params).score(bundle(X3, Y3)) == pytest.approx(f_others, rel=1e-9)
    assert f_others < math.log(2)  # unequal overlaps: below the maximum ln(K - 1)
    # GBC = -2 (B01 + B12 + B02)
    assert metric("gbc").score(bundle(X3, Y3)) == pytest.approx(-2 * (b01 + b12 + b02), rel=1e-10)


# ===========================================================================================
# Hand-worked: 2-D
# ===========================================================================================
def test_hand_2d_variance_collapse_uses_pinv_in_span():
    # class 0 = {(-2, 1), (0, -1)}: mean (-1, 0); class 1 = {(1, 1), (1, -1)}: mean (1, 0); h_G = 0
    # Sigma_B = ((-1,0)(-1,0)^T + (1,0)(1,0)^T)/2 = diag(1, 0) -> Sigma_B^+ = diag(1, 0)
    # Sigma_0 = ((-1,1)(-1,1)^T + (1,-1)(1,-1)^T)/2 = [[1,-1],[-1,1]]; Sigma_1 = [[0,0],[0,1]]
    # Sigma_W = [[.5,-.5],[-.5,1]]; tr(Sigma_W Sigma_B^+) = .5; C = -.5/2 = -0.25
    x = np.array([[-2, 1], [0, -1], [1, 1], [1, -1]])
    assert metric("face-vc").score(bundle(x, [0, 0, 1, 1])) == pytest.approx(-0.25, rel=1e-12)


def test_hand_2d_fairness_isotropic_classes():
    # class 0 = {(+-1, +-1)} around (0, 0): covariance I; class 1 = {(3 +- 2, +-2)}: covariance 4 I
    # S = 2.5 I; (1/8) 9/2.5 = 0.45; (1/2) ln(|S| / sqrt(|I| |4I|)) = (1/2) ln(6.25/4) = ln 1.25
    # D = 0.45 + ln 1.25 = 0.6731436; B = 0.5101025. PCA axes are x and y (total variances
    # 4.75 and 2.5 differ), so face-cf (diagonal, after PCA) equals the literal F.
    x = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1], [5, 2], [5, -2], [1, 2], [1, -2]])
    y = [0, 0, 0, 0, 1, 1, 1, 1]
    b = math.exp(-(0.45 + math.log(1.25)))
    p = 1 / (1 + math.exp(-(1 - b) / 0.5))
    expected = binary_entropy(p)  # = 0.5861538
    assert expected == pytest.approx(0.5861537761421176, rel=1e-12)
    for name, params in [("face-cf", {}), ("face-cf", {"covariance": "full"}), ("face-cf-literal", {"ridge": 0.0})]:
        assert metric(name, t=0.5, row="all", **params).score(bundle(x, y)) == pytest.approx(expected, rel=1e-6), name
    assert metric("gbc").score(bundle(x, y)) == pytest.approx(-2 * b, rel=1e-10)


# ===========================================================================================
# Hand-worked: LEEP and NCE
# ===========================================================================================
def test_hand_leep():
    # theta: y=0: (1, 0), (.5, .5); y=1: (0, 1), (.5, .5); n = 4
    # P(y,z) = [[1.5, .5], [.5, 1.5]]/4; P(z) = (.5, .5); P(y|z) = [[.75, .25], [.25, .75]]
    # EEP: .75, .5*.75 + .5*.25 = .5, .75, .5 -> LEEP = (2 ln .75 + 2 ln .5)/4 = ln(.375)/2 = -0.4904146
    probs = np.array([[1, 0], [0.5, 0.5], [0, 1], [0.5, 0.5]])
    b = bundle(np.zeros((4, 1)), [0, 0, 1, 1], probs)
    assert metric("leep").score(b) == pytest.approx(math.log(0.375) / 2, rel=1e-12)


def test_hand_nce():
    # argmax source labels z = (0, 0, 1, 1, 0, 1) for y = (0, 0, 0, 1, 1, 1), n = 6
    # counts (y, z): (0,0)=2, (0,1)=1, (1,0)=1, (1,1)=2; P(z=0) = P(z=1) = 1/2
    # NCE = sum P(y,z) ln P(y|z) = 2 (2/6) ln(2/3) + 2 (1/6) ln(1/3) = (2/3) ln(2/3) + (1/3) ln(1/3) = -0.6365142
    z = [0, 0, 1, 1, 0, 1]
    probs = np.array([[0.7, 0.3] if zi == 0 else [0.2, 0.8] for zi in z])
    b = bundle(np.zeros((6, 1)), [0, 0, 0, 1, 1, 1], probs)
    assert metric("nce").score(b) == pytest.approx((2 / 3) * math.log(2 / 3) + (1 / 3) * math.log(1 / 3), rel=1e-12)


def test_nce_perfect_and_uninformative():
    y = np.repeat([0, 1, 2], 4)
    onehot = np.eye(5)[[[3, 1, 4][k] for k in y]] * 0.9 + 0.02  # argmax is a function of y
    assert metric("nce").score(bundle(np.zeros((12, 1)), y, onehot)) == pytest.approx(0.0, abs=1e-12)
    # a constant argmax carries no information: NCE = -H(Y) = -ln 3 for balanced classes
    const = np.tile([0.1, 0.6, 0.3], (12, 1))
    assert metric("nce").score(bundle(np.zeros((12, 1)), y, const)) == pytest.approx(-math.log(3), rel=1e-12)


def test_leep_uninformative_source_is_minus_label_entropy():
    # theta identical for every sample -> P(y|z) = P(y) for every z, EEP_i = P(y_i)
    # LEEP = (1/n) sum_i ln P(y_i); classes of sizes 2, 6 -> (2 ln .25 + 6 ln .75)/8
    y = np.array([0, 0, 1, 1, 1, 1, 1, 1])
    probs = np.tile([0.2, 0.5, 0.3], (8, 1))
    expected = (2 * math.log(0.25) + 6 * math.log(0.75)) / 8
    assert metric("leep").score(bundle(np.zeros((8, 1)), y, probs)) == pytest.approx(expected, rel=1e-12)


def test_variance_collapse_is_zero_for_collapsed_classes():
    # every sample sits on its class mean: Sigma_W = 0 -> C = 0, the maximum (C <= 0 always)
    rng = np.random.default_rng(0)
    means = rng.normal(size=(4, 6))
    y = np.repeat(np.arange(4), 5)
    assert metric("face-vc").score(bundle(means[y], y)) == pytest.approx(0.0, abs=1e-12)
    noisy = means[y] + 0.1 * rng.normal(size=(20, 6))
    assert metric("face-vc").score(bundle(noisy, y)) < 0


# ===========================================================================================
# Invariances
# ===========================================================================================
@pytest.fixture(scope="module")
def data():
    return ref.make_data(21, [30, 25, 40, 35, 20], 12, sep=0.6, z=9)


def _params(name):
    return {"t": 0.5} if name.startswith("face") and name != "face-vc" else {}


@pytest.mark.parametrize("name", ALL_METRICS)
def test_relabelling_classes_is_invariant(name, data):
    x, y, p = data
    new_ids = np.array([17, -4, 3, 100, 8])  # a permutation of the order, arbitrary ids
    m = metric(name, **_params(name))
    assert_value_close(m.score(bundle(x, new_ids[y], p)), m.score(bundle(x, y, p)), rtol=1e-9)


@pytest.mark.parametrize("name", ALL_METRICS)
def test_sample_order_is_invariant(name, data):
    x, y, p = data
    perm = np.random.default_rng(5).permutation(y.size)
    m = metric(name, **_params(name))
    assert_value_close(m.score(bundle(x[perm], y[perm], p[perm])), m.score(bundle(x, y, p)), rtol=1e-8)


@pytest.mark.parametrize("name", ["face-vc", "face-cf", "face-cf-literal", "gbc", "hscore", "nc2", "face", "face-literal"])
@pytest.mark.parametrize("factor", [1e-3, 7.3, 1e4])
def test_scale_invariance(name, factor, data):
    x, y, _ = data
    m = metric(name, **_params(name))
    assert_value_close(m.score(bundle(x * factor, y)), m.score(bundle(x, y)), rtol=1e-8)


@pytest.mark.parametrize("factor", [1e-3, 1e4])
def test_logme_maximised_evidence_absorbs_feature_scale(factor, data):
    # The evidence is log N(y; 0, beta^-1 I + alpha^-1 F F^T): F -> cF is alpha -> alpha c^2, so
    # the evidence *maximised* over alpha is unchanged (up to the fixed point's tolerance).
    x, y, _ = data
    m = metric("logme")
    assert_value_close(m.score(bundle(x * factor, y)), m.score(bundle(x, y)), rtol=1e-7)


@pytest.mark.parametrize("name", ["face-vc", "hscore", "nc2", "face-cf-literal"])
def test_rotation_invariance(name, data):
    x, y, _ = data
    q, _ = np.linalg.qr(np.random.default_rng(9).normal(size=(x.shape[1], x.shape[1])))
    m = metric(name, **_params(name))
    assert_value_close(m.score(bundle(x @ q, y)), m.score(bundle(x, y)), rtol=1e-8)


def test_face_cf_rotation_invariance_through_pca(data):
    # PCA makes the diagonal Gaussians rotation invariant too (distinct eigenvalues)
    x, y, _ = data
    q, _ = np.linalg.qr(np.random.default_rng(10).normal(size=(x.shape[1], x.shape[1])))
    for name in ("face-cf", "gbc"):
        m = metric(name, **_params(name))
        assert_value_close(m.score(bundle(x @ q, y)), m.score(bundle(x, y)), rtol=1e-7)


def test_hscore_invariant_to_invertible_linear_map(data):
    x, y, _ = data
    a = np.random.default_rng(3).normal(size=(x.shape[1], x.shape[1])) + 3 * np.eye(x.shape[1])
    m = metric("hscore")
    assert_value_close(m.score(bundle(x @ a, y)), m.score(bundle(x, y)), rtol=1e-7)


@pytest.mark.parametrize("name", ["face-vc", "face-cf", "face-cf-literal", "gbc", "hscore", "nc2"])
def test_translation_invariance(name, data):
    x, y, _ = data
    shift = np.random.default_rng(4).normal(size=x.shape[1]) * 5
    m = metric(name, **_params(name))
    assert_value_close(m.score(bundle(x + shift, y)), m.score(bundle(x, y)), rtol=1e-8)


@pytest.mark.parametrize("name", ALL_METRICS)
def test_determinism(name, data):
    x, y, p = data
    first = metric(name).score(bundle(x, y, p))
    second = metric(name).score(bundle(x.copy(), y.copy(), p.copy()))
    assert first == second


# ===========================================================================================
# NC2 of a simplex ETF
# ===========================================================================================
@pytest.mark.parametrize("k,d", [(2, 3), (4, 5), (5, 8), (10, 16)])
def test_nc2_zero_for_simplex_etf(k, d):
    rng = np.random.default_rng(k)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    etf = (np.eye(k) - 1.0 / k) @ q[:k] * 3.0  # K x d, rows at the vertices of a simplex ETF
    etf += rng.normal(size=d) * 10  # any translation
    # symmetric pairs +v, -v around each mean keep the class means exact
    noise = rng.normal(size=(k, 3, d))
    x = np.concatenate([np.concatenate([etf[c] + noise[c], etf[c] - noise[c]]) for c in range(k)])
    y = np.repeat(np.arange(k), 6)
    assert metric("nc2").score(bundle(x, y)) == pytest.approx(0.0, abs=1e-9)
    assert ref.nc2(x, y) == pytest.approx(0.0, abs=1e-9)
    if k > 2:  # (any two balanced classes form a simplex ETF)
        # moving one vertex off the ETF (along a direction orthogonal to the simplex) is seen
        x2 = x.copy()
        x2[y == 0] += q[k] * 2.0
        assert metric("nc2").score(bundle(x2, y)) < -1e-3
        assert metric("nc2").score(bundle(x2, y)) == pytest.approx(-ref.nc2(x2, y), rel=1e-9)


# ===========================================================================================
# Variance collapse with rank-deficient covariances and a large common offset
# ===========================================================================================
@pytest.mark.parametrize("n_k", [20, 40])  # n = 200 < d and n = 400 > d
@pytest.mark.parametrize("offset,spread", [(100.0, 1.0), (100.0, 1e-5), (1e4, 1e-3)])
def test_variance_collapse_robust_to_rank_deficiency(n_k, offset, spread):
    # K = 10 balanced classes in d = 256: M = [mu_k - h_G] has rank K - 1 = 9 exactly, and the
    # K-th direction holds only the rounding of the (large, common) offset. With spread = 1e-5
    # a naive np.linalg.pinv(Sigma_B) inverts that rounding noise (C ~ -1e13 on this data).
    k, d = 10, 256
    rng = np.random.default_rng(n_k)
    means = rng.normal(size=(k, d)) * 0.3
    z = np.concatenate([means[c] + rng.normal(size=(n_k, d)) * rng.uniform(0.5, 1.5, size=d) for c in range(k)])
    y = np.repeat(np.arange(k), n_k)
    x = offset + spread * z
    got = metric("face-vc").score(bundle(x, y))
    assert np.isfinite(got)
    assert -1e3 < got < 0
    expected = ref.variance_collapse(x, y, rank=k - 1)  # pinv in the (K-1)-dim span of Sigma_B
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # C is invariant to translation and scale: the well-conditioned data give the same value
    np.testing.assert_allclose(got, ref.variance_collapse(z, y, rank=k - 1), rtol=1e-6)


def test_variance_collapse_float32_features_with_offset():
    # features that went through float32 (as real extracted features do), large common offset
    k, d, n_k = 10, 256, 20
    rng = np.random.default_rng(99)
    means = rng.normal(size=(k, d)) * 0.3
    x = (np.concatenate([means[c] + rng.normal(size=(n_k, d)) for c in range(k)]) + 100.0).astype(np.float32)
    y = np.repeat(np.arange(k), n_k)
    got = metric("face-vc").score(bundle(x, y))
    expected = ref.variance_collapse(x.astype(np.float64), y, rank=k - 1)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
