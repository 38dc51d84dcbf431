"""Cached model checkpoints shared by every task: atomic writes, SHA-256 sidecars, a file lock.

A checkpoint ``x.pt`` is a ``torch.save``d dict with at least ``key`` (the content key it was
made for) and ``state_dict``; ``x.pt.sha256`` holds the SHA-256 of its bytes. Writes go to a
temporary file first and are moved into place with ``os.replace``, so a reader sees either the
old file or the whole new one. A file that fails its checksum, cannot be read or was made for
another key reads as absent (the task trains the model again). Used by the tasks' source
pre-training (classification, text, ...).

Next to a checkpoint, ``x.pt.source.json`` records how the pre-trained model did on its source's
test split (:func:`save_source_record`): written when the pre-training ends, or the first time an
extraction needs it for a checkpoint made before; tied to the checkpoint's SHA-256, so a model
trained again is evaluated again. The data-free controls read it (:mod:`facebench.metrics.controls`).
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

from .checksum import sha256_file

log = logging.getLogger(__name__)


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` and its checksum atomically (tmp file + os.replace)."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(payload, tmp)
    side_tmp = path.with_name(f".{path.name}.sha256.{os.getpid()}.tmp")
    side_tmp.write_text(sha256_file(tmp) + "\n")
    os.replace(tmp, path)
    os.replace(side_tmp, _sidecar(path))


def load_checkpoint(path: Path, key: str) -> dict[str, Any] | None:
    """The cached payload if it verifies (checksum, readable, same key), else None."""
    import torch

    side = _sidecar(path)
    if not path.is_file() or not side.is_file():
        return None
    try:
        if side.read_text().strip() != sha256_file(path):
            log.warning("checkpoint %s fails its checksum (truncated or corrupted): training it again", path)
            return None
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - an unreadable file of any kind: train again
        log.warning("cannot read checkpoint %s (%s): training it again", path, exc)
        return None
    if not isinstance(payload, dict) or payload.get("key") != key or "state_dict" not in payload:
        return None
    return payload


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive lock so that two workers do not train the same model at once (POSIX only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def source_record_path(path: Path) -> Path:
    """Where the source evaluation of checkpoint ``path`` is recorded (``<path>.source.json``)."""
    return Path(path).with_name(Path(path).name + ".source.json")


def load_source_record(path: Path, digest: str | None) -> dict[str, Any] | None:
    """The recorded source evaluation of checkpoint ``path`` if it was made for these bytes (``digest``:
    the checkpoint's SHA-256), else None."""
    if not digest:
        return None
    try:
        record = json.loads(source_record_path(path).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("checkpoint") == digest else None


def save_source_record(path: Path, digest: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """Record ``record`` (accuracy, split, n, ...) next to checkpoint ``path`` (atomic); returns it."""
    from .atomic import replacing

    out = {**dict(record), "checkpoint": digest}
    with replacing(source_record_path(path), f".{os.getpid()}.tmp") as tmp:
        tmp.write_text(json.dumps(out, sort_keys=True))
    return out


def checkpoint_digest(path: Path) -> str | None:
    """The SHA-256 that ``x.pt.sha256`` holds for checkpoint ``path`` (None if there is none)."""
    try:
        return _sidecar(Path(path)).read_text().strip() or None
    except OSError:
        return None
