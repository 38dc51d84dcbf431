"""Shared fixtures: the test plugins of this folder (tests/toytask, hostile_plugin) loaded with a fresh plugin manager."""
from __future__ import annotations

from pathlib import Path

import pytest

from facebench.plugins import reset_plugins_cache

HERE = Path(__file__).parent
TOY_SWITCHES = ("TOY_FAIL_AT", "TOY_KILL_AT", "TOY_HOLD_AT")  # the toy task's failure and hold switches


def load_test_plugins(monkeypatch: pytest.MonkeyPatch, modules: str | None):
    """tests/ importable; ``$FACEBENCH_PLUGINS`` set to ``modules`` (None: unset, a config names them);
    the toy task's switches off and its call log cleared; the plugin manager rebuilt on next use."""
    monkeypatch.syspath_prepend(str(HERE))
    if modules is None:
        monkeypatch.delenv("FACEBENCH_PLUGINS", raising=False)
    else:
        monkeypatch.setenv("FACEBENCH_PLUGINS", modules)
    for var in TOY_SWITCHES:
        monkeypatch.delenv(var, raising=False)
    reset_plugins_cache()
    import toytask.task as toy_task

    toy_task.CALLS.clear()
    return toy_task


@pytest.fixture
def toy_plugin(monkeypatch):
    """The toy task loaded through ``$FACEBENCH_PLUGINS``; the value is its task module (``CALLS``)."""
    yield load_test_plugins(monkeypatch, "toytask.plugin")
    reset_plugins_cache()


@pytest.fixture
def toy_importable(monkeypatch):
    """The toy task importable but not loaded: a config's ``plugins:`` names it."""
    yield load_test_plugins(monkeypatch, None)
    reset_plugins_cache()


@pytest.fixture
def toy_and_hostile_plugins(monkeypatch):
    """The toy task and the hostile metrics of tests/hostile_plugin.py, loaded through ``$FACEBENCH_PLUGINS``."""
    yield load_test_plugins(monkeypatch, "toytask.plugin,hostile_plugin")
    reset_plugins_cache()
