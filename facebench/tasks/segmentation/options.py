"""The segmentation task's benchmark options and fine-tuning hyper-parameters, validated.

Benchmark ``options`` (all optional)::

    pixels_per_class: 200     # scoring pixels: at most this many of each class (the bundle's n)
    pixels_per_image: 20      # ... and at most this many of one class from any one image
    pixel_seed: 0             # which pixels the sample keeps (the same for every model)
    train_images: null        # cap the target's train split (first N images, file order)
    test_images: null         # cap the target's test split
    image_size: null          # resize images (bilinear) and label maps (nearest) to [h, w]
    num_threads: 1            # torch.set_num_threads on CPU
    eval_batch_size: 16       # images per forward pass in extraction and evaluation

Fine-tuning ``finetune`` hyper-parameters: lr, momentum, weight_decay, epochs, batch_size,
warmup_iters, power (SGD with a linear warm-up, then the poly schedule
``lr * (1 - t / T) ** power``; the paper's §4.4 "WarmupPolyLR"). The task's defaults are
:data:`DEFAULT_FINETUNE` (SGD lr 0.01, momentum 0.9, poly 0.9, batch 8, 10 epochs); the paper's
values (lr 1e-4, 60 epochs) are in ``configs/paper/segmentation.yaml``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ...checks import refuse_unknown
from ...errors import ConfigError

OPTION_KEYS = (
    "pixels_per_class", "pixels_per_image", "pixel_seed", "train_images", "test_images", "image_size",
    "num_threads", "eval_batch_size",
)
HPARAM_KEYS = ("optimizer", "lr", "momentum", "weight_decay", "epochs", "batch_size", "warmup_iters", "power")
DEFAULT_FINETUNE = {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4, "epochs": 10,
                    "batch_size": 8, "warmup_iters": 10, "power": 0.9}


def _int(value: Any, what: str, *, minimum: int = 1, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"segmentation: {what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _float(value: Any, what: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or value == float("inf") \
            or (positive and value == 0):  # (not >= 0: NaN too)
        raise ConfigError(f"segmentation: {what} must be a finite {'positive' if positive else 'non-negative'} number, "
                          f"got {value!r}")
    return float(value)


@dataclass(frozen=True)
class TaskOptions:
    pixels_per_class: int = 200
    pixels_per_image: int = 20
    pixel_seed: int = 0
    train_images: int | None = None
    test_images: int | None = None
    image_size: tuple[int, int] | None = None
    num_threads: int | None = 1
    eval_batch_size: int = 16

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None) -> "TaskOptions":
        o = dict(options or {})
        refuse_unknown(o, OPTION_KEYS, "segmentation", "option")
        size = o.get("image_size")
        if size is not None:
            if isinstance(size, int):
                size = [size, size]
            if not isinstance(size, (list, tuple)) or len(size) != 2:
                raise ConfigError(f"segmentation: image_size must be an integer or [height, width], got {size!r}")
            size = (_int(size[0], "image_size height"), _int(size[1], "image_size width"))
        return cls(
            pixels_per_class=_int(o.get("pixels_per_class", 200), "pixels_per_class", allow_none=False),
            pixels_per_image=_int(o.get("pixels_per_image", 20), "pixels_per_image", allow_none=False),
            pixel_seed=_int(o.get("pixel_seed", 0), "pixel_seed", minimum=0, allow_none=False),
            train_images=_int(o.get("train_images"), "train_images"),
            test_images=_int(o.get("test_images"), "test_images"),
            image_size=size,
            num_threads=_int(o.get("num_threads", 1), "num_threads"),
            eval_batch_size=_int(o.get("eval_batch_size", 16), "eval_batch_size", allow_none=False),
        )


@dataclass(frozen=True)
class Hparams:
    """SGD with linear warm-up and poly decay, over ``epochs`` passes of ``batch_size`` images."""

    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    epochs: int = 10
    batch_size: int = 8
    warmup_iters: int = 10
    power: float = 0.9

    @classmethod
    def parse(cls, hparams: Mapping[str, Any] | None) -> "Hparams":
        h = {**DEFAULT_FINETUNE, **dict(hparams or {})}
        refuse_unknown(h, HPARAM_KEYS, "segmentation", "finetune key")
        if str(h["optimizer"]).lower() != "sgd":
            raise ConfigError(f"segmentation: optimizer must be sgd (the paper's recipe), got {h['optimizer']!r}")
        return cls(
            lr=_float(h["lr"], "lr", positive=True), momentum=_float(h["momentum"], "momentum"),
            weight_decay=_float(h["weight_decay"], "weight_decay"),
            epochs=_int(h["epochs"], "epochs", allow_none=False),
            batch_size=_int(h["batch_size"], "batch_size", allow_none=False),
            warmup_iters=_int(h["warmup_iters"], "warmup_iters", minimum=0, allow_none=False),
            power=_float(h["power"], "power"),
        )
