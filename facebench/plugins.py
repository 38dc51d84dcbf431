"""The plugin manager: built-ins first, then ``facebench`` entry points, then named modules.

Order of loading (as pytest and tox do it):

1. the built-in plugin modules of :data:`BUILTIN_PLUGINS`;
2. setuptools entry points of group ``facebench`` (installed plugin packages);
3. modules named in the config (``plugins:`` list) or in ``$FACEBENCH_PLUGINS``
   (comma-separated importable module names);

then ``check_pending()``, so that a misspelt hook name fails loudly. The registries for metrics,
tasks, zoos and datasets are filled from the hook results, each entry tagged with its plugin and
checked against its base class (:data:`REGISTRY_TYPES`). A task is a plugin like any other: the
classification task's ``plugin.py`` is loaded here exactly as a config's ``plugins:`` module is.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import os
from dataclasses import dataclass, field
from typing import Any, Iterable

import pluggy

from . import __version__, hookspecs
from .errors import FacebenchError, RegistryError
from .metric_factory import create_metrics
from .metrics.base import Metric
from .registry import Registry
from .tasks.base import DatasetSpec, Task, Zoo

ENTRY_POINT_GROUP = "facebench"
ENV_VAR = "FACEBENCH_PLUGINS"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "facebench.metrics.builtin",
    "facebench.tasks.classification.plugin",
    "facebench.tasks.segmentation.plugin",
    "facebench.tasks.text.plugin",
)

REGISTRY_HOOKS = {
    "metrics": "facebench_metrics",
    "tasks": "facebench_tasks",
    "zoos": "facebench_zoos",
    "datasets": "facebench_datasets",
}

#: kind -> (base class, entries are subclasses rather than instances)
REGISTRY_TYPES: dict[str, tuple[type, bool]] = {
    "metrics": (Metric, True),
    "tasks": (Task, False),
    "zoos": (Zoo, False),
    "datasets": (DatasetSpec, False),
}


@dataclass
class PluginInfo:
    name: str
    version: str
    source: str  # "builtin", "entry point", "module"
    registers: dict[str, list[str]] = field(default_factory=dict)


def _summary_of(entry: Any) -> str:
    summary = getattr(entry, "summary", None)
    if summary:
        return str(summary).strip().splitlines()[0]
    doc = inspect.getdoc(entry) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class Plugins:
    """The loaded plugins and the registries they filled (a small facade over pluggy)."""

    def __init__(self, extra_modules: Iterable[str] = (), *, entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._sources: dict[str, str] = {}
        for modname in BUILTIN_PLUGINS:
            self._register_module(modname, "builtin")
        self._dists: dict[str, str] = {}  # entry-point plugin -> "distribution version"
        self.broken: dict[str, str] = {}  # installed plugin (entry point) -> why it could not be loaded
        if entry_points:
            self._load_entry_points()
        env = [m.strip() for m in os.environ.get(ENV_VAR, "").split(",") if m.strip()]
        for modname in [*extra_modules, *env]:
            if self.pm.has_plugin(modname):
                continue
            self._register_module(modname, "module")
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise FacebenchError(f"plugin {exc.plugin!r}: {exc}") from None
        self.registries: dict[str, Registry[Any]] = {
            kind: Registry(kind[:-1], base, subclasses=sub) for kind, (base, sub) in REGISTRY_TYPES.items()
        }
        self._fill_registries()

    def _load_entry_points(self) -> None:
        """Installed plugins (entry points of group ``facebench``). One whose import fails is left
        out and named in :attr:`broken` (the CLI warns): the other plugins' metrics still run."""
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if self.pm.has_plugin(ep.name) or self.pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - any error at import: that plugin is broken, not the run
                self.broken[ep.name] = f"{ep.value}: {type(exc).__name__}: {exc}"
                continue
            if self.pm.is_registered(plugin):
                continue
            try:
                self.pm.register(plugin, name=ep.name)
            except pluggy.PluginValidationError as exc:
                self.broken[ep.name] = f"{ep.value}: {exc}"
                continue
            self._sources[ep.name] = "entry point"
            if ep.dist is not None:
                self._dists[ep.name] = f"{ep.dist.name} {ep.dist.version}"

    def _register_module(self, modname: str, source: str) -> None:
        try:
            module = importlib.import_module(modname)
        except Exception as exc:  # noqa: BLE001 - a SyntaxError or any error at import time, not only ImportError
            raise FacebenchError(f"cannot import plugin module {modname!r}: {type(exc).__name__}: {exc}") from None
        if self.pm.is_registered(module):  # already loaded, e.g. through its entry point
            return
        try:
            self.pm.register(module, name=modname)
        except pluggy.PluginValidationError as exc:
            raise FacebenchError(f"plugin module {modname!r}: {exc}") from None
        self._sources[modname] = source

    def _fill_registries(self) -> None:
        for kind, hookname in REGISTRY_HOOKS.items():
            caller = getattr(self.pm.hook, hookname)
            # Call each implementation on its own so that every entry is tagged with its plugin.
            for impl in reversed(caller.get_hookimpls()):
                try:
                    entries = impl.function() or []
                except Exception as exc:  # noqa: BLE001 - named, one line, instead of a traceback
                    raise FacebenchError(f"plugin {impl.plugin_name!r}: hook {hookname} raised "
                                         f"{type(exc).__name__}: {exc}") from None
                for entry in entries:
                    name = getattr(entry, "name", None)
                    self.registries[kind].add(name, entry, plugin=impl.plugin_name, summary=_summary_of(entry))

    # -- registries ---------------------------------------------------------------------------
    @property
    def metrics(self) -> Registry[type[Metric]]:
        return self.registries["metrics"]

    @property
    def tasks(self) -> Registry[Task]:
        return self.registries["tasks"]

    @property
    def zoos(self) -> Registry[Zoo]:
        return self.registries["zoos"]

    @property
    def datasets(self) -> Registry[DatasetSpec]:
        return self.registries["datasets"]

    def registry(self, kind: str) -> Registry[Any]:
        if kind not in self.registries:
            raise RegistryError(f"unknown registry {kind!r} (known: {', '.join(self.registries)})")
        return self.registries[kind]

    def create_metric(self, name: str, **params: Any) -> Metric:
        """Instantiate the metric registered as ``name`` with optional parameters (see :func:`create_metrics`)."""
        return create_metrics({name: params}, self.metrics)[name]

    # -- introspection ------------------------------------------------------------------------
    def plugin_infos(self) -> list[PluginInfo]:
        dists = {self.pm.get_name(p): d for p, d in self.pm.list_plugin_distinfo()}
        infos = []
        for plugin in self.pm.get_plugins():
            name = self.pm.get_name(plugin)
            dist = dists.get(name)
            if dist is not None:
                version = f"{dist.project_name} {dist.version}"
            elif name in self._dists:
                version = self._dists[name]
            elif self._sources.get(name) == "builtin":
                version = f"facebench {__version__}"
            else:
                version = str(getattr(plugin, "__version__", "unknown"))
            info = PluginInfo(name, version, self._sources.get(name, "module"))
            for kind, reg in self.registries.items():
                names = [e.name for e in reg.entries() if e.plugin == name]
                if names:
                    info.registers[kind] = names
            infos.append(info)
        return infos


@functools.lru_cache(maxsize=8)
def _cached(extra: tuple[str, ...], env: str) -> Plugins:
    return Plugins(extra)


def get_plugins(extra_modules: Iterable[str] = ()) -> Plugins:
    """The process-wide plugin set (cached per extra modules and ``$FACEBENCH_PLUGINS``)."""
    return _cached(tuple(extra_modules), os.environ.get(ENV_VAR, ""))


def reset_plugins_cache() -> None:
    _cached.cache_clear()
