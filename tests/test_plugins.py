"""Plugin manager and registries: loading order, duplicates, misspelt hooks, listings."""
from __future__ import annotations

import sys
import types

import pytest

from facebench import hookimpl
from facebench.cli import main
from facebench.errors import FacebenchError, RegistryError
from facebench.metrics.base import Metric
from facebench.plugins import BUILTIN_PLUGINS, Plugins, reset_plugins_cache
from facebench.registry import Registry


def _module(name: str, **attrs) -> types.ModuleType:
    mod = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(mod, k, v)
    sys.modules[name] = mod
    return mod


class Centroid(Metric):
    """Toy metric: negative mean distance to the class centroid."""

    name = "toy-centroid"
    summary = "toy metric"

    def compute(self, bundle):
        return 0.0


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.delenv("FACEBENCH_PLUGINS", raising=False)
    reset_plugins_cache()
    yield
    reset_plugins_cache()
    for name in [n for n in sys.modules if n.startswith("fbtest_")]:
        del sys.modules[name]


def test_builtins_register_through_hooks():
    plugins = Plugins()
    metrics = plugins.metrics
    expected = {"face", "face-vc", "face-cf", "face-literal", "face-cf-literal", "nc2", "leep", "nce", "logme", "hscore", "gbc"}
    assert expected <= set(metrics.names())
    for name in expected:
        assert metrics.entry(name).plugin == "facebench.metrics.builtin"
        assert metrics.entry(name).summary
    assert "facebench.metrics.builtin" in BUILTIN_PLUGINS


def test_external_module_from_env_var(monkeypatch):
    @hookimpl
    def facebench_metrics():
        return [Centroid]

    _module("fbtest_ext", facebench_metrics=facebench_metrics, __version__="9.9")
    monkeypatch.setenv("FACEBENCH_PLUGINS", "fbtest_ext")
    plugins = Plugins()
    assert plugins.metrics.entry("toy-centroid").plugin == "fbtest_ext"
    info = {i.name: i for i in plugins.plugin_infos()}["fbtest_ext"]
    assert info.version == "9.9" and info.registers == {"metrics": ["toy-centroid"]} and info.source == "module"


def test_external_module_from_config_list():
    @hookimpl
    def facebench_metrics():
        return [Centroid]

    _module("fbtest_cfg", facebench_metrics=facebench_metrics)
    assert "toy-centroid" in Plugins(["fbtest_cfg"]).metrics


def test_duplicate_name_names_both_plugins():
    class Face(Centroid):
        name = "face"

    @hookimpl
    def facebench_metrics():
        return [Face]

    _module("fbtest_dup", facebench_metrics=facebench_metrics)
    with pytest.raises(RegistryError) as err:
        Plugins(["fbtest_dup"])
    assert "'face'" in str(err.value)
    assert "facebench.metrics.builtin" in str(err.value) and "fbtest_dup" in str(err.value)


def test_misspelt_hook_fails_loudly():
    @hookimpl
    def facebench_metric():  # missing 's'
        return []

    _module("fbtest_typo", facebench_metric=facebench_metric)
    with pytest.raises(FacebenchError, match="facebench_metric"):
        Plugins(["fbtest_typo"])


def test_unimportable_plugin_module():
    with pytest.raises(FacebenchError, match="fbtest_missing"):
        Plugins(["fbtest_missing"])


def test_registry_unknown_name_suggests():
    reg: Registry[int] = Registry("metric")
    reg.add("logme", 1, plugin="p")
    with pytest.raises(RegistryError, match="did you mean logme"):
        reg.get("logm")


def run_cli(args):
    try:
        main(args)
    except SystemExit as exc:
        return exc.code or 0
    return 0


def test_cli_lists(capsys):
    assert run_cli(["list", "metrics"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "face" in lines and "Ding" in lines["face"]
    assert run_cli(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "facebench.metrics.builtin" in out and "facebench 0.1.0" in out


def test_cli_unknown_registry_kind(capsys):
    assert run_cli(["list", "nonsense"]) == 2
    assert "nonsense" in capsys.readouterr().err
