"""What every text dataset shares: the loaded form (:class:`TextData`), package files, text clean-up.

A text dataset's ``load(split, ctx, **params)`` returns a :class:`TextData`: an HF
``datasets.Dataset`` with a ``text`` (str) and a ``label`` (int, 0..K-1) column, the class
names, and the file it came from (for messages).
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....errors import ConfigError

#: Characters that bert-base-chinese's vocabulary lacks and that Chinese text uses for ASCII
#: punctuation (curly quotes, dashes, ellipsis): most of the [UNK] tokens of the inews titles.
ASCII_PUNCTUATION = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u3000": " ",
})


def normalise(text: str) -> str:
    """Map curly quotes, dashes and the ellipsis to ASCII (the vocabulary has the ASCII forms)."""
    return text.translate(ASCII_PUNCTUATION)


@dataclass
class TextData:
    """One split: HF dataset with ``text`` and ``label`` columns, class names, origin."""

    dataset: Any  # datasets.Dataset
    classes: list[str]
    origin: str
    dropped_empty: int = 0

    def __len__(self) -> int:
        return len(self.dataset)


def package_file(package: str, relative: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"package {package!r} is not installed (pip install {package.replace('_', '-')})")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.is_file():
        raise ConfigError(f"package {package!r} has no file {relative} ({path})")
    return path


def empty_rows(texts) -> list[int]:
    """Indices of texts that are None, empty or whitespace only."""
    return [i for i, t in enumerate(texts) if t is None or not str(t).strip()]
