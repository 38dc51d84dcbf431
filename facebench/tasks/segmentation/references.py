"""The segmentation task's loader for zoo files: ``mmseg:<config>`` + ``checkpoint`` -> ModelSpec.

``mmseg:<config.py>`` names an mmsegmentation config file: a path, or one of the configs that
ship with mmseg (``mmseg:pspnet/pspnet_r18-d8_4xb4-80k_loveda-512x512.py``, under
``mmseg/.mim/configs``); ``checkpoint`` is its weights file (``url:<https://...>`` only with
downloads allowed). The config is read with mmengine (``_base_`` files included) and mapped onto
the PSPNets this task builds (:mod:`.mm`): ``EncoderDecoder`` + ``ResNetV1c`` (output stride 8)
+ ``PSPHead`` with mmseg's ImageNet mean and std. Any other model is refused, naming what differs,
rather than read with the wrong network.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..base import ModelSpec
from .mm import ARCH, DEPTHS, MEAN, STD

STRIDES, DILATIONS = (1, 2, 1, 1), (1, 1, 2, 4)


def resolve_reference(ref, ctx) -> ModelSpec:
    from ...references import ReferenceError

    if ref.scheme != "mmseg":
        raise ReferenceError(ref, f"the segmentation task loads mmseg:<config> with a checkpoint, not {ref.scheme}:",
                             ["mmseg:<config.py> with checkpoint: <file>"])
    config = _config_file(ref)
    checkpoint = ref.checkpoint or ref.weights
    if not checkpoint:
        raise ReferenceError(ref, "an mmseg config needs its weights: add checkpoint: <file>")
    if checkpoint.startswith("url:"):
        if not ctx.download:
            raise ReferenceError(ref, f"checkpoint {checkpoint[4:]} needs a download (--allow-download)")
    else:
        path = Path(checkpoint).expanduser()
        if not path.is_file():
            raise ReferenceError(ref, f"checkpoint {path} not found", [str(path)])
        checkpoint = str(path)
    options = {**_pspnet_options(ref, config), **dict(ref.options)}
    return ModelSpec(ref.name, ARCH, checkpoint, options=options)


def _config_file(ref) -> Path:
    from ...references import ReferenceError

    tried = [ref.path()]
    try:
        import mmseg

        tried.append(Path(mmseg.__file__).parent / ".mim" / "configs" / ref.value)
    except ImportError:
        pass
    for path in tried:
        if path.is_file():
            return path
    raise ReferenceError(ref, f"no mmseg config {ref.value!r}", [str(p) for p in tried])


def _pspnet_options(ref, path: Path) -> dict[str, Any]:
    """The :mod:`.mm` PSPNet options of an mmseg config (ReferenceError if it is another model)."""
    from ...references import ReferenceError

    try:
        from mmengine.config import Config
    except ImportError as exc:
        raise ReferenceError(ref, f"reading an mmseg config needs mmengine ({exc})") from None
    try:
        model = Config.fromfile(str(path)).model.to_dict()
    except Exception as exc:  # mmengine raises many types for a bad config
        raise ReferenceError(ref, f"{path}: cannot read the config ({type(exc).__name__}: {exc})") from None
    backbone, head = model.get("backbone") or {}, model.get("decode_head") or {}
    pre = model.get("data_preprocessor") or {}
    found = (model.get("type"), backbone.get("type"), head.get("type"))
    problems = []
    if found != ("EncoderDecoder", "ResNetV1c", "PSPHead"):
        problems.append(f"model {' + '.join(map(str, found))} (the task builds EncoderDecoder + ResNetV1c + PSPHead)")
    if backbone.get("depth") not in DEPTHS:
        problems.append(f"backbone depth {backbone.get('depth')!r} (known: {DEPTHS})")
    if tuple(backbone.get("strides", STRIDES)) != STRIDES or tuple(backbone.get("dilations", DILATIONS)) != DILATIONS:
        problems.append("a backbone stride other than 8 (strides (1, 2, 1, 1), dilations (1, 1, 2, 4))")
    if tuple(pre.get("mean", MEAN)) != MEAN or tuple(pre.get("std", STD)) != STD:
        problems.append(f"mean/std {pre.get('mean')}/{pre.get('std')} (the task normalises with {MEAN}/{STD})")
    if problems:
        raise ReferenceError(ref, f"{path} is not a PSPNet this task can build: " + "; ".join(problems))
    base = int(backbone.get("base_channels", 64))
    return {"depth": int(backbone["depth"]), "base_channels": base, "stem_channels": int(backbone.get("stem_channels", 64)),
            "channels": int(head.get("channels", 512)), "dropout": float(head.get("dropout_ratio", 0.1))}
