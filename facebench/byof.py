"""Bring your own features: a directory of ``<model>.npz`` bundles and an optional ground-truth CSV."""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Callable

from .bundle import FeatureBundle
from .errors import BadInputError


def bundle_loaders(directory: str | Path) -> dict[str, Callable[[], FeatureBundle]]:
    """Model name -> loader of ``DIR/<model>.npz``, sorted by model name."""
    root = Path(directory)
    if not root.exists():
        raise BadInputError(f"{root}: no such directory")
    if not root.is_dir():
        raise BadInputError(f"{root}: not a directory (expected a directory of <model>.npz files)")
    files = sorted(p for p in root.iterdir() if p.suffix == ".npz" and p.is_file())
    if not files:
        raise BadInputError(f"{root}: empty directory: no <model>.npz feature bundles found")
    return {p.stem: (lambda p=p: FeatureBundle.load_npz(p)) for p in files}


def read_ground_truth(path: str | Path) -> dict[str, float]:
    """Read a CSV with columns ``model,accuracy`` (a header row is required)."""
    path = Path(path)
    try:
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read ground truth ({exc.strerror})") from None
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["model", "accuracy"]:
        raise BadInputError(f"{path}: ground truth must be a CSV with header 'model,accuracy'")
    out: dict[str, float] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise BadInputError(f"{path}:{lineno}: expected 'model,accuracy', got {','.join(row)!r}")
        model, value = row[0].strip(), row[1].strip()
        try:
            acc = float(value)
        except ValueError:
            raise BadInputError(f"{path}:{lineno}: accuracy {value!r} of model {model!r} is not a number") from None
        if not math.isfinite(acc):
            raise BadInputError(f"{path}:{lineno}: accuracy of model {model!r} is not finite")
        if model in out:
            raise BadInputError(f"{path}:{lineno}: model {model!r} appears twice")
        out[model] = acc
    if not out:
        raise BadInputError(f"{path}: no ground-truth rows")
    return out
