"""The facebench hook specifications (pluggy project name ``facebench``).

A plugin is a module or object with functions decorated by :data:`hookimpl`. Built-in metrics,
tasks, zoos and datasets are registered through these same hooks.  Each hook returns a sequence
of entries; every entry has a ``name`` (its registry key) and a ``summary`` (one line for
``facebench list``), as class or instance attributes.

Example (an external metric)::

    from facebench import hookimpl
    from facebench.metrics.base import Metric

    class KNNAccuracy(Metric):
        name = "knn"
        summary = "leave-one-out k-NN accuracy"
        def compute(self, bundle): ...  # a float (or named components) from the bundle

    @hookimpl
    def facebench_metrics():
        return [KNNAccuracy]
"""
from __future__ import annotations

from typing import Any, Sequence

import pluggy

PROJECT = "facebench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def facebench_metrics() -> Sequence[type]:
    """Return metric classes (subclasses of :class:`facebench.metrics.base.Metric`)."""


@hookspec
def facebench_tasks() -> Sequence[Any]:
    """Return task objects (instances of subclasses of :class:`facebench.tasks.base.Task`)."""


@hookspec
def facebench_zoos() -> Sequence[Any]:
    """Return zoo definitions (instances of :class:`facebench.tasks.base.Zoo`)."""


@hookspec
def facebench_datasets() -> Sequence[Any]:
    """Return dataset types (instances of :class:`facebench.tasks.base.DatasetSpec`)."""
