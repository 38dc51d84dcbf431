"""A config plugin module with a two-model segmentation zoo of tiny PSPNets pre-trained on 'tiny-source'."""
from __future__ import annotations

from facebench import hookimpl
from facebench.tasks.base import ModelSpec, PretrainSpec, Zoo

TINY = {"depth": 18, "base_channels": 8, "channels": 16}


def _pre(loss: str) -> PretrainSpec:
    return PretrainSpec("tiny-source", loss, epochs=1, lr=0.01, batch_size=4, options={"warmup_iters": 0})


@hookimpl
def facebench_zoos():
    models = (ModelSpec("tiny-psp-ce", "pspnet", None, pretrain=_pre("ce"), options=TINY),
              ModelSpec("tiny-psp-lovasz", "pspnet", None, pretrain=_pre("ce+lovasz"), options=TINY))
    return [Zoo("tiny-segmentation", "two tiny PSPNets (tests)", "segmentation", models, offline=True)]
