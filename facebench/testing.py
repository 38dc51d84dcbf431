"""Conformance kit for metrics: run it from a metric plugin's own pytest.

Every metric, built-in or external, must honour the contract of
:class:`facebench.metrics.base.Metric`. This kit checks it on small random bundles::

    from facebench.testing import MetricConformance, check_metric

    class TestKNN(MetricConformance):      # one pytest test per check
        metric = KNNAccuracy               # a Metric subclass, or its registered name "knn"
        params = {"k": 3}                  # constructor parameters (optional)
        plugin_module = "facebench_knn.plugin"   # optional: check registration without installing

    def test_knn_conforms():               # or everything in one call
        check_metric(KNNAccuracy, k=3)

Checks (each also a function ``check_*`` taking a metric instance):

* declaration: a ``Metric`` subclass with a ``name`` (no spaces), a one-line ``summary``, its own
  docstring, ``needs`` within {"features", "probs"} (non-empty, except for a control), integer
  ``min_per_class``/``min_models`` >= 1, and ``params()`` that rebuild an equal instance (the store
  records them with every score);
* finite and deterministic: on a valid random bundle the value is a finite float (or a mapping
  of finite floats), the same when scored again and by a fresh instance, and the bundle's
  arrays are left unmodified;
* invariance: the same value after renaming the labels (other integers, in another order) and
  after permuting the samples (rows of features, labels and probs together);
* needs honoured: a metric that needs ``probs`` raises a facebench error naming the metric or
  the bundle on a bundle without them; a metric that does not gives the same value with or
  without them;
* min_per_class honoured: a class with ``min_per_class - 1`` samples raises a facebench error
  naming the metric or the bundle; a class with exactly ``min_per_class`` samples works;
* combine: the zoo step maps ``min_models``..3 per-model values to finite scores, same models;
* registered (when a name or ``plugin_module`` is given): the plugin manager finds the metric
  under its name and ``create_metric`` builds it.

Controls (``Metric.control``, :mod:`facebench.metrics.controls`) are the exception the kit makes
explicitly: a data-free baseline reads the bundle's ``meta`` (recorded at extraction), never its
arrays, so the kit's random bundles carry :data:`CONTROL_META` for them, and ``control`` checks
instead that the value ignores the features and that a bundle without the meta is a named error.

A failing check raises :class:`ConformanceError` (an ``AssertionError``) saying what to fix.
"""
from __future__ import annotations

import copy
import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from .bundle import FeatureBundle
from .errors import FacebenchError
from .metrics.base import Metric, MetricValue

KNOWN_NEEDS = frozenset({"features", "probs"})
#: The meta of the kit's bundles for a control (a data-free baseline reads these, not the arrays).
CONTROL_META = {"num_params": 1_234_567, "source_accuracy": 0.75, "pretrain_epochs": 10}


class ConformanceError(AssertionError):
    """A metric does not honour the facebench metric contract."""


@dataclass(frozen=True)
class Tolerance:
    """How close two values must be: |a - b| <= atol + rtol |b|."""

    rtol: float = 1e-6  # invariances (summation order changes)
    atol: float = 1e-9
    determinism_rtol: float = 1e-12  # the same input twice


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------
def make_bundle(
    *,
    n_classes: int = 4,
    per_class: int | list[int] = 12,
    dim: int = 8,
    n_source: int = 6,
    probs: bool = True,
    seed: int = 0,
    name: str = "conformance-bundle",
    meta: Mapping[str, Any] | None = None,
) -> FeatureBundle:
    """A valid random bundle: Gaussian classes with distinct means, source probs correlated with labels."""
    rng = np.random.default_rng(seed)
    counts = [per_class] * n_classes if isinstance(per_class, int) else list(per_class)
    labels = np.repeat(np.arange(len(counts)), counts)
    means = rng.normal(0.0, 2.0, size=(len(counts), dim))
    features = means[labels] + rng.normal(0.0, 1.0, size=(labels.size, dim))
    order = rng.permutation(labels.size)
    features, labels = features[order], labels[order]
    p = None
    if probs:
        logits = rng.normal(0.0, 1.0, size=(labels.size, n_source))
        logits[np.arange(labels.size), labels % n_source] += 2.0
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
    return FeatureBundle.from_arrays(features, labels, p, name=name, meta=meta)


def _variant(bundle: FeatureBundle, *, labels: np.ndarray | None = None, order: np.ndarray | None = None,
             probs: bool = True, name: str | None = None) -> FeatureBundle:
    feats, labs, p = bundle.features, bundle.classes[bundle.labels], bundle.probs
    if labels is not None:
        labs = labels
    if order is not None:
        feats, labs = feats[order], labs[order]
        p = p[order] if p is not None else None
    return FeatureBundle.from_arrays(feats.copy(), labs.copy(), (p.copy() if p is not None and probs else None),
                                     name=name or bundle.name, meta=bundle.meta)


def _meta_for(metric: Metric) -> dict[str, Any] | None:
    """:data:`CONTROL_META` for a control (it reads the meta, not the arrays), else None."""
    return dict(CONTROL_META) if getattr(metric, "control", False) else None


def _valid_bundle(metric: Metric, seed: int = 0, **kw: Any) -> FeatureBundle:
    per_class = max(12, 3 * int(getattr(metric, "min_per_class", 1)))
    return make_bundle(per_class=per_class, seed=seed, meta=_meta_for(metric), **kw)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _fail(metric: Metric | type, what: str) -> ConformanceError:
    name = getattr(metric, "name", "") or type(metric).__name__
    return ConformanceError(f"metric {name!r}: {what}")


def _score(metric: Metric, bundle: FeatureBundle, what: str) -> MetricValue:
    try:
        with np.errstate(all="ignore"):
            value = metric.score(bundle)
    except Exception as exc:  # noqa: BLE001 - reported to the plugin author
        raise _fail(metric, f"{what}: score() raised {type(exc).__name__}: {exc}") from exc
    _check_finite(metric, value, what)
    return value


def _check_finite(metric: Metric, value: Any, what: str) -> None:
    items = value.items() if isinstance(value, Mapping) else [("", value)]
    if isinstance(value, Mapping) and not value:
        raise _fail(metric, f"{what}: returned an empty mapping")
    for key, v in items:
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise _fail(metric, f"{what}: returned {type(v).__name__} {v!r}{' for ' + key if key else ''}, "
                                "expected a float or a mapping of floats") from None
        if not math.isfinite(f):
            raise _fail(metric, f"{what}: non-finite value {f}{' for ' + key if key else ''}")


def _close(a: MetricValue, b: MetricValue, rtol: float, atol: float) -> bool:
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        if not (isinstance(a, Mapping) and isinstance(b, Mapping)) or set(a) != set(b):
            return False
        return all(_close(a[k], b[k], rtol, atol) for k in a)
    return abs(float(a) - float(b)) <= atol + rtol * abs(float(b))


def _expect_error(metric: Metric, bundle: FeatureBundle, what: str) -> FacebenchError:
    try:
        with np.errstate(all="ignore"):
            value = metric.score(bundle)
    except FacebenchError as exc:
        msg = str(exc)
        if metric.name not in msg and bundle.name not in msg:
            raise _fail(metric, f"{what}: the error message names neither the metric nor the bundle: {msg!r}") from exc
        return exc
    except Exception as exc:  # noqa: BLE001
        raise _fail(metric, f"{what}: raised {type(exc).__name__} ({exc}); expected a facebench error "
                            "(facebench.errors.MetricInputError, e.g. from Metric.check())") from exc
    raise _fail(metric, f"{what}: returned {value!r}; expected a facebench error (MetricInputError)")


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------
def check_declaration(metric: Metric) -> None:
    cls = type(metric)
    if not isinstance(metric, Metric):
        raise ConformanceError(f"{cls.__name__} is not a subclass of facebench.metrics.base.Metric")
    name = cls.name
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise _fail(metric, f"class attribute 'name' must be a non-empty string without spaces, got {name!r}")
    if not isinstance(cls.summary, str) or not cls.summary.strip():
        raise _fail(metric, "class attribute 'summary' (one line for `facebench list metrics`) is empty")
    if not (cls.__dict__.get("__doc__") or "").strip():
        raise _fail(metric, f"{cls.__name__} has no docstring: give the formula, its source, needs and min_per_class")
    needs = cls.needs
    control = getattr(cls, "control", False)
    if not isinstance(needs, (set, frozenset)) or not (needs or control) or not needs <= KNOWN_NEEDS:
        raise _fail(metric, f"'needs' must be a non-empty (frozen)set within {sorted(KNOWN_NEEDS)} (empty only for "
                            f"a control), got {needs!r}")
    for attr in ("min_per_class", "min_models"):
        v = getattr(cls, attr)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise _fail(metric, f"{attr!r} must be an integer >= 1, got {v!r}")
    signature = inspect.signature(cls.__init__)
    missing = [p.name for p in list(signature.parameters.values())[1:]
               if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and not hasattr(metric, p.name)]
    if missing:
        raise _fail(metric, f"constructor argument(s) {', '.join(missing)} not stored as attributes of the same "
                            "name, so params() cannot record them with the scores")
    params = metric.params()
    try:
        rebuilt = cls(**params)
    except Exception as exc:  # noqa: BLE001
        raise _fail(metric, f"cannot rebuild the metric from params() {params!r}: {exc} (store each constructor "
                            "argument as an attribute of the same name)") from exc
    if rebuilt.params() != params:
        raise _fail(metric, f"params() do not round-trip: {params!r} -> {rebuilt.params()!r}")
    repr(metric)


def check_finite_deterministic(metric: Metric, tol: Tolerance = Tolerance()) -> MetricValue:
    bundle = _valid_bundle(metric)
    before = (bundle.features.copy(), bundle.labels.copy(), None if bundle.probs is None else bundle.probs.copy())
    first = _score(metric, bundle, "on a valid random bundle")
    if not np.array_equal(bundle.features, before[0]) or not np.array_equal(bundle.labels, before[1]) or (
        before[2] is not None and not np.array_equal(bundle.probs, before[2])
    ):
        raise _fail(metric, "score() modified the bundle's arrays in place; work on copies")
    again = _score(metric, bundle, "scored a second time")
    fresh = _score(type(metric)(**metric.params()), _valid_bundle(metric), "by a fresh instance on an equal bundle")
    for label, other in (("scoring the same bundle twice", again), ("a fresh instance", fresh)):
        if not _close(first, other, tol.determinism_rtol, 0.0):
            raise _fail(metric, f"not deterministic: {first!r} vs {other!r} ({label})")
    return first


def check_label_renaming(metric: Metric, tol: Tolerance = Tolerance()) -> None:
    bundle = _valid_bundle(metric, seed=1)
    k = bundle.num_classes
    rng = np.random.default_rng(7)
    new_values = (1000 - 17 * np.arange(k))[rng.permutation(k)]  # other integers, in another order
    renamed = _variant(bundle, labels=new_values[bundle.labels], name=bundle.name + "-renamed")
    _expect_invariant(metric, bundle, renamed, "after renaming the labels", "renaming the labels", tol)


def _expect_invariant(metric: Metric, bundle: FeatureBundle, variant: FeatureBundle, after: str, change: str,
                      tol: Tolerance) -> None:
    """Fail unless ``metric`` scores ``variant`` as it scores ``bundle`` (within ``tol``)."""
    a = _score(metric, bundle, "on a valid random bundle")
    b = _score(metric, variant, after)
    if not _close(b, a, tol.rtol, tol.atol):
        raise _fail(metric, f"not invariant to {change}: {a!r} -> {b!r}")


def check_sample_permutation(metric: Metric, tol: Tolerance = Tolerance()) -> None:
    bundle = _valid_bundle(metric, seed=2)
    order = np.random.default_rng(11).permutation(bundle.n)
    permuted = _variant(bundle, order=order, name=bundle.name + "-permuted")
    _expect_invariant(metric, bundle, permuted, "after permuting the samples", "the order of the samples", tol)


def check_needs(metric: Metric, tol: Tolerance = Tolerance()) -> None:
    bundle = _valid_bundle(metric, seed=3)
    without = _variant(bundle, probs=False, name=bundle.name + "-without-probs")
    if "probs" in metric.needs:
        _expect_error(metric, without, "needs 'probs' but was given a bundle without them")
        return
    a = _score(metric, bundle, "on a bundle with probs")
    b = _score(metric, without, "on a bundle without probs (the metric does not declare 'probs')")
    if not _close(b, a, tol.rtol, tol.atol):
        raise _fail(metric, f"uses 'probs' without declaring them in 'needs': {a!r} with vs {b!r} without")


def check_min_per_class(metric: Metric) -> None:
    m = metric.min_per_class
    base = max(12, 3 * m)
    if m > 1:
        few = make_bundle(per_class=[base, base, m - 1, base], seed=4, name="conformance-too-few", meta=_meta_for(metric))
        _expect_error(metric, few, f"min_per_class={m} but a class has {m - 1} sample(s)")
    edge = make_bundle(per_class=[base, base, m, base], seed=5, name="conformance-at-min", meta=_meta_for(metric))
    _score(metric, edge, f"on a bundle whose smallest class has exactly min_per_class={m} samples")


def check_combine(metric: Metric) -> None:
    for n_models in sorted({max(metric.min_models, 1), max(metric.min_models, 3)}):
        values = {f"model-{i}": _score(metric, _valid_bundle(metric, seed=20 + i), f"model {i} of a zoo")
                  for i in range(n_models)}
        try:
            scores = metric.combine(values)
        except Exception as exc:  # noqa: BLE001
            raise _fail(metric, f"combine() over {n_models} models raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(scores, Mapping) or set(scores) != set(values):
            raise _fail(metric, f"combine() must return one score per model {sorted(values)}, got {scores!r}")
        for model, s in scores.items():
            _check_finite(metric, s, f"combine() score of {model}")
            if isinstance(s, Mapping):
                raise _fail(metric, f"combine() must return floats, got a mapping for {model}")


def check_control(metric: Metric, tol: Tolerance = Tolerance()) -> None:
    """A control (``Metric.control``) ignores the arrays: the same value when the features are replaced
    by noise and the probs dropped, and a named facebench error on a bundle without the meta. No-op
    for other metrics."""
    if not getattr(metric, "control", False):
        return
    bundle = _valid_bundle(metric, seed=6)
    noise = np.random.default_rng(13).normal(0.0, 50.0, size=(bundle.n, 3))
    other = FeatureBundle.from_arrays(noise, bundle.classes[bundle.labels], None, name=bundle.name + "-noise",
                                      meta=bundle.meta)
    a = _score(metric, bundle, "on a valid random bundle")
    b = _score(metric, other, "with the features replaced by noise")
    if not _close(b, a, tol.rtol, tol.atol):
        raise _fail(metric, f"is a control but depends on the features: {a!r} -> {b!r}")
    bare = make_bundle(seed=6, name="conformance-no-meta")
    _expect_error(metric, bare, "a control on a bundle whose meta lacks what it reads")


def check_registered(name: str, cls: type | None = None, *, plugin_module: str | None = None) -> type:
    """The plugin manager finds ``name`` and builds it.

    With ``plugin_module``: a plugin manager loading the built-ins and that module only (no entry
    points), so the check does not depend on what is installed; otherwise the process-wide one
    (installed entry points and ``$FACEBENCH_PLUGINS``).
    """
    from .plugins import Plugins, get_plugins

    try:
        plugins = Plugins([plugin_module], entry_points=False) if plugin_module else get_plugins()
    except FacebenchError as exc:
        raise ConformanceError(f"loading the plugins failed: {exc}") from None
    if name not in plugins.metrics:
        raise ConformanceError(
            f"metric {name!r} is not registered: install its package (pip install -e .) so that its entry point "
            f"in group 'facebench' is found, or name its plugin module (plugin_module=...); "
            f"known: {', '.join(sorted(plugins.metrics.names()))}"
        )
    registered = plugins.metrics.get(name)
    if cls is not None and (registered.__module__, registered.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ConformanceError(f"metric {name!r} is registered as {registered!r}, not {cls!r}")
    instance = plugins.create_metric(name)
    if not isinstance(instance, Metric) or instance.name != name:
        raise ConformanceError(f"create_metric({name!r}) built {instance!r}, whose name is {instance.name!r}")
    return registered


CHECKS: dict[str, Callable[..., Any]] = {
    "declaration": check_declaration,
    "finite_deterministic": check_finite_deterministic,
    "label_renaming": check_label_renaming,
    "sample_permutation": check_sample_permutation,
    "needs": check_needs,
    "min_per_class": check_min_per_class,
    "combine": check_combine,
    "control": check_control,
}


def resolve(metric: type | str | Metric, params: Mapping[str, Any] | None = None) -> tuple[Metric, str | None]:
    """An instance of ``metric`` (a class, an instance or a registered name), and the name if one was given."""
    params = dict(params or {})
    if isinstance(metric, str):
        from .plugins import get_plugins

        plugins = get_plugins()
        try:
            return plugins.create_metric(metric, **params), metric
        except FacebenchError as exc:
            raise ConformanceError(str(exc)) from None
    if isinstance(metric, Metric):
        return (type(metric)(**params) if params else copy.deepcopy(metric)), None
    if isinstance(metric, type) and issubclass(metric, Metric):
        try:
            return metric(**params), None
        except Exception as exc:  # noqa: BLE001
            raise ConformanceError(f"cannot build {metric.__name__}(**{params!r}): {exc}") from exc
    raise ConformanceError(f"{metric!r} is neither a Metric subclass, an instance nor a registered metric name")


def check_metric(metric: type | str | Metric, /, *, tolerance: Tolerance = Tolerance(),
                 plugin_module: str | None = None, **params: Any) -> Metric:
    """Run every check; raise one :class:`ConformanceError` listing all failures. Returns the instance."""
    instance, name = resolve(metric, params)
    failures = []
    for label, check in CHECKS.items():
        try:
            if "tol" in check.__code__.co_varnames[: check.__code__.co_argcount]:
                check(instance, tolerance)
            else:
                check(instance)
        except ConformanceError as exc:
            failures.append(f"[{label}] {exc}")
    if name is not None or plugin_module is not None:
        try:
            check_registered(name or instance.name, type(instance), plugin_module=plugin_module)
        except ConformanceError as exc:
            failures.append(f"[registered] {exc}")
    if failures:
        raise ConformanceError(f"{len(failures)} conformance failure(s):\n" + "\n".join(failures))
    return instance


class MetricConformance:
    """pytest mix-in: subclass it as ``class TestMyMetric(MetricConformance)`` and set ``metric``."""

    metric: ClassVar[type | str | None] = None
    params: ClassVar[dict[str, Any]] = {}
    plugin_module: ClassVar[str | None] = None
    tolerance: ClassVar[Tolerance] = Tolerance()

    def conformance_metric(self) -> Metric:
        if self.metric is None:
            raise ConformanceError(f"{type(self).__name__}: set the class attribute 'metric' (a class or a name)")
        return resolve(self.metric, self.params)[0]

    def test_declaration(self) -> None:
        check_declaration(self.conformance_metric())

    def test_finite_and_deterministic(self) -> None:
        check_finite_deterministic(self.conformance_metric(), self.tolerance)

    def test_label_renaming_invariance(self) -> None:
        check_label_renaming(self.conformance_metric(), self.tolerance)

    def test_sample_permutation_invariance(self) -> None:
        check_sample_permutation(self.conformance_metric(), self.tolerance)

    def test_needs_honoured(self) -> None:
        check_needs(self.conformance_metric(), self.tolerance)

    def test_min_per_class_honoured(self) -> None:
        check_min_per_class(self.conformance_metric())

    def test_combine(self) -> None:
        check_combine(self.conformance_metric())

    def test_control(self) -> None:
        check_control(self.conformance_metric(), self.tolerance)

    def test_registered(self) -> None:
        if not isinstance(self.metric, str) and self.plugin_module is None:
            import pytest

            pytest.skip("give 'metric' as a registered name or set 'plugin_module' to check registration")
        instance = self.conformance_metric()
        cls = None if isinstance(self.metric, str) else type(instance)
        check_registered(instance.name, cls, plugin_module=self.plugin_module)


__all__ = [
    "CHECKS", "CONTROL_META", "ConformanceError", "MetricConformance", "Tolerance", "check_combine", "check_control",
    "check_declaration",
    "check_finite_deterministic", "check_label_renaming", "check_metric", "check_min_per_class", "check_needs",
    "check_registered", "check_sample_permutation", "make_bundle", "resolve",
]
