"""The example external plugin plugins/facebench-knn: its own tests pass; once installed, facebench finds it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).resolve().parents[1] / "plugins" / "facebench-knn"


def test_plugin_package_layout():
    text = (PLUGIN_DIR / "pyproject.toml").read_text()
    assert 'name = "facebench-knn"' in text
    assert '[project.entry-points.facebench]\nknn = "facebench_knn.plugin"' in text
    assert (PLUGIN_DIR / "README.md").is_file()


def test_plugin_own_tests_pass():
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:benchmark"], cwd=PLUGIN_DIR, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    """pip-install the plugin into a throwaway target directory (not the shared venv)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target), str(PLUGIN_DIR)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return target


def test_installed_plugin_is_found_through_its_entry_point(installed_plugin):
    import os

    env = {**os.environ, "PYTHONPATH": str(installed_plugin)}
    code = (
        "from facebench.plugins import Plugins; p = Plugins(); e = p.metrics.entry('knn'); "
        "info = {i.name: i for i in p.plugin_infos()}['knn']; "
        "print(e.plugin, info.source, info.registers, info.version, e.summary, sep='|')"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    plugin, source, registers, version, summary = proc.stdout.strip().split("|")
    assert plugin == "knn" and source == "entry point" and registers == "{'metrics': ['knn']}"
    assert "facebench-knn" in version or "facebench_knn" in version
    assert "k-NN" in summary
    proc = subprocess.run([sys.executable, "-m", "facebench", "list", "metrics"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert any(line.startswith("knn ") and line.endswith("[knn]") for line in proc.stdout.splitlines()), proc.stdout
