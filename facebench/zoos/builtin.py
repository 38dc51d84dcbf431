"""Registers the built-in zoos through the facebench hooks."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def facebench_zoos():
    return []
