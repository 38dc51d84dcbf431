"""Shared fixtures: the test plugins of this folder (tests/toytask, hostile_plugin) loaded with a fresh plugin manager."""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

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


def refuse_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connection attempt and name lookup is recorded (the returned list) and refused; no proxy is set."""
    attempts: list[Any] = []

    def refuse(*args, **kwargs):
        attempts.append(args[1:] if args and isinstance(args[0], socket.socket) else args)
        raise OSError("network disabled by the test")

    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts
