"""FeatureBundle: what a metric sees for one (model, target dataset) pair.

* ``features`` (n x d): the model's penultimate-layer features of the target's training split;
* ``labels`` (n): integer target labels (any integers; remapped to 0..K-1, order preserved);
* ``probs`` (n x Z, optional): the source classifier's softmax, for LEEP and NCE.

Arrays are validated on construction and held as float64 / int64. Every error names the bundle
(file or model) and the array, so that a user knows what to fix.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .atomic import replacing
from .errors import BadInputError

PROBS_ROW_SUM_TOL = 1e-3  # float32 softmax over 1000 classes sums to 1 within ~1e-6


@dataclass(frozen=True, eq=False)
class FeatureBundle:
    features: np.ndarray
    labels: np.ndarray
    probs: np.ndarray | None = None
    name: str = "bundle"
    classes: np.ndarray = field(default=None)  # original label value of each class index
    meta: Mapping[str, Any] = field(default_factory=dict)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        features: Any,
        labels: Any,
        probs: Any = None,
        *,
        name: str = "bundle",
        meta: Mapping[str, Any] | None = None,
    ) -> "FeatureBundle":
        feats = _as_float_matrix(features, name, "features")
        labs = _as_int_labels(labels, name)
        n = feats.shape[0]
        if labs.shape[0] != n:
            raise BadInputError(
                f"{name}: features has {n} rows but labels has {labs.shape[0]} entries (they must match)"
            )
        if n == 0:
            raise BadInputError(f"{name}: features has no rows")
        if feats.shape[1] == 0:
            raise BadInputError(f"{name}: features has 0 columns (expected n x d with d >= 1)")
        classes, remapped = np.unique(labs, return_inverse=True)
        if classes.size < 2:
            raise BadInputError(
                f"{name}: labels contain a single class ({classes[0]}); a transferability score needs at least 2"
            )
        p = None
        if probs is not None:
            p = _as_float_matrix(probs, name, "probs")
            if p.shape[0] != n:
                raise BadInputError(
                    f"{name}: probs has {p.shape[0]} rows but features has {n} (they must match)"
                )
            if (p < 0).any():
                row = int(np.argwhere(p < 0)[0, 0])
                raise BadInputError(f"{name}: probs has negative entries (first in row {row}); expected a softmax")
            sums = p.sum(axis=1)
            bad = np.flatnonzero(np.abs(sums - 1.0) > PROBS_ROW_SUM_TOL)
            if bad.size:
                raise BadInputError(
                    f"{name}: {bad.size} probs rows do not sum to 1 (row {bad[0]} sums to {sums[bad[0]]:.6g}); "
                    "expected the source classifier's softmax"
                )
        return cls(feats, remapped.astype(np.int64), p, name, classes, dict(meta or {}))

    @classmethod
    def load_npz(cls, path: str | os.PathLike[str]) -> "FeatureBundle":
        """Load ``features``, ``labels`` and optional ``probs`` from an ``.npz`` file."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                keys = set(npz.files)
                missing = {"features", "labels"} - keys
                if missing:
                    raise BadInputError(
                        f"{path}: missing array(s) {', '.join(sorted(missing))} "
                        f"(found: {', '.join(sorted(keys)) or 'none'})"
                    )
                arrays = {k: npz[k] for k in ("features", "labels", "probs") if k in keys}
        except BadInputError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
            raise BadInputError(f"{path}: unreadable or truncated npz file ({type(exc).__name__}: {exc})") from None
        return cls.from_arrays(
            arrays["features"], arrays["labels"], arrays.get("probs"), name=str(path), meta={"path": str(path)}
        )

    def save_npz(self, path: str | os.PathLike[str]) -> None:
        """Write the bundle (original label values) atomically."""
        path = Path(path)
        arrays = {"features": self.features, "labels": self.classes[self.labels]}
        if self.probs is not None:
            arrays["probs"] = self.probs
        with replacing(path, ".tmp.npz") as tmp:
            np.savez(tmp, **arrays)

    # -- derived ------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    @property
    def num_classes(self) -> int:
        return int(self.classes.size)

    @property
    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.num_classes)

    def with_features(self, features: np.ndarray) -> "FeatureBundle":
        return FeatureBundle(np.asarray(features, np.float64), self.labels, self.probs, self.name, self.classes, self.meta)


def _as_float_matrix(value: Any, name: str, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise BadInputError(f"{name}: {what} is not an array ({exc})") from None
    if arr.dtype.kind not in "fiub":
        raise BadInputError(f"{name}: {what} must be numeric, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise BadInputError(f"{name}: {what} must be a 2-D array (n x d), got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.argwhere(~finite)
        raise BadInputError(
            f"{name}: {what} contains {bad.shape[0]} NaN or inf values (first at row {bad[0, 0]}, column {bad[0, 1]})"
        )
    return arr


def _as_int_labels(value: Any, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise BadInputError(f"{name}: labels must be a 1-D array, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise BadInputError(f"{name}: labels must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)
