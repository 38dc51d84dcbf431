"""The metric math through torch (float64) agrees with numpy within 1e-6 relative, for every metric.

The GPU path of a run's scoring jobs is ``torch_backend(<cuda device>)``; here it runs on CPU torch
with every operand sent through torch (``min_elements=0``), which exercises the same code.
"""
from __future__ import annotations

import numpy as np
import pytest

from facebench.bundle import FeatureBundle
from facebench.metrics import _backend
from facebench.metrics._backend import torch_backend
from facebench.metric_factory import create_metrics
from facebench.plugins import get_plugins


def bundle(n: int, d: int, k: int, seed: int = 0) -> FeatureBundle:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    means = rng.normal(size=(k, d))
    x = rng.normal(size=(n, d)) + means[labels] + 0.3
    logits = rng.normal(size=(n, 7)) + np.eye(k, 7)[labels] * 2
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return FeatureBundle.from_arrays(x, labels, probs, name=f"b{n}x{d}")


def as_array(value) -> np.ndarray:
    """A metric's output (a number, an array, or a mapping of them) as one float64 vector."""
    if isinstance(value, dict):
        return np.concatenate([as_array(value[k]) for k in sorted(value)]) if value else np.zeros(0)
    return np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()


SLOW_METRICS = {"nleep", "pactran-gauss"}  # iterative fits whose paths the backend's rounding can move
# the modules whose arithmetic goes through facebench.metrics._backend (directly or via _linalg)
BACKEND_MODULES = {"face", "gbc", "hscore", "logme", "ncti", "sfda", "transrate"}


def check_metrics(shape, only_backend: bool) -> list[str]:
    metrics = create_metrics(None, get_plugins(()).metrics)
    checked = []
    for name, metric in metrics.items():
        if name in SLOW_METRICS or (only_backend and type(metric).__module__.rsplit(".", 1)[-1] not in BACKEND_MODULES):
            continue
        try:
            expected = as_array(metric.score(bundle(*shape)))
        except Exception:  # noqa: BLE001 - a metric that refuses this shape refuses it on both paths
            with torch_backend("cpu", min_elements=0), pytest.raises(Exception):
                metric.score(bundle(*shape))
            continue
        with torch_backend("cpu", min_elements=0):
            got = as_array(metric.score(bundle(*shape)))
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12, err_msg=name)
        checked.append(name)
    return checked


# n < d takes the metrics' Gram-matrix branches; n - 1 (the centred rank) stays above ncti's 64 PCA
# dimensions: with more dimensions than the rank, its last component is rounding noise on either path.
SHAPES = pytest.mark.parametrize("shape", [(300, 24, 5), (100, 120, 4)], ids=["n>d", "n<d"])


@SHAPES
def test_the_metrics_that_use_the_backend_agree_through_torch(shape):
    checked = check_metrics(shape, only_backend=True)
    assert {"logme", "hscore", "sfda", "face", "gbc", "ncti", "transrate"} <= set(checked)


@pytest.mark.slow  # every metric, as a guard that none bypasses the comparison
@SHAPES
def test_every_metric_agrees_through_torch(shape):
    assert len(check_metrics(shape, only_backend=False)) >= 15


def test_the_backend_sends_large_operands_through_torch_and_small_ones_not(monkeypatch):
    calls = []
    real = _backend._to
    monkeypatch.setattr(_backend, "_to", lambda device, a: calls.append(a.size) or real(device, a))
    x = np.random.default_rng(1).normal(size=(50, 8))
    with torch_backend("cpu", min_elements=300):
        g = _backend.gram(x)  # 400 elements: torch
        w, v = _backend.eigh(g)  # 64: numpy
    assert calls == [400]
    np.testing.assert_allclose(g, x.T @ x, rtol=1e-12)
    np.testing.assert_allclose(v @ np.diag(w) @ v.T, g, rtol=1e-10, atol=1e-10)
    assert _backend._device_for(x) is None  # outside the context: numpy
