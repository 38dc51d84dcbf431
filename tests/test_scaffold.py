"""facebench.scaffold: a generated metric package imports, registers and passes its own tests."""
from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from facebench.bundle import FeatureBundle
from facebench.errors import FacebenchError
from facebench.plugins import Plugins
from facebench.scaffold import metric_names, new_metric, next_steps
from facebench.testing import check_metric


@pytest.mark.parametrize(
    "name, metric, package, cls",
    [
        ("Entropy Gap", "entropy-gap", "facebench_entropy_gap", "EntropyGap"),
        ("nc_ratio", "nc-ratio", "facebench_nc_ratio", "NcRatio"),
        ("3nn", "metric-3nn", "facebench_metric_3nn", "Metric3nn"),
        ("class", "class-metric", "facebench_class_metric", "ClassMetric"),
    ],
)
def test_names(name, metric, package, cls):
    names = metric_names(name)
    assert (names.metric, names.package, names.cls) == (metric, package, cls)
    assert names.package.isidentifier() and names.ident.isidentifier()


@pytest.mark.parametrize("bad", ["", "  ", "---", "42"])
def test_unusable_names(bad):
    with pytest.raises(FacebenchError, match="not a usable metric name"):
        metric_names(bad)


def test_scaffolded_package_works_out_of_the_box(tmp_path, monkeypatch):
    root = new_metric("Entropy Gap", tmp_path)
    assert root == tmp_path / "facebench-entropy-gap"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == ["README.md", "pyproject.toml", "src/facebench_entropy_gap/__init__.py",
                     "src/facebench_entropy_gap/metric.py", "src/facebench_entropy_gap/plugin.py",
                     "tests/test_entropy_gap.py"]
    pyproject = (root / "pyproject.toml").read_text()
    assert '[project.entry-points.facebench]\nentropy-gap = "facebench_entropy_gap.plugin"' in pyproject
    doc = (root / "src/facebench_entropy_gap/metric.py").read_text()
    for word in ("Formula", "Source", "Needs", "min_per_class"):
        assert word in doc
    assert "entropy-gap" in next_steps(root)

    # import the generated module via sys.path: it conforms and registers through its hook
    monkeypatch.syspath_prepend(str(root / "src"))
    module = importlib.import_module("facebench_entropy_gap.metric")
    try:
        metric = check_metric(module.EntropyGap, plugin_module="facebench_entropy_gap.plugin")
        assert metric.name == "entropy-gap"
        bundle = FeatureBundle.from_arrays([[0.0], [1.0], [3.0], [10.0]], [0, 0, 1, 1])
        assert metric.score(bundle) == pytest.approx(0.75)
        plugins = Plugins(["facebench_entropy_gap.plugin"], entry_points=False)
        assert plugins.metrics.get("entropy-gap") is module.EntropyGap
    finally:
        for mod in [m for m in sys.modules if m.startswith("facebench_entropy_gap")]:
            del sys.modules[mod]

    # the generated tests pass as generated (nothing installed)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:benchmark"], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "10 passed" in proc.stdout  # the kit's 9 checks (one a no-op for non-controls) + registration


def test_refuses_to_overwrite(tmp_path):
    root = new_metric("dup", tmp_path)
    with pytest.raises(FacebenchError, match="already exists"):
        new_metric("dup", tmp_path)
    assert (root / "pyproject.toml").is_file()
