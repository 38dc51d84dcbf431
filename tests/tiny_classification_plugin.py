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
