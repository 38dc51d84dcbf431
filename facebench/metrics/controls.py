"""Data-free controls: baselines that rank the models without looking at the target's data.

A transferability metric earns its keep only if it beats what is known about a model before any
target data is seen. Each control reads one fact that extraction records in the bundle's
``meta`` (the classification, segmentation and text tasks; see their ``extract``) and ignores
the features, the labels and the source probabilities:

* ``control-params``: the model's size, ``num_params`` (all parameters of the backbone that
  produced the features). Singh, Hess and Vanschoren (arXiv:2510.06448) found that ordering the
  models by size reached 0.91 on a standard benchmark where LogME reached 0.57.
* ``control-source-accuracy``: the pre-trained model's own accuracy on its source's validation
  or test split, ``source_accuracy`` (measured by facebench for the models it pre-trains; the
  published figure where the zoo declares one, e.g. EfficientNet-Lite's ImageNet top-1). Chaves
  et al. (arXiv:2405.20420) found ImageNet accuracy a hard baseline.
* ``control-pretrain-epochs``: the pre-training length, ``pretrain_epochs``.

A bundle whose meta lacks the fact (features you bring yourself, a zoo that does not record it)
raises :class:`~facebench.errors.MetricInputError`: the board shows the control as undefined on
that target, not a crash. ``needs`` is empty: no target data is used.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

from ..bundle import FeatureBundle
from ..errors import MetricInputError
from .base import Metric


class _Control(Metric):
    """A data-free control: one number of the bundle's ``meta``, checked and transformed (not registered itself).

    ``compute`` reads ``meta[key]`` (:meth:`fact`), refuses a value outside ``valid`` (lowest,
    highest, and what the message says is expected; "" says nothing) and returns :meth:`transform` of it.
    """

    needs = frozenset()  # no target data: neither the features nor the source probabilities
    control = True
    key: ClassVar[str] = ""  # the meta key it reads
    valid: ClassVar[tuple[float, float, str]] = (-math.inf, math.inf, "")

    def compute(self, bundle: FeatureBundle) -> float:
        value = self.fact(bundle)
        low, high, expected = self.valid
        if not low <= value <= high:
            raise MetricInputError(f"{bundle.name}: metric {self.name!r}: meta {self.key!r} is {value:g}"
                                   + (f", expected {expected}" if expected else ""))
        return self.transform(value)

    def transform(self, value: float) -> float:
        """The score of a valid fact (the fact itself unless a control says otherwise)."""
        return value

    def fact(self, bundle: FeatureBundle) -> float:
        """``bundle.meta[key]`` as a finite float; MetricInputError (one line) when absent or not a number."""
        value: Any = (bundle.meta or {}).get(self.key)
        if value is None:
            raise MetricInputError(
                f"{bundle.name}: metric {self.name!r}: the features' meta has no {self.key!r} "
                "(the zoo does not record it for this model)"
            )
        try:
            if isinstance(value, bool):
                raise TypeError(value)
            number = float(value)
        except (TypeError, ValueError):
            raise MetricInputError(
                f"{bundle.name}: metric {self.name!r}: meta {self.key!r} is {value!r}, not a number"
            ) from None
        if not math.isfinite(number):
            raise MetricInputError(f"{bundle.name}: metric {self.name!r}: meta {self.key!r} is {value!r}")
        return number


class ParamCount(_Control):
    """Model size: ``score = log10(num_params)``; bigger models score higher.

    ``num_params`` is the count of all parameters of the backbone that produced the features (the
    classifier head excluded), recorded in ``bundle.meta`` at extraction. The logarithm changes no
    ranking; it keeps the values on a readable scale. Source: Singh, Hess and Vanschoren,
    arXiv:2510.06448 (ordering by size: 0.91 on a standard benchmark where LogME reached 0.57).
    needs: none (``bundle.meta`` only); min_per_class: 1.
    """

    name = "control-params"
    summary = "data-free control: log10 of the backbone's parameter count (no target data)"
    source = "model size as a baseline: Singh, Hess & Vanschoren, arXiv:2510.06448"
    key = "num_params"
    valid = (1, math.inf, ">= 1")

    def transform(self, value: float) -> float:
        return math.log10(value)


class SourceAccuracy(_Control):
    """Source accuracy: ``score = source_accuracy``, the pre-trained model's own accuracy on its
    source's validation/test split (a fraction in [0, 1]); higher scores higher.

    Recorded in ``bundle.meta`` at extraction: measured by facebench after the pre-training it runs
    itself (top-1 accuracy; mIoU for segmentation, ``meta['source_metric']`` says which), else the
    published figure that the zoo declares on the ``ModelSpec`` or that the weights' library ships
    (torchvision's ImageNet acc@1). Source: Chaves et al., arXiv:2405.20420 (ImageNet accuracy is
    a hard baseline for transferability estimation). needs: none (``bundle.meta`` only);
    min_per_class: 1.
    """

    name = "control-source-accuracy"
    summary = "data-free control: the pre-trained model's own accuracy on its source (no target data)"
    source = "source (ImageNet) accuracy as a baseline: Chaves et al., arXiv:2405.20420"
    key = "source_accuracy"
    valid = (0.0, 1.0, "a fraction in [0, 1]")


class PretrainEpochs(_Control):
    """Pre-training length: ``score = pretrain_epochs``; longer pre-training scores higher.

    ``pretrain_epochs`` is the number of epochs of the source training that facebench ran (its
    ``PretrainSpec.epochs``), or the length the zoo declares for published weights, recorded in
    ``bundle.meta`` at extraction. A data-free control in the sense of Singh, Hess and Vanschoren
    (arXiv:2510.06448) and Chaves et al. (arXiv:2405.20420): what is known of a model before any
    target data. needs: none (``bundle.meta`` only); min_per_class: 1.
    """

    name = "control-pretrain-epochs"
    summary = "data-free control: the length of the model's pre-training in epochs (no target data)"
    source = "data-free baselines: Singh, Hess & Vanschoren, arXiv:2510.06448; Chaves et al., arXiv:2405.20420"
    key = "pretrain_epochs"
    valid = (0, math.inf, "")


CONTROLS = (ParamCount, SourceAccuracy, PretrainEpochs)
