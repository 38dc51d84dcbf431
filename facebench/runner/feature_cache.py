"""On-disk cache of feature bundles, keyed by content (task, model spec, dataset, split, options).

Files are written atomically (temporary file + ``os.replace``) together with a SHA-256 of their
bytes in a sidecar; a file whose bytes do not match, or that numpy cannot read, is treated as
absent (and recomputed), never trusted.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, Callable

from ..atomic import replacing
from ..bundle import FeatureBundle
from ..checksum import sha256_file as _sha256
from ..checksum import write_sidecar
from ..errors import BadInputError

CACHE_VERSION = 1
# What extraction records in a bundle's meta (2: num_params, source_accuracy, pretrain_epochs for the
# data-free controls, facebench.metrics.controls). Part of the feature key only: bump it when the
# recorded meta changes, so cached features are extracted again while pre-training and fine-tuning
# jobs keep their keys (CACHE_VERSION would re-run those too).
FEATURE_META_VERSION = 2


def content_key(*parts: Any) -> str:
    """A stable hash of JSON-able parts (dataclasses are converted to dicts of their fields, less the
    fields marked ``metadata={"content_key": False}``: recorded facts such as ``ModelSpec.source_accuracy``)."""

    def norm(x: Any) -> Any:
        if is_dataclass(x) and not isinstance(x, type):
            return norm({f.name: getattr(x, f.name) for f in fields(x) if f.metadata.get("content_key", True)})
        if isinstance(x, dict):
            return {str(k): norm(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
        if isinstance(x, (list, tuple)):
            return [norm(v) for v in x]
        return x

    blob = json.dumps([CACHE_VERSION, *map(norm, parts)], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def feature_key(task: str, model: Any, target_content: Any, options: Any, split: str = "train") -> str:
    """The content key of one model's features on one dataset instance (the runner's and ``rank``'s);
    :data:`FEATURE_META_VERSION` is part of it."""
    return content_key("features", task, model, target_content, split, options, {"meta": FEATURE_META_VERSION})


class FeatureCache:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root) / "features"  # created by the first save (planning writes nothing)

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npz"

    @classmethod
    def of_file(cls, path: str | Path) -> "FeatureCache":
        """The cache that holds the feature file ``path`` (``<root>/features/<key>.npz``)."""
        return cls(Path(path).parent.parent)

    def has(self, key: str) -> bool:
        """Whether a file and its checksum exist for ``key`` (verified when read)."""
        return self.path(key).exists() and self.path(key).with_suffix(".sha256").exists()

    def load(self, key: str, *, strict: bool = False) -> FeatureBundle | None:
        """The cached bundle, or None if absent, corrupt or truncated (the bad file is removed).

        With ``strict``, a missing or corrupt file raises a BadInputError naming it instead.
        """
        path, sidecar = self.path(key), self.path(key).with_suffix(".sha256")
        if not path.exists() or not sidecar.exists():
            if strict:
                raise BadInputError(f"{path}: cached features missing (run the benchmark again to extract them)")
            return None
        try:
            if sidecar.read_text().strip() != _sha256(path):
                raise BadInputError(f"{path}: checksum mismatch")
            meta_path = path.with_suffix(".json")
            meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
            bundle = FeatureBundle.load_npz(path)
            return FeatureBundle(bundle.features, bundle.labels, bundle.probs, meta.get("name", key), bundle.classes, meta)
        except (BadInputError, OSError, ValueError) as exc:
            for p in (path, sidecar):
                p.unlink(missing_ok=True)
            if strict:
                raise BadInputError(
                    f"{path}: cached features fail their checksum or cannot be read ({exc}); removed, "
                    "run the benchmark again to extract them"
                ) from None
            return None

    def load_or_extract(self, key: str, extract: Callable[[], FeatureBundle]) -> tuple[FeatureBundle, bool]:
        """(the cached bundle, True), else ``extract()`` saved under ``key`` and (it, False)."""
        bundle = self.load(key)
        if bundle is not None:
            return bundle, True
        bundle = extract()
        self.save(key, bundle)
        return bundle, False

    def save(self, key: str, bundle: FeatureBundle) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        bundle.save_npz(path)
        with replacing(path.with_suffix(".json")) as tmp:
            tmp.write_text(json.dumps({"name": bundle.name, **dict(bundle.meta)}, default=_json_value))
        write_sidecar(path)
        return path


def _json_value(x: Any) -> Any:
    """A numpy scalar as its Python number (so that a count read back is still an int); else its str."""
    item = getattr(x, "item", None)
    if callable(item) and getattr(x, "shape", None) == ():
        return item()
    return str(x)
