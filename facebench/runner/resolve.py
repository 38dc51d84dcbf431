"""Validate a run config against the registries and resolve it into concrete objects.

Everything that can be known before an expensive job starts is checked here: unknown task, zoo,
dataset or metric; a zoo or dataset of another task; a dataset instance of an unknown type; a
diagnostic the task does not record; a target that the store already holds under the same name
with another definition; and each task's own ``validate`` (dataset roots, weights files,
undecodable images...).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ..config import BenchmarkConfig, RunConfig
from ..diagnostics import resolve_diagnostics
from ..errors import ConfigError, FacebenchError
from ..metrics.base import Metric
from ..plugins import Plugins
from ..metric_factory import create_metrics
from ..tasks.base import DatasetInstance, Task, TaskContext, Zoo, find_dataset


@dataclass
class ResolvedBenchmark:
    config: BenchmarkConfig
    task: Task
    zoo: Zoo
    targets: dict[str, DatasetInstance]
    diagnostics: dict[str, Callable] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.config.id

    def hparams_for(self, target: str) -> dict[str, Any]:
        """The task's default_finetune updated by the block's finetune for ``target`` (its per_target entry included)."""
        return {**dict(self.task.default_finetune), **self.config.finetune_for(target)}


def resolve_metrics(cfg: RunConfig, plugins: Plugins) -> dict[str, Metric]:
    """The config's metrics, built through :func:`facebench.metric_factory.create_metrics`."""
    try:
        metrics = create_metrics(cfg.metrics, plugins.metrics)
        check_sensitivity(cfg, plugins, metrics)
        return metrics
    except FacebenchError as exc:
        if isinstance(exc, KeyError):
            raise  # unknown metric: the registry's error names it, with suggestions
        raise ConfigError(f"{cfg.source}: {exc}") from None


def check_sensitivity(cfg: RunConfig, plugins: Plugins, metrics: dict[str, Metric]) -> None:
    """Every variant of the config's ``sensitivity:`` grids can be built (before any job runs)."""
    for name, grid in cfg.sensitivity.items():
        base = metrics[name].params() if name in metrics else {}
        for param, values in grid.items():
            for value in values:
                try:
                    create_metrics({name: {**base, param: value}}, plugins.metrics)
                except FacebenchError as exc:
                    if isinstance(exc, KeyError):
                        raise
                    raise ConfigError(f"sensitivity.{name}.{param}: value {value!r}: {exc}") from None


def resolve_instances(cfg: RunConfig, plugins: Plugins) -> dict[str, DatasetInstance]:
    """The config's named dataset instances (``datasets:``), each of a registered type."""
    out = {}
    for name, d in cfg.datasets.items():
        if d.type not in plugins.datasets:
            known = ", ".join(plugins.datasets.names()) or "none"
            raise ConfigError(f"{cfg.source}: datasets.{name}: unknown dataset type {d.type!r} (known: {known})")
        if name in plugins.datasets and name != d.type:
            raise ConfigError(
                f"{cfg.source}: datasets.{name}: {name!r} is a registered dataset; give this instance another name"
            )
        out[name] = DatasetInstance(name, plugins.datasets.get(d.type), dict(d.params))
    return out


def resolve_benchmarks(cfg: RunConfig, plugins: Plugins) -> list[ResolvedBenchmark]:
    instances = resolve_instances(cfg, plugins)
    datasets = {e.name: e.value for e in plugins.datasets.entries()}
    out = []
    for b in cfg.benchmarks:
        where = f"{b.where or cfg.source}: benchmark {b.id}"
        if b.task not in plugins.tasks:
            raise ConfigError(f"{where}: unknown task {b.task!r} (known: {', '.join(plugins.tasks.names()) or 'none'})")
        if b.zoo not in plugins.zoos:
            raise ConfigError(f"{where}: unknown zoo {b.zoo!r} (known: {', '.join(plugins.zoos.names()) or 'none'})")
        task = plugins.tasks.get(b.task)
        zoo = plugins.zoos.get(b.zoo)
        if zoo.task != b.task:
            raise ConfigError(f"{where}: zoo {b.zoo!r} is a {zoo.task} zoo, not {b.task}")
        targets = {}
        for target in b.targets:
            try:
                targets[target] = find_dataset(target, instances, datasets, b.task)
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None
        if not task.ground_truth:
            raise ConfigError(f"{where}: task {b.task!r} declares no ground-truth statistics")
        diagnostics = resolve_diagnostics(b.diagnostics, b.task, task.diagnostics, where)
        out.append(ResolvedBenchmark(b, task, zoo, targets, diagnostics))
    return out


def validate_benchmarks(benchmarks: list[ResolvedBenchmark], make_ctx: Callable[[ResolvedBenchmark], TaskContext]) -> None:
    """Each task's own checks, before any job; a refusal names the config block and the benchmark."""
    for rb in benchmarks:
        try:
            rb.task.validate(rb.config, make_ctx(rb))
            for target in rb.config.target_finetune:  # a target's own hyper-parameters, checked the same way
                try:  # (with that target alone: the others' data were checked above)
                    own = replace(rb.config, targets=(target,), finetune=rb.config.finetune_for(target))
                    rb.task.validate(own, make_ctx(rb))
                except ConfigError as exc:
                    raise ConfigError(f"per_target.{target}: {exc}") from None
        except ConfigError as exc:
            where = f"{rb.config.where}: " if rb.config.where else ""
            raise ConfigError(f"{where}benchmark {rb.id}: {exc}") from None
