"""Score a zoo: every metric on every model's bundle, then each metric's zoo-level step.

A metric that fails on one model (bad input for that metric, a numerical failure) is recorded as
an error for that (metric, model) pair and never hides the other metrics' results; a metric whose
zoo step cannot run (for example FaCe on a one-model zoo) gets a zoo-level error.
"""
from __future__ import annotations

import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..bundle import FeatureBundle
from ..errors import FacebenchError, raised_at
from ..metrics.base import Metric, MetricValue

ZOO = "*"  # key of zoo-level errors

@dataclass
class ZooScores:
    """Scores of several metrics on one zoo and target."""

    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> model -> score
    raw: dict[str, dict[str, MetricValue]] = field(default_factory=dict)  # per-model values / components
    errors: dict[str, dict[str, str]] = field(default_factory=dict)  # metric -> model (or "*") -> message
    warnings: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> model -> scoring time

    def error_lines(self, models: bool | None = None) -> list[str]:
        """One line per failed (metric, model) pair or zoo step: ``"<metric> on model <m>: <error>"``;
        ``models``: True for the models' lines only, False for the zoo steps' only."""
        return [f"{metric} on {'zoo' if model == ZOO else 'model ' + model}: {message}"
                for metric, errors in self.errors.items() for model, message in errors.items()
                if models is None or models == (model != ZOO)]


def _error_text(exc: BaseException) -> str:
    """The stored message of a metric's failure: facebench's own errors as they are, anything else
    (a bug in a plugin, say) with its type and the line that raised it."""
    if isinstance(exc, FacebenchError):
        return str(exc)
    if isinstance(exc, MemoryError):
        # the failed computation's frames still hold what it allocated (a leak under the worker's memory
        # limit): let it go before anything else is allocated; the frames keep their code and line
        traceback.clear_frames(exc.__traceback__)
    try:
        place, _ = raised_at(exc)
    except MemoryError:
        place = ""
    return f"{type(exc).__name__}: {exc}" + (f" (at {place})" if place else "")


def score_model(metric: Metric, bundle: FeatureBundle) -> tuple[MetricValue | None, str | None, float, list[str]]:
    """One metric on one bundle: (value, error message, seconds, warnings).

    The warnings are the metric's own: ``UserWarning`` and its subclasses (a
    :class:`~facebench.metrics.ConvergenceWarning`, say), each message once. Libraries'
    deprecation and future warnings (not ``UserWarning`` subclasses) are not the metric's verdict
    on this bundle and are left out.
    """
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            with np.errstate(all="ignore"):
                value = metric.score(bundle)
            error = _check_finite(value)
        except Exception as exc:  # noqa: BLE001 - any metric (plugins too) may fail; never hide the others
            value, error = None, _error_text(exc)
    seconds = time.perf_counter() - start
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return (value if error is None else None), error, seconds, list(dict.fromkeys(messages))


def _check_finite(value: MetricValue) -> str | None:
    items = value.items() if isinstance(value, Mapping) else [("", value)]
    for key, v in items:
        if not np.isfinite(float(v)):
            return f"non-finite result{(' for ' + key) if key else ''}: {v}"
    return None


def combine_zoo(metric: Metric, values: Mapping[str, MetricValue]) -> tuple[dict[str, float], list[str], str | None]:
    """Run a metric's zoo-level step; returns (scores, warnings, error)."""
    if not values:  # every model failed: the per-model errors say why; no zoo-level error on top
        return {}, [], None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if len(values) < metric.min_models:
                raise FacebenchError(
                    f"metric {metric.name!r} needs at least {metric.min_models} models in the zoo "
                    f"(min-max normalisation over the zoo), got {len(values)}"
                    + (f" ({', '.join(values)})" if values else "")
                )
            scores, error = metric.combine(values), None
            bad = {m: s for m, s in scores.items() if not np.isfinite(float(s))}
            if bad:  # never a silent NaN on a board
                raise FacebenchError(f"metric {metric.name!r}: non-finite zoo score(s) {bad}")
        except Exception as exc:  # noqa: BLE001 - reported as this metric's zoo-level error
            scores, error = {}, _error_text(exc)
    return scores, [str(w.message) for w in caught], error


def score_zoo(
    metrics: Mapping[str, Metric],
    bundles: Mapping[str, FeatureBundle] | Mapping[str, Callable[[], FeatureBundle]],
    *,
    on_progress: Callable[[str, str], None] | None = None,
) -> ZooScores:
    """Score every metric on every bundle (model name -> bundle or a loader returning one)."""
    out = ZooScores()
    for name in metrics:
        out.scores[name], out.raw[name], out.errors[name], out.seconds[name] = {}, {}, {}, {}
        out.warnings[name] = []
    for model, item in bundles.items():
        bundle = item() if callable(item) else item
        for name, metric in metrics.items():
            if on_progress:
                on_progress(name, model)
            value, error, secs, warns = score_model(metric, bundle)
            out.seconds[name][model] = secs
            out.warnings[name].extend(f"model {model}: {w}" for w in warns)
            if error is not None:
                out.errors[name][model] = error
            else:
                out.raw[name][model] = value  # type: ignore[assignment]
    for name, metric in metrics.items():
        scores, warns, error = combine_zoo(metric, out.raw[name])
        out.scores[name] = scores
        out.warnings[name].extend(warns)
        if error is not None:
            out.errors[name][ZOO] = error
    return out
