"""Per-epoch diagnostics that a benchmark may ask a task to record while it fine-tunes.

A task that can observe its features during fine-tuning names the diagnostics it supports
(``Task.diagnostics``); a benchmark asks for some (``diagnostics: [variance_collapse]``); the
runner resolves the names here and hands the functions to the task in its context
(:meth:`facebench.tasks.base.TaskContext.diagnose`), so no task imports a metric. The store
keeps one value per model, seed and epoch (epoch 0: the pre-trained features), and the
leaderboard draws every diagnostic the same way: one curve per model, the spread over seeds,
and Kendall's tau between the models' ranking at epoch 0 and at the last epoch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import ConfigError


@dataclass(frozen=True)
class DiagnosticSpec:
    name: str  # key in configs and in the store
    title: str  # section title on the leaderboard
    quantity: str  # what the y axis shows
    figure: str  # the paper's figure it reproduces ("" if none)
    fn: Callable[[np.ndarray, np.ndarray], float]  # (float64 features, labels 0..K-1) -> value


def _variance_collapse(features: np.ndarray, labels: np.ndarray) -> float:
    from .metrics.face import variance_collapse

    return float(variance_collapse(features, labels, int(labels.max()) + 1))


DIAGNOSTICS: dict[str, DiagnosticSpec] = {
    "variance_collapse": DiagnosticSpec(
        "variance_collapse", "Neural collapse during fine-tuning", "variance collapse", "Fig. 1", _variance_collapse,
    ),
}


def diagnostic(name: str) -> DiagnosticSpec:
    """The diagnostic ``name``; a store may hold one this version does not know: titled by its name."""
    if name in DIAGNOSTICS:
        return DIAGNOSTICS[name]
    return DiagnosticSpec(name, name.replace("_", " "), name.replace("_", " "), "", lambda x, y: float("nan"))


def resolve_diagnostics(names, task_name: str, supported, where: str) -> dict[str, Callable]:
    """name -> function for a benchmark's ``diagnostics``; ConfigError for an unknown or unsupported one."""
    out = {}
    for name in names:
        if name not in DIAGNOSTICS:
            raise ConfigError(f"{where}: unknown diagnostic {name!r} (known: {', '.join(DIAGNOSTICS)})")
        if name not in supported:
            raise ConfigError(
                f"{where}: task {task_name!r} does not record {name!r} (it records: {', '.join(supported) or 'none'})"
            )
        out[name] = DIAGNOSTICS[name].fn
    return out
