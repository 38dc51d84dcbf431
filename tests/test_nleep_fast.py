"""N-LEEP's pruned full-covariance EM (facebench.metrics._gmm) against scikit-learn's GaussianMixture,
the implementation it replaced (still reachable as ``mixture_posteriors(..., engine="sklearn")``).

Both are run here on the same inputs (nothing is copied from an earlier run), on bundles small
enough for scikit-learn: where the bounds prune almost every (sample, component) pair, where they
prune a few, where they prune nothing (the dense fallback) and where EM runs for many steps. The
tolerance is that of the N-LEEP tests in test_metrics_recent.py (rtol 1e-10 on the value).
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

sys.path.insert(0, os.path.dirname(__file__))
import reference_impls as ref  # noqa: E402

from facebench.bundle import FeatureBundle  # noqa: E402
from facebench.metrics import _gmm  # noqa: E402
from facebench.metrics._linalg import pca_project_variance  # noqa: E402
from facebench.metrics.leep import expected_empirical_prediction  # noqa: E402
from facebench.metrics.nleep import mixture_posteriors  # noqa: E402
from facebench.plugins import get_plugins  # noqa: E402

RTOL = 1e-10  # the N-LEEP tests' tolerance (test_metrics_recent.py)

# (counts per class, d, separation): pruning nearly everything (n_k < d'), pruning part, dense fallback
# (bounds too weak), few dimensions (no bounds; EM for 10-30 steps)
CASES = {
    "pruned": ([50] * 8, 150, 1.0),
    "pruned-many-classes": ([40] * 10, 200, 0.6),
    "partly-pruned": ([30] * 12, 80, 0.3),
    "dense": ([60, 40, 50, 30, 70, 50], 120, 0.8),
    "low-dim-long-em": ([200, 150, 250], 12, 0.5),
}


def nleep_from(post: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.log(expected_empirical_prediction(post, y, int(y.max()) + 1))))


def both(x, y, n_components, seed, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        new = mixture_posteriors(x, n_components, 0.8, seed, **kw)
        old = mixture_posteriors(x, n_components, 0.8, seed, engine="sklearn", **kw)
    return new, old


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", list(CASES))
def test_pruned_em_equals_sklearn(case, seed):
    counts, d, sep = CASES[case]
    x, y, _ = ref.make_data(seed, counts, d, sep=sep)
    new, old = both(x, y, len(counts), seed)
    np.testing.assert_allclose(new, old, rtol=0, atol=1e-10)
    np.testing.assert_allclose(nleep_from(new, y), nleep_from(old, y), rtol=RTOL)


@pytest.mark.parametrize("seed", [0, 1])
def test_pruned_em_equals_sklearn_five_components_per_class(seed):
    # the SFDA code's default ratio (5 components per class)
    x, y, _ = ref.make_data(seed, [60] * 5, 100, sep=0.8)
    new, old = both(x, y, 25, seed)
    np.testing.assert_allclose(new, old, rtol=0, atol=1e-10)
    np.testing.assert_allclose(nleep_from(new, y), nleep_from(old, y), rtol=RTOL)


@pytest.mark.parametrize("max_iter", [1, 3])
def test_unconverged_fit_equals_sklearn_and_warns(max_iter):
    counts, d, sep = CASES["low-dim-long-em"]
    x, y, _ = ref.make_data(0, counts, d, sep=sep)
    with pytest.warns(ConvergenceWarning):
        new = mixture_posteriors(x, 3, 0.8, 0, max_iter=max_iter)
    with pytest.warns(ConvergenceWarning):
        old = mixture_posteriors(x, 3, 0.8, 0, max_iter=max_iter, engine="sklearn")
    np.testing.assert_allclose(new, old, rtol=0, atol=1e-10)


@pytest.mark.parametrize("case", ["pruned", "partly-pruned", "dense", "low-dim-long-em"])
def test_fit_follows_sklearn_step_for_step(case):
    # the same number of EM steps and the same final lower bound (mean log-likelihood) as
    # GaussianMixture, and the path the case is meant to take (pruned or dense)
    counts, d, sep = CASES[case]
    x, y, _ = ref.make_data(1, counts, d, sep=sep)
    z = pca_project_variance(x, 0.8)
    gmm = GaussianMixture(n_components=len(counts), covariance_type="full", random_state=1).fit(z)
    mix, post, info = _gmm.fit_full_mixture(z, len(counts), 1)
    assert info.n_iter == gmm.n_iter_ and info.converged == gmm.converged_
    # rtol 1e-9: the Mahalanobis terms come from a triangular solve here, from an explicit inverse there
    np.testing.assert_allclose(info.lower_bound, gmm.lower_bound_, rtol=1e-9)
    np.testing.assert_allclose(mix.weights, gmm.weights_, rtol=1e-10)
    np.testing.assert_allclose(mix.means, gmm.means_, rtol=1e-9, atol=1e-9 * np.abs(gmm.means_).max())
    np.testing.assert_allclose(post, gmm.predict_proba(z), rtol=0, atol=1e-10)
    # the two readings of the final posteriors agree: the fit's own and a fresh E step
    np.testing.assert_allclose(_gmm.posteriors(z, mix), post, rtol=0, atol=1e-12)
    fraction = info.exact_pairs / info.all_pairs
    if case == "pruned":
        assert fraction < 0.3, fraction  # at least 1/Z: every sample keeps one component
    elif case == "dense":  # the first E step tries the bounds, finds they prune little, and stops using them
        assert fraction > 0.8, fraction
    elif case == "low-dim-long-em":  # 7 PCA dimensions: too few for bounds
        assert fraction == 1.0, fraction


def far_pairs(seed: int, groups: int = 6, d: int = 24) -> np.ndarray:
    """``groups`` pairs of overlapping Gaussians (means one sigma apart), the pairs 200 sigma apart."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, d))
    centres *= 200 / np.linalg.norm(centres, axis=1, keepdims=True)
    parts = []
    for g in range(groups):
        step = rng.normal(size=d)
        step /= np.linalg.norm(step)
        for h in range(2):
            parts.append(centres[g] + h * step + rng.normal(size=(100, d)) * np.linspace(0.5, 1.5, d))
    return np.concatenate(parts)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pruning_keeps_soft_responsibilities(seed):
    # the bounds prune the far pairs while the responsibilities inside a pair stay soft (2-3% of the
    # samples between 1e-3 and 1 - 1e-3): pruning a component that still has r_iz > 0 in float64
    # (a margin below 745 nats, or a "bound" that is not one) moves these posteriors (by 1e-6 to 1e-5
    # with a margin of 0)
    x = far_pairs(seed)
    gmm = GaussianMixture(n_components=12, covariance_type="full", random_state=seed).fit(x)
    expected = gmm.predict_proba(x)
    assert np.mean((expected > 1e-3) & (expected < 1 - 1e-3)) > 0.01
    _, post, info = _gmm.fit_full_mixture(x, 12, seed)
    assert info.prune and info.exact_pairs < 0.3 * info.all_pairs  # the bounds were used throughout
    assert info.n_iter == gmm.n_iter_
    np.testing.assert_allclose(post, expected, rtol=0, atol=1e-10)


def test_pruning_off_gives_the_same_fit():
    counts, d, sep = CASES["pruned"]
    x, y, _ = ref.make_data(2, counts, d, sep=sep)
    z = pca_project_variance(x, 0.8)
    _, pruned, info = _gmm.fit_full_mixture(z, len(counts), 2)
    _, dense, info_dense = _gmm.fit_full_mixture(z, len(counts), 2, prune=False)
    assert info.exact_pairs < info_dense.exact_pairs
    np.testing.assert_allclose(pruned, dense, rtol=0, atol=1e-12)


def test_zoo_ranked_the_same():
    # five "models" of one target, from well to badly separated classes: the same scores and the
    # same order from both implementations
    rng = np.random.default_rng(7)
    y = np.repeat(np.arange(6), 40)
    rng.shuffle(y)
    basis = rng.normal(size=(6, 90))
    metric = get_plugins().create_metric("nleep")
    new_scores, old_scores = [], []
    for sep in (0.8, 0.5, 0.35, 0.25, 0.15):
        x = basis[y] * sep + rng.normal(size=(y.size, 90)) * np.linspace(0.5, 1.5, 90)
        new_scores.append(metric.score(FeatureBundle.from_arrays(x, y, name=f"sep{sep}")))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            old_scores.append(nleep_from(mixture_posteriors(x, 6, 0.8, 0, engine="sklearn"), y))
    np.testing.assert_allclose(new_scores, old_scores, rtol=RTOL)
    assert list(np.argsort(new_scores)) == list(np.argsort(old_scores))
    assert len(set(np.round(new_scores, 6))) == len(new_scores)  # the ranking is not a tie


def test_engine_is_checked():
    with pytest.raises(ValueError, match="engine"):
        mixture_posteriors(np.zeros((4, 2)), 2, 0.8, 0, engine="fast")
