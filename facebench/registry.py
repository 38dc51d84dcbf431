"""A typed name -> entry registry that remembers which plugin registered each entry.

Registries are filled through the plugin hooks (see :mod:`facebench.hookspecs`); built-in
entries have no privileged path. A duplicate name is an error that names both plugins; an entry
that is not of the registry's base class (a metric that is not a ``Metric`` subclass, a zoo that
is not a ``Zoo``...) is an error that names the plugin.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Iterator, TypeVar

from .errors import RegistryError
from .suggest import did_you_mean

T = TypeVar("T")


@dataclass(frozen=True)
class RegistryEntry(Generic[T]):
    name: str
    value: T
    plugin: str
    summary: str


class Registry(Generic[T]):
    """Entries of one kind (metrics, tasks, zoos, datasets), keyed by a unique name."""

    def __init__(self, kind: str, base: type | None = None, *, subclasses: bool = False) -> None:
        """``base``: what every entry must be (an instance, or with ``subclasses`` a subclass, of it)."""
        self.kind = kind
        self.base = base
        self.subclasses = subclasses
        self._entries: dict[str, RegistryEntry[T]] = {}

    def _check_type(self, value: Any, plugin: str) -> None:
        if self.base is None:
            return
        if self.subclasses:
            ok = isinstance(value, type) and issubclass(value, self.base)
            want = f"a subclass of {self.base.__module__}.{self.base.__qualname__}"
        else:
            ok = isinstance(value, self.base)
            want = f"an instance of {self.base.__module__}.{self.base.__qualname__}"
        if not ok:
            raise RegistryError(f"plugin {plugin!r} registered a {self.kind} {value!r} that is not {want}")

    def add(self, name: str, value: T, *, plugin: str, summary: str = "") -> None:
        self._check_type(value, plugin)
        if not isinstance(name, str) or not name:
            raise RegistryError(f"plugin {plugin!r} registered a {self.kind} with an invalid name {name!r}")
        if name in self._entries:
            other = self._entries[name].plugin
            raise RegistryError(
                f"duplicate {self.kind} name {name!r}: registered by plugin {other!r} and by plugin {plugin!r}"
            )
        self._entries[name] = RegistryEntry(name, value, plugin, summary)

    def get(self, name: str) -> T:
        return self.entry(name).value

    def entry(self, name: str) -> RegistryEntry[T]:
        try:
            return self._entries[name]
        except KeyError:
            hint = did_you_mean(name, self._entries)
            known = ", ".join(sorted(self._entries)) or "none registered"
            raise RegistryError(f"unknown {self.kind} {name!r}{hint} (known: {known})") from None

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> list[RegistryEntry[T]]:
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
