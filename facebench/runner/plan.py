"""Validate a run config against the registries and resolve it into concrete objects.

Everything that can be known before an expensive job starts is checked here: unknown task, zoo,
dataset or metric; a zoo or dataset of another task; and each task's own ``validate`` (dataset
roots, weights files, undecodable images...).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import BenchmarkConfig, RunConfig
from ..errors import ConfigError, FacebenchError
from ..metrics.base import Metric
from ..plugins import Plugins
from ..tasks.base import JobContext
from ..zoos.base import Zoo


@dataclass
class ResolvedBenchmark:
    config: BenchmarkConfig
    task: Any
    zoo: Zoo

    @property
    def id(self) -> str:
        return self.config.id


def resolve_metrics(cfg: RunConfig, plugins: Plugins) -> dict[str, Metric]:
    names = list(cfg.metrics) if cfg.metrics is not None else plugins.metrics.names()
    out = {}
    for name in names:
        if name not in plugins.metrics:
            plugins.metrics.get(name)  # raises a RegistryError naming it, with suggestions
        params = (cfg.metrics or {}).get(name, {})
        try:
            out[name] = plugins.create_metric(name, **params)
        except (FacebenchError, ValueError) as exc:
            raise ConfigError(f"{cfg.source}: metric {name!r}: {exc}") from None
    return out


def resolve_benchmarks(cfg: RunConfig, plugins: Plugins) -> list[ResolvedBenchmark]:
    out = []
    for b in cfg.benchmarks:
        where = f"{cfg.source}: benchmark {b.id}"
        if b.task not in plugins.tasks:
            raise ConfigError(f"{where}: unknown task {b.task!r} (known: {', '.join(plugins.tasks.names()) or 'none'})")
        if b.zoo not in plugins.zoos:
            raise ConfigError(f"{where}: unknown zoo {b.zoo!r} (known: {', '.join(plugins.zoos.names()) or 'none'})")
        zoo = plugins.zoos.get(b.zoo)
        if zoo.task != b.task:
            raise ConfigError(f"{where}: zoo {b.zoo!r} is a {zoo.task} zoo, not {b.task}")
        for target in b.targets:
            if target not in plugins.datasets:
                raise ConfigError(
                    f"{where}: unknown dataset {target!r} (known: {', '.join(plugins.datasets.names()) or 'none'})"
                )
            spec = plugins.datasets.get(target)
            if spec.task != b.task:
                raise ConfigError(f"{where}: dataset {target!r} is a {spec.task} dataset, not {b.task}")
        out.append(ResolvedBenchmark(b, plugins.tasks.get(b.task), zoo))
    return out


def validate_benchmarks(benchmarks: list[ResolvedBenchmark], make_ctx) -> None:
    for rb in benchmarks:
        ctx: JobContext = make_ctx(rb)
        rb.task.validate(rb.config, ctx)
