"""The classification task's loader for zoo files: ``timm:`` and local-file references -> ModelSpec.

* ``timm:<arch>[.<tag>]``: a timm architecture with its pretrained weights (``timm:<tag>``, the
  default tag when none is given), which must already be on disk (Hugging Face cache or torch
  hub folder) unless downloads are allowed; ``weights: random`` gives a random initialisation
  and ``weights: <file>`` a local state dict instead.
* ``file:<path>`` or a bare path, with ``arch`` named: a state dict (``.pt``/``.pth``/``.bin``/
  ``.safetensors``), or a folder holding one (``model.safetensors``, ``pytorch_model.bin``, ...;
  a timm ``config.json`` there may name the architecture). ``arch`` is a timm name, an
  ``efficientnet-lite<i>`` or, with ``options: {library: torchvision}``, a torchvision name.

Whatever :mod:`.models` can build, the reference can name; :func:`.models.check_weights` has the
last word on whether it is available. Nothing here downloads.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ...errors import ConfigError
from ..base import ModelSpec

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.pt", "model.pth")
RANDOM = ("random", "none", "scratch")


def resolve_reference(ref, ctx) -> ModelSpec:
    from ...references import ReferenceError

    if ref.scheme == "timm":
        spec = _timm_spec(ref, ctx)
    elif ref.scheme == "file":
        spec = _file_spec(ref)
    else:
        raise ReferenceError(ref, f"the classification task loads timm:<name> and local files, not {ref.scheme}:",
                             ["timm:<name>", "file:<path> with arch"])
    from .models import check_weights

    try:
        check_weights(spec, ctx)
    except ConfigError as exc:
        raise ReferenceError(ref, str(exc), _timm_locations(spec) if spec.weights and spec.weights.startswith("timm:")
                             else []) from None
    return spec


def _weights(ref) -> str | None:
    """The entry's ``weights``: None for random, a checked local file, else the reference's own."""
    from ...references import ReferenceError

    if ref.weights is None:
        return "keep"
    if ref.weights.lower() in RANDOM:
        return None
    path = Path(ref.weights).expanduser()
    if not path.is_file():
        raise ReferenceError(ref, f"weights file {path} not found", [str(path)])
    return str(path)


def _timm_spec(ref, ctx) -> ModelSpec:
    import timm

    from ...references import ReferenceError

    arch, _, tag = ref.value.partition(".")
    if not timm.is_model(arch):
        close = timm.list_models(f"*{arch}*")[:5]
        raise ReferenceError(ref, f"timm has no architecture {arch!r}",
                             [f"timm {timm.__version__} model names" + (f" (close: {', '.join(close)})" if close else "")])
    weights = _weights(ref)
    if weights == "keep":
        pretrained = timm.list_pretrained(arch + ".*")
        if not pretrained or (tag and f"{arch}.{tag}" not in pretrained):
            raise ReferenceError(ref, f"timm has no pretrained weights {ref.value!r}; give weights: random or a local file",
                                 [f"timm's pretrained tags of {arch}: {', '.join(pretrained) or 'none'}"])
        weights = f"timm:{tag or 'default'}"
    return ModelSpec(ref.name, arch, weights, options=dict(ref.options))


def _timm_locations(spec: ModelSpec) -> list[str]:
    """Where timm's pretrained weights of ``spec`` would be on disk (for the error message)."""
    from timm.models import get_pretrained_cfg

    tag = spec.weights.split(":", 1)[1]
    cfg = get_pretrained_cfg(spec.arch if tag in ("default", "imagenet") else f"{spec.arch}.{tag}")
    if cfg is None:
        return []
    out = []
    if cfg.file:
        out.append(str(cfg.file))
    if cfg.hf_hub_id:
        try:
            from huggingface_hub.constants import HF_HUB_CACHE
        except ImportError:
            HF_HUB_CACHE = "~/.cache/huggingface/hub"
        folder = Path(HF_HUB_CACHE) / ("models--" + cfg.hf_hub_id.replace("/", "--"))
        out.append(f"Hugging Face cache {folder} ({cfg.hf_hub_id})")
    if cfg.url:
        import torch

        out.append(f"torch hub {Path(torch.hub.get_dir()) / 'checkpoints' / os.path.basename(cfg.url)}")
    return out


def _file_spec(ref) -> ModelSpec:
    from ...references import ReferenceError

    path = ref.path()
    arch = ref.arch
    if path.is_dir():
        candidates = [path / f for f in WEIGHT_FILES]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            found = next(iter(sorted(path.glob("*.safetensors"))), None)
        if found is None:
            raise ReferenceError(ref, f"folder {path} holds no weights file", [str(p) for p in candidates] + [f"{path}/*.safetensors"])
        arch = arch or _arch_of_folder(path)
        weights = str(found)
    elif path.is_file():
        weights = str(path)
    else:
        raise ReferenceError(ref, f"no file or folder {path}", [str(path)])
    if not arch:
        raise ReferenceError(ref, "a local checkpoint needs its architecture named: add arch: <timm name> "
                                  "(or efficientnet-lite0..4, or a torchvision name with options: {library: torchvision})")
    return ModelSpec(ref.name, arch, weights, options=dict(ref.options))


def _arch_of_folder(path: Path) -> str | None:
    """The architecture a timm-style folder's ``config.json`` names, if any."""
    config = path / "config.json"
    if not config.is_file():
        return None
    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError):
        return None
    arch = data.get("architecture") if isinstance(data, dict) else None
    return str(arch) if arch else None
