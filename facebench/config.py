"""Benchmark configs (YAML): what to run, validated before any expensive job starts.

```yaml
name: embedded                        # run name (the store keys results by benchmark id)
store: .facebench/results.sqlite      # relative paths are relative to the working directory
cache_dir: .facebench/cache
plugins: []                           # extra plugin modules to load
download: false                       # may datasets/weights be downloaded?
metrics: all                          # or a list of names, or {name: {param: value}}
benchmarks:
  - task: classification
    zoo: embedded-classification
    targets: [digits, mnist-5k]
    seeds: [0, 1, 2]
    finetune: {epochs: 20, lr: 0.01, batch_size: 64}
    options: {}                       # task options (sizes, image size, ...)
    nc_trace: false                   # record variance collapse per fine-tuning epoch
```
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import ConfigError

DEFAULT_FINETUNE = {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "epochs": 20, "batch_size": 64}


@dataclass(frozen=True)
class BenchmarkConfig:
    task: str
    zoo: str
    targets: tuple[str, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    finetune: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_FINETUNE))
    options: Mapping[str, Any] = field(default_factory=dict)
    nc_trace: bool = False

    @property
    def id(self) -> str:
        """Benchmark id: task/zoo (the leaderboard groups by it)."""
        return f"{self.task}/{self.zoo}"


@dataclass(frozen=True)
class RunConfig:
    name: str
    benchmarks: tuple[BenchmarkConfig, ...]
    metrics: Mapping[str, Mapping[str, Any]] | None  # None = every registered metric
    store: str = ".facebench/results.sqlite"
    cache_dir: str = ".facebench/cache"
    plugins: tuple[str, ...] = ()
    download: bool = False
    source: str = "<dict>"
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """Content hash of what determines results (not where they are stored)."""
        keep = {k: v for k, v in self.raw.items() if k not in ("store", "cache_dir", "name")}
        return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _require(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise ConfigError(f"{where}: missing required key {key!r}")
    return mapping[key]


def parse_config(raw: Mapping[str, Any], source: str = "<dict>") -> RunConfig:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: a config must be a YAML mapping")
    known = {"name", "benchmarks", "metrics", "store", "cache_dir", "plugins", "download", "description", "include"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    benches = []
    for i, b in enumerate(_require(raw, "benchmarks", source) or []):
        where = f"{source}: benchmarks[{i}]"
        if not isinstance(b, Mapping):
            raise ConfigError(f"{where}: must be a mapping")
        bknown = {"task", "zoo", "targets", "seeds", "finetune", "options", "nc_trace"}
        bad = set(b) - bknown
        if bad:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(bad))} (known: {', '.join(sorted(bknown))})")
        targets = _require(b, "targets", where)
        if isinstance(targets, str):
            targets = [targets]
        if not targets:
            raise ConfigError(f"{where}: 'targets' is empty")
        seeds = b.get("seeds", [0, 1, 2])
        if isinstance(seeds, int):
            seeds = [seeds]
        if not seeds or not all(isinstance(s, int) for s in seeds):
            raise ConfigError(f"{where}: 'seeds' must be a non-empty list of integers")
        ft = dict(DEFAULT_FINETUNE)
        ft.update(b.get("finetune") or {})
        benches.append(
            BenchmarkConfig(
                task=str(_require(b, "task", where)),
                zoo=str(_require(b, "zoo", where)),
                targets=tuple(str(t) for t in targets),
                seeds=tuple(seeds),
                finetune=ft,
                options=dict(b.get("options") or {}),
                nc_trace=bool(b.get("nc_trace", False)),
            )
        )
    if not benches:
        raise ConfigError(f"{source}: 'benchmarks' is empty")
    metrics_raw = raw.get("metrics", "all")
    metrics: dict[str, dict[str, Any]] | None
    if metrics_raw in (None, "all"):
        metrics = None
    elif isinstance(metrics_raw, str):
        metrics = {metrics_raw: {}}
    elif isinstance(metrics_raw, list):
        metrics = {str(m): {} for m in metrics_raw}
    elif isinstance(metrics_raw, Mapping):
        metrics = {str(k): dict(v or {}) for k, v in metrics_raw.items()}
    else:
        raise ConfigError(f"{source}: 'metrics' must be 'all', a list of names or a mapping name -> params")
    return RunConfig(
        name=str(raw.get("name", Path(source).stem)),
        benchmarks=tuple(benches),
        metrics=metrics,
        store=str(raw.get("store", ".facebench/results.sqlite")),
        cache_dir=str(raw.get("cache_dir", ".facebench/cache")),
        plugins=tuple(raw.get("plugins") or ()),
        download=bool(raw.get("download", False)),
        source=source,
        raw=dict(raw),
    )


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None


def expand_includes(raw: Any, path: Path, seen: tuple[Path, ...] = ()) -> Any:
    """``include: [a.yaml, ...]`` (paths relative to the including file) appends their benchmarks.

    The embedded default includes one config per task, so a new task joins the default run by
    adding one line, without touching the core.
    """
    if not isinstance(raw, Mapping) or "include" not in raw:
        return raw
    raw = dict(raw)
    includes = raw.pop("include") or []
    benchmarks = list(raw.get("benchmarks") or [])
    for inc in [includes] if isinstance(includes, str) else includes:
        sub = (path.parent / inc).resolve()
        if sub in seen:
            raise ConfigError(f"{path}: include cycle through {sub}")
        if not sub.exists():
            raise ConfigError(f"{path}: included config {inc!r} not found ({sub})")
        child = expand_includes(_read_yaml(sub), sub, (*seen, sub))
        if not isinstance(child, Mapping):
            raise ConfigError(f"{sub}: a config must be a YAML mapping")
        benchmarks.extend(child.get("benchmarks") or [])
    raw["benchmarks"] = benchmarks
    return raw


def load_config(path: str | Path) -> RunConfig:
    path = Path(path)
    raw = expand_includes(_read_yaml(path), path.resolve(), (path.resolve(),))
    return parse_config(raw, str(path))
