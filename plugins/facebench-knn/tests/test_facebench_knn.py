"""Tests of the knn metric: the facebench conformance kit plus cases worked by hand."""
import numpy as np
import pytest

from facebench.bundle import FeatureBundle
from facebench.errors import FacebenchError
from facebench.testing import MetricConformance, check_metric
from facebench_knn import KNNAccuracy, loo_knn_accuracy


class TestKNNConformance(MetricConformance):
    metric = KNNAccuracy
    plugin_module = "facebench_knn.plugin"  # registration is checked even when the package is not installed


class TestKNNEuclideanConformance(MetricConformance):
    metric = KNNAccuracy
    params = {"k": 3, "distance": "euclidean"}


def test_check_metric_in_one_call():
    check_metric(KNNAccuracy, k=1)


# 1-D points, class 0 at A=0, B=1, C=2.5 and class 1 at D=10, E=11, F=4.5:
#   k=1: A->B(0) ok, B->A(0) ok, C->B(0) ok, D->E(1) ok, E->D(1) ok, F->C(0) wrong      => 5/6
#   k=2: C's neighbours are B (1.5, class 0) and F (2.0, class 1): a 1-1 tie that goes to the
#        nearest, B, so C is right; F's are C and B (class 0): wrong; the rest right   => 5/6
#   k=5 (all the others vote): each sample sees 2 of its own class against 3 of the other,
#        e.g. A: B, C (class 0) vs D, E, F (class 1) => wrong, and so for everyone     => 0/6
POINTS = np.array([[0.0], [1.0], [2.5], [10.0], [11.0], [4.5]])
LABELS = np.array([0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize("k, expected", [(1, 5 / 6), (2, 5 / 6), (5, 0.0)])
def test_hand_worked_euclidean(k, expected):
    assert loo_knn_accuracy(POINTS, LABELS, k=k, distance="euclidean") == pytest.approx(expected)
    bundle = FeatureBundle.from_arrays(POINTS, LABELS, name="hand")
    assert KNNAccuracy(k=k, distance="euclidean").score(bundle) == pytest.approx(expected)


def test_tie_goes_to_the_nearest_neighbour_whatever_the_label_numbers():
    # With the labels swapped, C's 1-1 tie must still go to B (now class 1): still right.
    swapped = 1 - LABELS
    assert loo_knn_accuracy(POINTS, swapped, k=2, distance="euclidean") == pytest.approx(5 / 6)


def test_hand_worked_cosine_ignores_norms():
    # Directions (degrees): class 0 at 0, 10, 25; class 1 at 90, 100, 45; norms all different.
    # k=1: 0->10 ok, 10->0 ok, 25->10 (15 deg vs 20 to 45) ok, 90->100 ok, 100->90 ok,
    #      45->25 (20 deg vs 45 to 90) wrong                                           => 5/6
    angles = np.deg2rad([0, 10, 25, 90, 100, 45])
    norms = np.array([1.0, 5.0, 0.2, 3.0, 0.5, 7.0])
    x = norms[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert loo_knn_accuracy(x, LABELS, k=1, distance="cosine") == pytest.approx(5 / 6)


def test_k_is_capped_and_blocks_agree():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2100, 4))  # more rows than one block of the distance matrix
    y = (x[:, 0] > 0).astype(int)
    value = loo_knn_accuracy(x, y, k=7)
    assert 0.8 < value <= 1.0
    assert loo_knn_accuracy(POINTS, LABELS, k=50, distance="euclidean") == loo_knn_accuracy(
        POINTS, LABELS, k=5, distance="euclidean"
    )


@pytest.mark.parametrize("params", [{"k": 0}, {"k": 2.5}, {"distance": "manhattan"}])
def test_bad_parameters(params):
    with pytest.raises(ValueError):
        KNNAccuracy(**params)


def test_registered_through_the_plugin_module():
    from facebench.plugins import Plugins

    plugins = Plugins(["facebench_knn.plugin"], entry_points=False)
    assert plugins.metrics.get("knn") is KNNAccuracy
    assert plugins.metrics.entry("knn").plugin == "facebench_knn.plugin"
    metric = plugins.create_metric("knn", k=3)
    assert metric.params() == {"k": 3, "distance": "cosine"}
    with pytest.raises(FacebenchError):
        plugins.create_metric("knn", neighbours=3)
