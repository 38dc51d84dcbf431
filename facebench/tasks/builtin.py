"""Registers the built-in tasks through the facebench hooks."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def facebench_tasks():
    from .classification.task import TASK as classification

    return [classification]
