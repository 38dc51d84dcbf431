"""The FaCe paper's classification zoos (Ding et al., arXiv:2310.05754, §4.1-4.3).

* ``imagenet-15`` (§4.1, Table 1): 15 ImageNet models "provided by PyTorch Model Hub": ResNet50/
  101/152, DenseNet121/169/201, MobileNetV2/V3 (large), EfficientNet-B0..B3, VGG16/19 with
  torchvision's ``IMAGENET1K_V1`` weights; MobileNetV1, which torchvision lacks, from timm
  (``mobilenetv1_100.ra4_e3600_r224_in1k``).
* ``multisource-30`` (§4.2, Table 2): ResNet50, DenseNet121 and EfficientNet-B2 (ImageNet
  weights) each trained for 100 epochs (SGD, lr 0.01, batch 64, cross entropy) on a source. The
  paper says 10 sources but names 9 (CIFAR-10, CIFAR-100, CUB, Flowers, Stanford Cars,
  Country211, Food101, SVHN, FGVC Aircraft); we take ImageNet itself, i.e. the starting weights
  without further training, as the 10th source, which gives the 30 models the paper counts.
* ``homogeneous-21`` (§4.3, Table 3): ResNet50 (ImageNet weights) trained as above on CIFAR-10,
  Oxford Pets or CUB with each of the 7 losses of :mod:`facebench.tasks.classification.losses`.

Weights and datasets are downloaded only when the run allows it; source pre-training uses each
model's eval preprocessing (224 px crops) without augmentation besides what the loss does.
"""
from __future__ import annotations

from ...base import ModelSpec, PretrainSpec, Zoo

TV = "torchvision:IMAGENET1K_V1"

IMAGENET_15 = (
    ModelSpec("resnet50", "resnet50", TV),
    ModelSpec("resnet101", "resnet101", TV),
    ModelSpec("resnet152", "resnet152", TV),
    ModelSpec("densenet121", "densenet121", TV),
    ModelSpec("densenet169", "densenet169", TV),
    ModelSpec("densenet201", "densenet201", TV),
    ModelSpec("mobilenetv1", "mobilenetv1_100", "timm:ra4_e3600_r224_in1k"),
    ModelSpec("mobilenetv2", "mobilenet_v2", TV),
    ModelSpec("mobilenetv3", "mobilenet_v3_large", TV),
    ModelSpec("efficientnet-b0", "efficientnet_b0", TV),
    ModelSpec("efficientnet-b1", "efficientnet_b1", TV),
    ModelSpec("efficientnet-b2", "efficientnet_b2", TV),
    ModelSpec("efficientnet-b3", "efficientnet_b3", TV),
    ModelSpec("vgg16", "vgg16", TV),
    ModelSpec("vgg19", "vgg19", TV),
)

#: §4.2 sources as registry names; "imagenet" means the initial weights without further training.
MULTISOURCE_SOURCES = (
    "imagenet", "cifar-10", "cifar-100", "cub-200-2011", "flowers-102", "stanford-cars",
    "country-211", "food-101", "svhn", "fgvc-aircraft",
)
MULTISOURCE_ARCHS = (("resnet50", "resnet50"), ("densenet121", "densenet121"), ("efficientnet-b2", "efficientnet_b2"))
HOMOGENEOUS_SOURCES = ("cifar-10", "oxford-pets", "cub-200-2011")
HOMOGENEOUS_LOSSES = ("ce", "label-smoothing", "mixup", "cutmix", "cutout", "large-margin", "taylor")


def _source_training(source: str, loss: str = "ce") -> PretrainSpec:
    """§4.2 training details: ImageNet model, 100 epochs, SGD lr 0.01, batch size 64."""
    return PretrainSpec(source=source, loss=loss, epochs=100, lr=0.01, batch_size=64)


def _multisource() -> tuple[ModelSpec, ...]:
    models = []
    for short, arch in MULTISOURCE_ARCHS:
        for source in MULTISOURCE_SOURCES:
            pretrain = None if source == "imagenet" else _source_training(source)
            models.append(ModelSpec(f"{short}-{source}", arch, TV, pretrain=pretrain))
    return tuple(models)


def _homogeneous() -> tuple[ModelSpec, ...]:
    return tuple(
        ModelSpec(f"resnet50-{source}-{loss}", "resnet50", TV, pretrain=_source_training(source, loss))
        for source in HOMOGENEOUS_SOURCES
        for loss in HOMOGENEOUS_LOSSES
    )


ZOOS = (
    Zoo("imagenet-15", "FaCe §4.1: 15 ImageNet models, 5 families (torchvision + timm weights)",
        "classification", IMAGENET_15),
    Zoo("multisource-30", "FaCe §4.2: ResNet50/DenseNet121/EfficientNet-B2 x 10 sources (ImageNet + 9 fine-tuned)",
        "classification", _multisource()),
    Zoo("homogeneous-21", "FaCe §4.3: ResNet50 x 3 sources (CIFAR-10, Pets, CUB) x 7 losses",
        "classification", _homogeneous()),
)
