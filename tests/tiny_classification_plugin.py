"""A config plugin module with a two-model classification zoo of tiny timm nets (no weights, no pre-training)."""
from __future__ import annotations

from facebench import hookimpl
from facebench.tasks.base import ModelSpec, Zoo

GREY32 = {"input_size": 32, "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}


@hookimpl
def facebench_zoos():
    models = (ModelSpec("tiny-vit", "test_vit", None, options=GREY32),
              ModelSpec("tiny-resnet", "test_resnet", None, options=GREY32))
    return [Zoo("tiny-classification", "two tiny timm nets (tests)", "classification", models, offline=True)]


@hookimpl
def facebench_datasets():
    """A classification dataset type that only this module registers (scikit-learn's digits again)."""
    from facebench.tasks.base import DatasetSpec
    from facebench.tasks.classification.datasets import offline

    digits = next(d for d in offline.DATASETS if d.name == "digits")
    return [DatasetSpec("digits-from-plugin", "digits, registered by a config plugin", "classification",
                        digits.load, offline=True, check=digits.check)]
