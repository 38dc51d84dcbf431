"""``embedded-segmentation``: small PSPNets that facebench pre-trains itself, offline, on a 2-core CPU.

Six mmseg PSPNets (``EncoderDecoder`` + ``ResNetV1c`` + ``PSPHead``, output stride 8), backbone
width 16 and PSP bottleneck 64 channels, pre-trained from scratch on embedded source scenes
(:mod:`..datasets.scenes`) that differ from the target ``scenes-fashion`` in content and layout.
The zoo is built so that transfer quality really differs (measured in
``benchmarks/embedded_segmentation.md``):

* a pre-training-length ladder on the nearest source (``scenes-fashion-source``: other
  Fashion-MNIST items, 10 fine classes, one large item on other backgrounds): 12, 5 and 2
  epochs (the 2-epoch member with cross entropy + Dice, the loss lever);
* a deeper backbone (ResNetV1c-34) on the same source, 4 epochs;
* farther sources: LFW face / non-face rectangles, scikit-learn digits (4 epochs each).

Source pre-training: the source's 320 training scenes of 64x64, batch 8, SGD lr 0.02 with
warm-up + poly, cached under ``<cache_dir>/models``. The companion benchmark is
``configs/embedded/segmentation.yaml``.
"""
from __future__ import annotations

from ...base import ModelSpec, PretrainSpec, Zoo

SMALL = {"depth": 18, "base_channels": 16, "channels": 64}
DEEP = {"depth": 34, "base_channels": 16, "channels": 64}
LR = 0.02


def _pre(source: str, epochs: int, loss: str = "ce") -> PretrainSpec:
    return PretrainSpec(source=source, loss=loss, epochs=epochs, lr=LR, batch_size=8, options={"seed": 0})


MODELS = (
    ModelSpec("pspnet-r18-fashion-12ep", "pspnet", None, pretrain=_pre("scenes-fashion-source", 12), options=SMALL),
    ModelSpec("pspnet-r18-fashion-5ep", "pspnet", None, pretrain=_pre("scenes-fashion-source", 5), options=SMALL),
    ModelSpec("pspnet-r18-fashion-2ep-ce-dice", "pspnet", None,
              pretrain=_pre("scenes-fashion-source", 2, "ce+dice"), options=SMALL),
    ModelSpec("pspnet-r34-fashion-4ep", "pspnet", None, pretrain=_pre("scenes-fashion-source", 4), options=DEEP),
    ModelSpec("pspnet-r18-faces-4ep", "pspnet", None, pretrain=_pre("scenes-faces", 4), options=SMALL),
    ModelSpec("pspnet-r18-digits-4ep", "pspnet", None, pretrain=_pre("scenes-digits", 4), options=SMALL),
)

ZOO = Zoo(
    name="embedded-segmentation",
    summary="6 offline PSPNets (ResNetV1c-18/34, width 16) pre-trained by facebench on embedded scenes "
            "(near and far sources, 2-12 epochs)",
    task="segmentation",
    models=MODELS,
    offline=True,
)
