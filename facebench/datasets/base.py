"""Dataset definitions for the registry.

A :class:`DatasetSpec` names a dataset, the task it serves, and a ``load(split, ctx)`` callable that
returns a map-style dataset (for classification: items ``(PIL.Image, int)`` with ``.classes``).
``offline`` datasets come with pip/apt packages; the others download only when the user allows it
(``download: true`` in the config or ``--allow-download``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    summary: str
    task: str
    load: Callable[..., Any]  # load(split: str, ctx: JobContext, **options) -> dataset
    splits: tuple[str, ...] = ("train", "test")
    num_classes: int | None = None
    offline: bool = False
    check: Callable[..., None] | None = None  # check(ctx, **options): raise ConfigError if unavailable
