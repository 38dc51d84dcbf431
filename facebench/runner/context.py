"""The context the runner hands to a task: registries, dataset instances, options, device, cache."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from ..plugins import Plugins
from ..tasks.base import DatasetInstance, TaskContext


def task_context(plugins: Plugins, *, cache_dir: str | Path, device: str = "cpu", download: bool = False,
                 quiet: bool = False, options: Mapping[str, Any] | None = None,
                 instances: Mapping[str, DatasetInstance] | None = None,
                 diagnostics: Mapping[str, Callable] | None = None) -> TaskContext:
    """A :class:`TaskContext` over the registries of ``plugins`` (the config's plugin modules included)."""
    return TaskContext(
        cache_dir=Path(cache_dir), device=device, download=download, quiet=quiet, options=dict(options or {}),
        zoos={e.name: e.value for e in plugins.zoos.entries()},
        datasets={e.name: e.value for e in plugins.datasets.entries()},
        instances=dict(instances or {}), diagnostics=dict(diagnostics or {}),
    )
