"""SHA-256 sidecars for cached files: written atomically next to the file, checked before use.

A cached file ``x.npz`` is trusted only when ``x.sha256`` holds the SHA-256 of its bytes; a
missing sidecar, a mismatch or an unreadable file means "absent, recompute". Used by the feature
cache (:mod:`facebench.runner.feature_cache`) and the test-prediction files
(:mod:`facebench.predictions`).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .atomic import replacing


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sidecar(path: str | os.PathLike[str]) -> Path:
    return Path(path).with_suffix(".sha256")


def write_sidecar(path: str | os.PathLike[str]) -> Path:
    """Write ``path``'s SHA-256 next to it (temporary file + os.replace)."""
    target = sidecar(path)
    with replacing(target) as tmp:
        tmp.write_text(sha256_file(path))
    return target


def sidecar_matches(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` and its sidecar exist and the sidecar holds the file's SHA-256."""
    path, side = Path(path), sidecar(path)
    try:
        return path.is_file() and side.is_file() and side.read_text().strip() == sha256_file(path)
    except OSError:
        return False
