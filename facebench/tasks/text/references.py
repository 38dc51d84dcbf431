"""The text task's loader for zoo files: ``hf:<checkpoint or local folder>`` -> ModelSpec.

* ``hf:<folder>`` (or ``file:<folder>``, a bare path): a transformers checkpoint folder (``config.json`` with ``model_type`` bert or
  nezha, weights, and its tokenizer's files: ``vocab.txt``, ``tokenizer.json``, ...; a folder
  without them needs ``options.vocab``, the vocabulary file that BertTokenizerFast reads);
* ``hf:<hub id>`` (e.g. ``hf:hfl/chinese-roberta-wwm-ext``): the snapshot already in the Hugging
  Face cache (``<cache_dir>/hub``, where the text task's downloads go, or the default cache),
  else, only with downloads allowed, the hub checkpoint (``arch`` names it when not ``bert``).

The text task's models are BERT-family encoders read through their pooled [CLS] output
(:mod:`.models`): another ``model_type`` is refused by name.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..base import ModelSpec
from .models import ARCHS, TOKENIZER_FILES, cached_snapshot, has_tokenizer_files
MODEL_TYPES = {"bert": "bert", "nezha": "nezha"}


def resolve_reference(ref, ctx) -> ModelSpec:
    from ...references import ReferenceError

    if ref.scheme not in ("hf", "file"):
        raise ReferenceError(ref, f"the text task loads hf:<checkpoint or folder>, not {ref.scheme}:", ["hf:<id or path>"])
    value = ref.value
    folder = Path(value).expanduser()
    if folder.is_dir():
        return _folder_spec(ref, folder)
    if ref.scheme == "file" or folder.is_absolute() or value.startswith((".", "~")):
        raise ReferenceError(ref, f"no checkpoint folder {folder}", [str(folder)])
    tried = []
    for cache in (Path(ctx.cache_dir) / "hub", None):
        snapshot = _cached_snapshot(value, cache)
        tried.append(f"Hugging Face cache {cache or _default_cache()} ({value}/config.json)")
        if snapshot is not None:
            return _folder_spec(ref, snapshot)
    if ctx.download:
        arch = ref.arch or "bert"
        if arch not in ARCHS:
            raise ReferenceError(ref, f"arch {arch!r} is not a text architecture (known: {', '.join(ARCHS)})")
        return ModelSpec(ref.name, arch, f"hub:{value}", options=dict(ref.options))
    raise ReferenceError(ref, f"checkpoint {value!r} is not on disk; allow downloading it (--allow-download)", tried)


def _default_cache() -> str:
    from huggingface_hub.constants import HF_HUB_CACHE

    return str(HF_HUB_CACHE)


def _cached_snapshot(repo_id: str, cache: Path | None) -> Path | None:
    """The local snapshot folder of ``repo_id`` (its ``config.json`` cached), else None (no network call)."""
    return cached_snapshot(repo_id, cache)


def _folder_spec(ref, folder: Path) -> ModelSpec:
    from ...references import ReferenceError

    config = folder / "config.json"
    if not config.is_file():
        raise ReferenceError(ref, f"{folder} is not a transformers checkpoint (no config.json)", [str(config)])
    try:
        model_type = str(json.loads(config.read_text()).get("model_type", ""))
    except (OSError, ValueError, AttributeError) as exc:
        raise ReferenceError(ref, f"{config} cannot be read ({exc})") from None
    arch = ref.arch or MODEL_TYPES.get(model_type)
    if arch not in ARCHS:
        raise ReferenceError(ref, f"model_type {model_type!r} of {config} is not one the text task reads "
                                  f"(BERT-family encoders: {', '.join(MODEL_TYPES)})")
    if not has_tokenizer_files(folder) and "vocab" not in dict(ref.options or {}):
        raise ReferenceError(ref, f"{folder} has no tokenizer files (options.vocab names a vocabulary file instead)",
                             [str(folder / f) for f in TOKENIZER_FILES])
    return ModelSpec(ref.name, arch, str(folder), options=dict(ref.options))
