"""``embedded-segmentation``: small PSPNets that facebench pre-trains itself, offline, on a 2-core CPU.

Eight mmseg PSPNets (``EncoderDecoder`` + ``ResNetV1c`` + ``PSPHead``, output stride 8), backbone
width 16 and PSP bottleneck 64 channels, pre-trained from scratch on the embedded source scenes
(:mod:`..datasets.scenes`), which differ from the target ``scenes-fashion`` in content and layout:

* ResNetV1c-18 with cross entropy on each of the five sources (other Fashion-MNIST items and
  classes in a different layout; MNIST digits; scikit-learn digits; LFW faces; texture mosaics);
* a loss sub-zoo on the Fashion-MNIST source: cross entropy + Lovász-softmax, cross entropy + Dice;
* a deeper backbone (ResNetV1c-34) on the MNIST source.

Source pre-training: 320 scenes of 64x64, batch 8, SGD lr 0.01 with warm-up + poly, 3 epochs,
cached under ``<cache_dir>/models``. The companion benchmark is
``configs/embedded/segmentation.yaml``.
"""
from __future__ import annotations

from ...base import ModelSpec, PretrainSpec, Zoo

SMALL = {"depth": 18, "base_channels": 16, "channels": 64}
DEEP = {"depth": 34, "base_channels": 16, "channels": 64}
EPOCHS = 3


def _pre(source: str, loss: str = "ce", epochs: int = EPOCHS) -> PretrainSpec:
    return PretrainSpec(source=source, loss=loss, epochs=epochs, lr=0.01, batch_size=8, options={"seed": 0})


MODELS = (
    ModelSpec("pspnet-r18-fashion-ce", "pspnet", None, pretrain=_pre("scenes-fashion-source"), options=SMALL),
    ModelSpec("pspnet-r18-fashion-ce-lovasz", "pspnet", None, pretrain=_pre("scenes-fashion-source", "ce+lovasz"),
              options=SMALL),
    ModelSpec("pspnet-r18-fashion-ce-dice", "pspnet", None, pretrain=_pre("scenes-fashion-source", "ce+dice"),
              options=SMALL),
    ModelSpec("pspnet-r18-mnist-ce", "pspnet", None, pretrain=_pre("scenes-mnist"), options=SMALL),
    ModelSpec("pspnet-r34-mnist-ce", "pspnet", None, pretrain=_pre("scenes-mnist"), options=DEEP),
    ModelSpec("pspnet-r18-digits-ce", "pspnet", None, pretrain=_pre("scenes-digits"), options=SMALL),
    ModelSpec("pspnet-r18-faces-ce", "pspnet", None, pretrain=_pre("scenes-faces"), options=SMALL),
    ModelSpec("pspnet-r18-textures-ce", "pspnet", None, pretrain=_pre("scenes-textures"), options=SMALL),
)

ZOO = Zoo(
    name="embedded-segmentation",
    summary="8 offline PSPNets (ResNetV1c-18/34, width 16) pre-trained by facebench on embedded scenes",
    task="segmentation",
    models=MODELS,
    offline=True,
)
