"""Cached model checkpoints shared by every task: atomic writes, SHA-256 sidecars, a file lock.

A checkpoint ``x.pt`` is a ``torch.save``d dict with at least ``key`` (the content key it was
made for) and ``state_dict``; ``x.pt.sha256`` holds the SHA-256 of its bytes. Writes go to a
temporary file first and are moved into place with ``os.replace``, so a reader sees either the
old file or the whole new one. A file that fails its checksum, cannot be read or was made for
another key reads as absent (the task trains the model again). Used by the tasks' source
pre-training (classification, text, ...): :func:`load_or_train` is the cache-or-train step they share.

Next to a checkpoint, ``x.pt.source.json`` records how the pre-trained model did on its source's
test split (:func:`save_source_record`): written when the pre-training ends, or the first time an
extraction needs it for a checkpoint made before; tied to the checkpoint's SHA-256, so a model
trained again is evaluated again. The data-free controls read it (:mod:`facebench.metrics.controls`).
The steps every task shares are here (:func:`recorded_source_evaluation`,
:func:`load_source_eval_split`, :func:`source_eval_facts`); each task keeps only its own
evaluation of a network on a split.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Mapping, TypeVar

from .checksum import sha256_file
from .errors import ConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The source split that a pre-trained model is evaluated on: the first of these that the source has.
SOURCE_EVAL_SPLITS = ("validation", "val", "dev", "test")


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


def load_or_train(path: Path, key: str, name: str, restore: Callable[[dict[str, Any]], Any],
                  train: Callable[[], tuple[Any, dict[str, Any]]], trained: Callable[[Any], Any],
                  cache_format: int = 1) -> tuple[Any, dict[str, Any]]:
    """``(network, payload)``: the model cached at ``path`` for ``key``, else trained now and cached.

    ``restore(payload)`` builds the network from a checkpoint that verifies (None: it does not fit
    its architecture; it is trained again). When there is none, under the file lock ``<path>.lock``
    and after a second look (another worker may have finished it meanwhile): ``train()`` returns
    ``(net, info)``; the checkpoint ``{format, key, name, num_classes, state_dict, info}`` is saved,
    then ``trained(net)`` runs (the tasks record the source evaluation there) and the network is
    moved to the CPU.
    """
    def cached() -> tuple[Any, dict[str, Any] | None]:
        payload = load_checkpoint(path, key)
        return (restore(payload) if payload is not None else None), payload

    net, payload = cached()
    if net is None:
        with file_lock(path.with_name(path.name + ".lock")):
            net, payload = cached()
            if net is None:
                net, info = train()
                payload = {"format": cache_format, "key": key, "name": name, "num_classes": net.num_classes,
                           "state_dict": net.state_dict(), "info": info}
                save_checkpoint(path, payload)
                trained(net)
                net = net.cpu()
    return net, payload


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


def recorded_source_evaluation(path: Path, digest: str | None,
                               evaluate: Callable[[], Mapping[str, Any] | None]) -> dict[str, Any] | None:
    """The source evaluation recorded next to checkpoint ``path``; ``evaluate()``d and recorded now if missing.

    ``digest`` is the checkpoint's SHA-256 (as its task's sidecar holds it): a record made for other
    bytes does not count. The evaluation runs under a file lock (``<path>.source.lock``), so two
    workers evaluate a checkpoint once. None when the checkpoint has no digest (nothing is evaluated)
    or when ``evaluate`` returns None (the source cannot be evaluated; nothing is recorded).
    """
    record = load_source_record(path, digest)
    if record is not None or digest is None:
        return record
    with file_lock(path.with_name(path.name + ".source.lock")):
        record = load_source_record(path, digest)
        if record is None:
            evaluated = evaluate()
            if evaluated is not None:
                record = save_source_record(path, digest, evaluated)
    return record


def load_source_eval_split(model: str, source: str, splits: Callable[[], Collection[str]],
                           load: Callable[[str], T], measure: str) -> tuple[str, T] | None:
    """``(name, split)``: the first of :data:`SOURCE_EVAL_SPLITS` that ``splits()`` names, read by ``load``.

    None, with a warning naming ``model``, ``source`` and the ``measure`` that goes unrecorded,
    when the source has none of them or it cannot be read (a ConfigError or OSError of ``splits``
    or ``load``).
    """
    try:
        name = next((s for s in SOURCE_EVAL_SPLITS if s in splits()), None)
        if name is None:
            log.warning("model %s: source %s has no validation or test split; its %s is not recorded",
                        model, source, measure)
            return None
        return name, load(name)
    except (ConfigError, OSError) as exc:
        log.warning("model %s: cannot read the evaluation split of its source %s (%s); its %s is not recorded",
                    model, source, exc, measure)
        return None


def source_eval_facts(record: Mapping[str, Any] | None,
                      eval_keys: tuple[str, ...] = ("source", "split", "n")) -> dict[str, Any]:
    """A bundle meta's facts of a recorded source evaluation: ``source_accuracy`` (its ``accuracy``),
    ``source_metric`` (its ``measure``) and ``source_eval`` (its ``eval_keys``); empty for None."""
    if record is None:
        return {}
    return {"source_accuracy": float(record["accuracy"]), "source_metric": record["measure"],
            "source_eval": {k: record[k] for k in eval_keys}}
