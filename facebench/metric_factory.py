"""The one door through which ``run``, ``score`` and ``--only-score`` build metrics.

A metric spec is None (every registered metric), a list of names, or name -> parameters; the
metric classes come from the run's metric registry (:attr:`facebench.plugins.Plugins.metrics`).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .errors import FacebenchError
from .metrics.base import Metric

MetricSpec = Mapping[str, Mapping[str, Any]] | Iterable[str] | None


def create_metrics(spec: MetricSpec, registry) -> dict[str, Metric]:
    """Instantiate metrics from ``spec``: None (every registered metric), names, or name -> params.

    ``registry`` is the metric registry of the run's plugins. An unknown name raises the
    registry's error (with suggestions); parameters the metric does not take, or values it
    rejects, raise a FacebenchError naming the metric.
    """
    if spec is None:
        spec = {name: {} for name in registry.names()}
    elif not isinstance(spec, Mapping):
        spec = {str(name): {} for name in spec}
    out: dict[str, Metric] = {}
    for name, params in spec.items():
        cls = registry.get(name)  # RegistryError naming an unknown metric, with suggestions
        params = dict(params or {})
        try:
            out[name] = cls(**params)
        except (TypeError, ValueError) as exc:
            raise FacebenchError(f"metric {name!r}: bad parameters {params}: {exc}") from None
    return out
