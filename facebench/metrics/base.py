"""The metric contract.

A metric scores one :class:`~facebench.bundle.FeatureBundle` (one model on one target) and returns
a float, or named components (a mapping of floats) that its zoo-level :meth:`Metric.combine` step
turns into one score per model (FaCe's min-max normalisation over the zoo). Higher is always
better (more transferable). Math is done in float64 and is deterministic.

A metric declares what it needs (``needs``: ``"features"`` and/or ``"probs"``), the fewest samples
per class it can work with (``min_per_class``) and the fewest models its zoo step needs
(``min_models``); :meth:`Metric.check` turns a violation into a clear error for this metric alone.

Every metric also carries a *card* (:meth:`Metric.card`): its parameters as used, the source of
its formula (``source``), the reference code it was checked against (``reference_code``) and, one
line each, every way in which it departs from the published definition or that code
(``departures``; override :meth:`Metric.departure_notes` when they depend on the parameters).
``facebench list metrics --verbose`` and the "Metrics" section of every leaderboard print them.
"""
from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator, Mapping, Union

import numpy as np

from ..bundle import FeatureBundle
from ..errors import FacebenchError, MetricInputError, raised_at

MetricValue = Union[float, Mapping[str, float]]


@contextmanager
def input_errors_named(metric_name: str, bundle_name: str, what: str) -> Iterator[None]:
    """Re-raise a LinAlgError / ValueError / ArithmeticError from ``what`` (e.g. "the Gaussian mixture
    fit") as a :class:`MetricInputError` naming the bundle, the metric and the line that raised
    (:func:`facebench.errors.raised_at`); when a numerical library raised it, the message suggests
    the usual cause (collapsed or constant features). facebench's own errors pass through."""
    try:
        yield
    except FacebenchError:
        raise
    except (np.linalg.LinAlgError, ValueError, ArithmeticError) as exc:
        place, in_library = raised_at(exc)
        hint = "; are the features constant or every class collapsed to a point?" if in_library else ""
        raise MetricInputError(
            f"{bundle_name}: metric {metric_name!r}: {what} failed ({type(exc).__name__}: {exc}"
            f"{', at ' + place if place else ''}){hint}"
        ) from exc


@dataclass(frozen=True)
class MetricCard:
    """What a metric computes, as used: shown by ``facebench list metrics --verbose`` and on boards."""

    name: str
    summary: str
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # the paper (and equation) the formula comes from
    reference_code: str = ""  # the authors' or a standard implementation it is compared with
    departures: tuple[str, ...] = ()  # one line each: how it differs from the definition / that code

    def lines(self) -> list[str]:
        """The card as ``label: text`` lines (parameters, source, reference code, departures)."""
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items()) or "none"
        out = [f"parameters: {params}"]
        if self.source:
            out.append(f"source: {self.source}")
        if self.reference_code:
            out.append(f"reference code: {self.reference_code}")
        return out + ([f"departs: {d}" for d in self.departures] or ["departs: none known"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "summary": self.summary, "params": dict(self.params), "source": self.source,
            "reference_code": self.reference_code, "departures": list(self.departures),
        }


class Metric:
    """Base class of every metric, built-in or external."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    needs: ClassVar[frozenset[str]] = frozenset({"features"})
    min_per_class: ClassVar[int] = 1
    min_models: ClassVar[int] = 1
    source: ClassVar[str] = ""
    reference_code: ClassVar[str] = ""
    departures: ClassVar[tuple[str, ...]] = ()
    # Parameters worth varying and the values to try: the board's sensitivity table shows tau_w for
    # every combination (:mod:`facebench.leaderboard.sensitivity`); empty: no table.
    sensitivity: ClassVar[Mapping[str, tuple[Any, ...]]] = {}
    control: ClassVar[bool] = False  # a data-free baseline the board compares every metric against (metrics/controls.py)

    # -- contract -----------------------------------------------------------------------------
    def compute(self, bundle: FeatureBundle) -> MetricValue:
        """The metric's formula, on a bundle that passed :meth:`check`."""
        raise NotImplementedError

    def combine(self, values: Mapping[str, MetricValue]) -> dict[str, float]:
        """Zoo-level step: per-model values -> per-model scores. Default: the values themselves."""
        return {model: float(v) for model, v in values.items()}  # type: ignore[arg-type]

    # -- helpers ------------------------------------------------------------------------------
    def check(self, bundle: FeatureBundle) -> None:
        if "probs" in self.needs and bundle.probs is None:
            raise MetricInputError(
                f"{bundle.name}: metric {self.name!r} needs source-classifier probabilities ('probs'), "
                "which this bundle does not have"
            )
        counts = bundle.class_counts
        small = np.flatnonzero(counts < self.min_per_class)
        if small.size:
            k = small[0]
            raise MetricInputError(
                f"{bundle.name}: metric {self.name!r} needs at least {self.min_per_class} samples per class, "
                f"but class {bundle.classes[k]} has {counts[k]}"
            )

    def score(self, bundle: FeatureBundle) -> MetricValue:
        """Check the bundle, then compute the per-model value.

        The shared guard of every metric: a numerical failure inside the computation (singular
        matrix, ValueError of a library call, division by zero) and a NaN or inf result become a
        :class:`MetricInputError` naming the bundle and the metric, never a silent NaN.
        """
        self.check(bundle)
        try:
            with input_errors_named(self.name, bundle.name, "the computation"):
                value = self.compute(bundle)
        except MetricInputError as exc:
            message = str(exc)
            if self.name in message or bundle.name in message:
                raise
            raise MetricInputError(f"{bundle.name}: metric {self.name!r}: {message}") from exc
        items = value.items() if isinstance(value, Mapping) else [("", value)]
        for key, v in items:
            if not np.isfinite(float(v)):
                raise MetricInputError(
                    f"{bundle.name}: metric {self.name!r} gave a non-finite value{' for ' + key if key else ''} ({v}); "
                    "are the features constant, every class collapsed to a point, or the scale extreme?"
                )
        return value

    def params(self) -> dict[str, Any]:
        """The constructor parameters and their current values (recorded with every score)."""
        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self" and hasattr(self, p)}

    def departure_notes(self) -> tuple[str, ...]:
        """One line per departure from the published definition or reference code, for these parameters."""
        return tuple(type(self).departures)

    def card(self) -> MetricCard:
        """This metric's card (parameters as used, source, departures)."""
        return MetricCard(
            name=self.name, summary=self.summary, params=self.params(), source=self.source,
            reference_code=self.reference_code, departures=tuple(self.departure_notes()),
        )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"
