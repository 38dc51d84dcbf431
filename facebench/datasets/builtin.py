"""Registers the built-in datasets through the facebench hooks."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def facebench_datasets():
    return []
