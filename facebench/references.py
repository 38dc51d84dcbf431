"""Zoos from config: models named by reference, each resolved by its task's own loader.

A zoo file (YAML) lists models by reference instead of registering a zoo in a plugin::

    task: classification              # or give --task / task= to facebench.rank
    name: my-zoo                      # default: the file's stem
    models:
      - timm:convnext_tiny            # a timm model with its pretrained weights (local cache)
      - {ref: timm:resnet18, weights: random, name: resnet18-scratch}
      - {ref: "file:~/ckpt/vit.pt", arch: vit_small_patch16_224}    # a local state dict, its architecture named
      - zoo:efficientnet-lite-imagenet/efficientnet-lite0-imagenet  # a model of a registered zoo

A reference is ``scheme:value``; a bare path is ``file:<path>``. ``zoo:<zoo>/<model>`` is resolved
here (any task); every other scheme by :meth:`facebench.tasks.base.Task.resolve_model` of the
zoo's task (classification: ``timm:``, ``file:``; text: ``hf:``; segmentation: ``mmseg:``), which
returns the :class:`~facebench.tasks.base.ModelSpec` its jobs already know how to build.
References resolve offline unless downloads are allowed; one that does not resolve raises a
:class:`ReferenceError` naming the model and every place that was tried.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from .errors import ConfigError

ENTRY_KEYS = ("name", "ref", "arch", "weights", "checkpoint", "options")
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+_-]*):(.*)$")


class ReferenceError(ConfigError):
    """A model reference that does not resolve: names the model, the reason and what was tried."""

    def __init__(self, ref: "ModelReference", reason: str, tried: Iterable[str] = ()) -> None:
        self.ref, self.reason, self.tried = ref, reason, list(tried)
        text = f"model {ref.name!r} ({ref.ref}): {reason}"
        if self.tried:
            text += "; tried: " + "; ".join(self.tried)
        super().__init__(text)


@dataclass(frozen=True)
class ModelReference:
    """One model of a config zoo, as written: a reference and what the task's loader may need.

    ``arch``: the architecture of a local file or folder (its task's names); ``weights``: the
    initial weights where the reference leaves them open (``random``, a file, a tag);
    ``checkpoint``: a weights file (an mmseg config's checkpoint); ``options``: the task's model
    options, passed on to the :class:`~facebench.tasks.base.ModelSpec`.
    """

    name: str
    ref: str
    arch: str | None = None
    weights: str | None = None
    checkpoint: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def scheme(self) -> str:
        """``timm``, ``hf``, ``mmseg``, ``zoo``, ``file`` (also for a bare path), ..."""
        return _split(self.ref)[0]

    @property
    def value(self) -> str:
        """What follows the scheme (the whole reference for a bare path)."""
        return _split(self.ref)[1]

    def path(self) -> Path:
        """The reference's value as a local path (``~`` expanded)."""
        return Path(self.value).expanduser()


def _split(ref: str) -> tuple[str, str]:
    m = SCHEME.match(ref)
    return (m.group(1).lower(), m.group(2)) if m else ("file", ref)


def default_name(ref: str) -> str:
    """A model name from its reference: the last path component (a file's without its suffix)."""
    scheme, value = _split(ref)
    last = value.rstrip("/").rsplit("/", 1)[-1] or value
    return Path(last).stem if scheme in ("file", "mmseg") and "." in last else last


def parse_entry(entry: Any, where: str) -> ModelReference:
    """A zoo file's ``models`` item (a string or a mapping) as a :class:`ModelReference`."""
    if isinstance(entry, str):
        if not entry.strip():
            raise ConfigError(f"{where}: empty model reference")
        return ModelReference(default_name(entry.strip()), entry.strip())
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: a model is a reference string or a mapping with 'ref', got {type(entry).__name__}")
    unknown = sorted(set(map(str, entry)) - set(ENTRY_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(ENTRY_KEYS)})")
    ref = entry.get("ref")
    if not isinstance(ref, str) or not ref.strip():
        raise ConfigError(f"{where}: needs 'ref', a model reference such as timm:resnet18 or file:/path/model.pt")
    options = entry.get("options") or {}
    if not isinstance(options, Mapping):
        raise ConfigError(f"{where}: 'options' must be a mapping")
    text = {k: (None if entry.get(k) is None else str(entry.get(k))) for k in ("arch", "weights", "checkpoint")}
    return ModelReference(str(entry.get("name") or default_name(ref.strip())), ref.strip(), options=dict(options), **text)


def parse_references(entries: Iterable[Any], where: str = "models") -> list[ModelReference]:
    """Several entries; ConfigError for a malformed one or two models of one name."""
    refs = [parse_entry(e, f"{where}[{i}]") for i, e in enumerate(entries)]
    if not refs:
        raise ConfigError(f"{where}: no models")
    seen: dict[str, str] = {}
    for r in refs:
        if r.name in seen:
            raise ConfigError(f"{where}: two models named {r.name!r} ({seen[r.name]} and {r.ref}); give one a 'name'")
        seen[r.name] = r.ref
    return refs


@dataclass(frozen=True)
class ConfigZoo:
    """A zoo file, parsed: its name, task (None: give it elsewhere) and model references."""

    name: str
    task: str | None
    references: tuple[ModelReference, ...]
    source: str = ""


def load_zoo_file(path: str | Path) -> ConfigZoo:
    """Read a zoo file (see the module docstring): a mapping with ``models``, or a bare list."""
    path = Path(path).expanduser()
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the zoo file ({exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if isinstance(data, list):
        data = {"models": data}
    if not isinstance(data, Mapping) or "models" not in data:
        raise ConfigError(f"{path}: a zoo file is a mapping with 'models' (a list of references), or such a list")
    unknown = sorted(set(map(str, data)) - {"name", "task", "models", "summary"})
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)} (known: name, task, summary, models)")
    if not isinstance(data["models"], list):
        raise ConfigError(f"{path}: 'models' must be a list")
    task = data.get("task")
    return ConfigZoo(str(data.get("name") or path.stem), None if task is None else str(task),
                     tuple(parse_references(data["models"], f"{path}: models")), str(path))


def resolve_registry_model(ref: ModelReference, zoos: Mapping[str, Any], task: str | None):
    """``zoo:<zoo>/<model>``: the registered zoo's ModelSpec, renamed to the reference's name."""
    from dataclasses import replace

    zoo_name, _, model = ref.value.partition("/")
    zoo = zoos.get(zoo_name)
    if zoo is None:
        raise ReferenceError(ref, f"no registered zoo {zoo_name!r}", [f"registered zoos: {', '.join(sorted(zoos)) or 'none'}"])
    if task is not None and zoo.task != task:
        raise ReferenceError(ref, f"zoo {zoo_name!r} is a {zoo.task} zoo, not {task}")
    try:
        spec = zoo.model(model)
    except KeyError:
        names = ", ".join(m.name for m in zoo.models)
        raise ReferenceError(ref, f"zoo {zoo_name!r} has no model {model!r}", [f"its models: {names}"]) from None
    return replace(spec, name=ref.name)


def resolve_references(refs: Iterable[ModelReference], task, ctx) -> tuple[list, dict[str, str]]:
    """Resolve each reference with ``task.resolve_model`` (``zoo:`` here): (ModelSpecs, name -> error).

    Every reference is tried, so that the caller can name all that fail at once.
    """
    specs, errors = [], {}
    for ref in refs:
        try:
            if ref.scheme == "zoo":
                spec = resolve_registry_model(ref, ctx.zoos, task.name)
            else:
                spec = task.resolve_model(ref, ctx)
        except ConfigError as exc:
            errors[ref.name] = str(exc) if isinstance(exc, ReferenceError) else str(ReferenceError(ref, str(exc)))
            continue
        specs.append(spec)
    return specs, errors
