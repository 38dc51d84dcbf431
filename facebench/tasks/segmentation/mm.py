"""PSPNet through mmsegmentation: config dicts kept here, models built by mmseg's registry.

A zoo model is ``arch: pspnet`` with ``options``: ``depth`` (ResNetV1c 18/34/50/101),
``base_channels`` (backbone width; 64 is the paper's ResNet-50), ``stem_channels`` (default
``base_channels``), ``channels`` (PSP bottleneck width; mmseg's default 512) and ``dropout``
(0.1). :func:`pspnet_config` writes mmseg's config dict (``EncoderDecoder`` + ``ResNetV1c`` +
``PSPHead`` + ``SegDataPreProcessor``, output stride 8 as in mmseg's ``pspnet_r50-d8``) and
:func:`build_pspnet` builds it with ``MODELS.build`` after ``register_all_modules``. BN instead
of SyncBN (one process). mmseg is imported here, on first use, never when facebench imports.
"""
from __future__ import annotations

import warnings
from typing import Any, Mapping

from ...checks import refuse_unknown
from ...errors import ConfigError

ARCH = "pspnet"
MODEL_OPTION_KEYS = ("depth", "base_channels", "stem_channels", "channels", "dropout")
DEPTHS = (18, 34, 50, 101)
# ImageNet statistics of mmseg's PSPNet configs, in RGB order (images are handed over as RGB)
MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)
LOSSES: dict[str, list[dict[str, Any]]] = {
    "ce": [dict(type="CrossEntropyLoss", use_sigmoid=False, loss_weight=1.0, avg_non_ignore=True)],
    "ce+dice": [dict(type="CrossEntropyLoss", use_sigmoid=False, loss_weight=1.0, avg_non_ignore=True,
                     loss_name="loss_ce"),
                dict(type="DiceLoss", use_sigmoid=False, loss_weight=1.0, loss_name="loss_dice")],
    "ce+lovasz": [dict(type="CrossEntropyLoss", use_sigmoid=False, loss_weight=1.0, avg_non_ignore=True,
                       loss_name="loss_ce"),
                  dict(type="LovaszLoss", loss_type="multi_class", per_image=False, reduction="none",
                       loss_weight=1.0, loss_name="loss_lovasz")],
}
# mmseg 1.2.2's FocalLoss indexes its one-hot target wrongly on CPU (``target[:, num_classes]``), so
# it is not offered here.

_READY = False


def init_mmseg() -> None:
    """Import mmseg and register its modules once (mmseg's default scope)."""
    global _READY
    if _READY:
        return
    try:
        from mmseg.utils import register_all_modules
    except ImportError as exc:
        raise ConfigError(
            f"the segmentation task needs mmsegmentation 1.x with mmcv's compiled ops ({exc}); "
            "see /work/shared/environment.md or scripts/setup.sh"
        ) from None
    register_all_modules(init_default_scope=True)
    _READY = True


def model_options(spec) -> dict[str, Any]:
    o = dict(spec.options or {})
    refuse_unknown(o, MODEL_OPTION_KEYS, f"model {spec.name!r}", "option")
    if spec.arch != ARCH:
        raise ConfigError(f"model {spec.name!r}: segmentation architecture must be {ARCH!r}, got {spec.arch!r}")
    depth = o.get("depth", 50)
    if depth not in DEPTHS:
        raise ConfigError(f"model {spec.name!r}: depth must be one of {DEPTHS}, got {depth!r}")
    base = int(o.get("base_channels", 64))
    return {"depth": int(depth), "base_channels": base, "stem_channels": int(o.get("stem_channels", base)),
            "channels": int(o.get("channels", 512)), "dropout": float(o.get("dropout", 0.1))}


def loss_config(name: str, where: str = "") -> list[dict[str, Any]]:
    if name not in LOSSES:
        raise ConfigError(f"{where}unknown segmentation loss {name!r} (known: {', '.join(LOSSES)})")
    return [dict(d) for d in LOSSES[name]]


def pspnet_config(num_classes: int, *, depth: int = 50, base_channels: int = 64, stem_channels: int | None = None,
                  channels: int = 512, dropout: float = 0.1, loss: str = "ce", ignore_index: int = 255) -> dict:
    """mmseg's PSPNet config dict (the layout of its ``configs/_base_/models/pspnet_r50-d8.py``)."""
    norm = dict(type="BN", requires_grad=True)
    expansion = 1 if depth in (18, 34) else 4
    return dict(
        type="EncoderDecoder",
        data_preprocessor=dict(type="SegDataPreProcessor", mean=list(MEAN), std=list(STD), bgr_to_rgb=False,
                               pad_val=0, seg_pad_val=ignore_index, size_divisor=8),  # training pads to x8
        backbone=dict(type="ResNetV1c", depth=depth, in_channels=3, base_channels=base_channels,
                      stem_channels=stem_channels or base_channels, num_stages=4, out_indices=(0, 1, 2, 3),
                      dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), norm_cfg=norm, norm_eval=False,
                      style="pytorch", contract_dilation=True),
        decode_head=dict(type="PSPHead", in_channels=base_channels * 8 * expansion, in_index=3, channels=channels,
                         pool_scales=(1, 2, 3, 6), dropout_ratio=dropout, num_classes=num_classes, norm_cfg=norm,
                         align_corners=False, ignore_index=ignore_index, loss_decode=loss_config(loss)),
        train_cfg=dict(),
        test_cfg=dict(mode="whole"),
    )


def build_pspnet(spec, num_classes: int, *, loss: str = "ce", ignore_index: int = 255):
    """The zoo model's network for ``num_classes`` classes (mmseg ``MODELS.build``), on CPU, float32."""
    init_mmseg()
    from mmengine.config import ConfigDict
    from mmseg.registry import MODELS

    cfg = pspnet_config(num_classes, loss=loss, ignore_index=ignore_index, **model_options(spec))
    with warnings.catch_warnings():  # mmseg's heads build their losses with its own deprecated build_loss
        warnings.filterwarnings("ignore", message=r".*``build_\w+`` would be deprecated soon", category=UserWarning,
                                module=r"mmseg\.")
        return MODELS.build(ConfigDict(cfg))  # attribute access (test_cfg.mode), as from an mmseg config file


def transferable_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """A checkpoint's weights without the classifier (``decode_head.conv_seg``) and auxiliary heads;
    a backbone-only checkpoint's keys get the ``backbone.`` prefix (its ``fc`` dropped)."""
    state = state.get("state_dict", state)
    if not any(k.startswith("backbone.") for k in state):  # a backbone-only checkpoint (ImageNet ResNetV1c)
        state = {f"backbone.{k}": v for k, v in state.items() if not k.startswith("fc.")}
    return {k: v for k, v in state.items()
            if not k.startswith(("decode_head.conv_seg.", "auxiliary_head.")) and not k.startswith("module.")}
