"""``facebench new-metric NAME``: scaffold a metric plugin package that works out of the box.

``new_metric("My Metric", "plugins")`` writes ``plugins/facebench-my-metric/``::

    pyproject.toml                 entry point  [project.entry-points.facebench] my-metric = "facebench_my_metric.plugin"
    README.md
    src/facebench_my_metric/__init__.py
    src/facebench_my_metric/plugin.py      @hookimpl facebench_metrics() -> [MyMetric]
    src/facebench_my_metric/metric.py      MyMetric(Metric): docstring template, nearest-centroid accuracy
    tests/test_my_metric.py                the conformance kit + a hand-worked case

Its tests pass as generated (``python -m pytest`` in the new directory, nothing installed); the
metric computes nearest-centroid accuracy until its author writes the real formula.
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from . import __version__
from .errors import FacebenchError
from .templates import metric_package


@dataclass(frozen=True)
class MetricNames:
    metric: str  # registry name: my-metric
    ident: str  # python identifier: my_metric
    package: str  # import package: facebench_my_metric
    dist: str  # distribution: facebench-my-metric
    cls: str  # class: MyMetric


def metric_names(name: str) -> MetricNames:
    """Derive the names of a metric package from a free-form metric name."""
    ident = re.sub(r"[^0-9a-zA-Z]+", "_", str(name).strip()).strip("_").lower()
    if not ident or not re.search(r"[a-z]", ident):
        raise FacebenchError(f"new-metric: {name!r} is not a usable metric name (use letters, digits, '-', '_')")
    if ident[0].isdigit():
        ident = f"metric_{ident}"
    if keyword.iskeyword(ident) or ident in {"facebench", "metric", "test", "plugin"}:
        ident = f"{ident}_metric"
    cls = "".join(part[:1].upper() + part[1:] for part in ident.split("_") if part)
    if cls in {"Metric", "FeatureBundle"}:
        cls += "Score"
    return MetricNames(ident.replace("_", "-"), ident, f"facebench_{ident}", f"facebench-{ident.replace('_', '-')}", cls)


def new_metric(name: str, directory: str | Path = ".") -> Path:
    """Write a metric plugin package for ``name`` under ``directory``; returns its root directory."""
    names = metric_names(name)
    root = Path(directory) / names.dist
    if root.exists() and any(root.iterdir()):
        raise FacebenchError(f"new-metric: {root} already exists and is not empty")
    values = {**names.__dict__, "facebench_version": __version__}
    for rel, text in metric_package.FILES.items():
        path = root / Template(rel).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(values), encoding="utf-8")
    return root


def next_steps(root: str | Path) -> str:
    """What to tell the user after :func:`new_metric` (the CLI prints it)."""
    root = Path(root)
    names = metric_names(root.name.removeprefix("facebench-"))
    return (
        f"created {root}\n"
        f"  1. write the formula in {root / 'src' / names.package / 'metric.py'} ({names.cls}.compute, docstring)\n"
        f"  2. cd {root} && python -m pytest      # conformance kit + your hand-worked case\n"
        f"  3. pip install -e {root} && facebench list metrics   # shows {names.metric}"
    )
