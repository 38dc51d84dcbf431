"""The toy task's hook implementations: its task, zoo and datasets (see :mod:`toytask.task`)."""
from __future__ import annotations

from facebench import hookimpl
from facebench.tasks.base import DatasetSpec, ModelSpec, Zoo

from .task import ToyTask, load_toy


@hookimpl
def facebench_tasks():
    return [ToyTask()]


@hookimpl
def facebench_zoos():
    models = tuple(ModelSpec(f"m{i}", "toy", options={"sep": s}) for i, s in enumerate([0.5, 1.0, 2.0, 3.0]))
    overlap = (*models[1:3], ModelSpec("m4", "toy", options={"sep": 1.5}))  # shares m1 and m2 with toy-zoo
    return [Zoo("toy-zoo", "four toy models", "toy", models, offline=True),
            Zoo("toy-zoo-overlap", "three toy models, two of them also in toy-zoo", "toy", overlap, offline=True)]


@hookimpl
def facebench_datasets():
    toy = [DatasetSpec(name, f"toy target {name}", "toy", load=load_toy, offline=True) for name in ("ta", "tb")]
    return [*toy, DatasetSpec("toy-shifted", "toy target with a class shift (param: shift)", "toy", load=load_toy,
                              offline=True)]
