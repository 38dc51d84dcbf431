"""Hugging Face datasets on disk: a ``save_to_disk`` folder, or the Parquet/Arrow files of a hub dataset.

``hf-dataset``, either a folder that ``DatasetDict.save_to_disk`` wrote (its splits by name)::

    datasets:
      afqmc: {type: hf-dataset, path: data/afqmc, splits: {test: validation},
              text_column: sentence1, text_pair_column: sentence2}

or per split a ``Dataset.save_to_disk`` folder, or Parquet / Arrow files (a path, a glob or a
list: the files of a hub dataset's snapshot, e.g. ``clue/clue``'s ``tnews/train-*.parquet``)::

    datasets:
      tnews: {type: hf-dataset, train: "clue/tnews/train-*.parquet",
              test: "clue/tnews/validation-*.parquet", text_column: sentence}

Parameters: ``path`` or ``train`` + ``test``; ``splits`` (facebench split -> the folder's split
name, e.g. ``{test: validation}``; by default the same names); ``text_column`` (``text``),
``text_pair_column`` (a second text: sentence pairs), ``label_column`` (``label``); ``labels``
(a label file, as for ``clue-json``); ``format`` (``parquet`` or ``arrow``; by default from the
files' suffix). Classes: a ``ClassLabel`` column's names, else the label file's, else the sorted
distinct labels of the train split (numeric order when all are integers). A label below 0 (a
hub test split's hidden labels, -1) is refused, as is a label outside the classes, a missing
column, an empty split. Files are read with ``datasets.load_from_disk`` and
``load_dataset("parquet"|"arrow", data_files=...)``: nothing is downloaded.
"""
from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any, Mapping

from ....checks import ANY, check_params, choice, text
from ....errors import ConfigError
from ...base import DatasetSpec
from .common import TextData
from .files import FILE_SPLITS, _hf_cache, _label_file, _sort_labels

# the parameters (DatasetSpec.params); ``splits`` and the paths are checked when the files are opened
HF_KEYS = {"path": ANY, "train": ANY, "test": ANY, "splits": ANY, "text_column": text(),
           "text_pair_column": text(nullable=True), "label_column": text(), "labels": ANY,
           "format": choice("parquet", "arrow", nullable=True), "encoding": text()}
FORMATS = {".parquet": "parquet", ".arrow": "arrow"}


def _datasets():
    from .files import local_datasets

    return local_datasets()  # no download-count request to the hub for local files


def _items(ref: Any) -> list[str]:
    return [str(r) for r in ref] if isinstance(ref, (list, tuple)) else [str(ref)]


def _expand(ref: Any) -> list[Path]:
    """The paths a split's reference names (globs expanded; a missing path as given)."""
    out: list[Path] = []
    for item in _items(ref):
        item = str(Path(item).expanduser())
        hits = sorted(glob.glob(item)) if glob.has_magic(item) else []
        out.extend(Path(h) for h in hits or [item])
    return out


def _split_name(params: Mapping[str, Any], split: str) -> str:
    splits = params.get("splits") or {}
    if not isinstance(splits, Mapping) or not set(splits) <= set(FILE_SPLITS):
        raise ConfigError(f"hf-dataset: splits maps {' and '.join(FILE_SPLITS)} to split names of the folder, got {splits!r}")
    return str(splits.get(split, split))


def _saved_kind(folder: Path) -> str | None:
    """``dict`` (DatasetDict.save_to_disk), ``dataset`` (Dataset.save_to_disk) or None."""
    if (folder / "dataset_dict.json").is_file():
        return "dict"
    return "dataset" if (folder / "state.json").is_file() else None


def _load_folder(folder: Path, split: str):
    """The Dataset a ``Dataset.save_to_disk`` folder holds; an empty one (no data files) refused by name."""
    if _saved_kind(folder) != "dataset":
        raise ConfigError(f"{folder}: not a dataset saved with save_to_disk (no state.json)")
    try:
        files = json.loads((folder / "state.json").read_text(encoding="utf-8")).get("_data_files")
    except (OSError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{folder}: state.json cannot be read ({exc})") from None
    if files == []:  # datasets writes no file for an empty Dataset (and cannot load it back)
        raise ConfigError(f"{folder}: the {split} split is empty")
    try:
        return _datasets().load_from_disk(str(folder))
    except Exception as exc:  # noqa: BLE001 - pyarrow and datasets raise many kinds; the message names the folder
        raise ConfigError(f"{folder}: load_from_disk fails ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None


def _open(split: str, ctx, params: Mapping[str, Any]):
    """(HF Dataset of the split as stored, origin for messages)."""
    datasets = _datasets()
    if params.get("path"):
        folder = Path(str(params["path"])).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"{folder}: folder not found")
        kind = _saved_kind(folder)
        if kind == "dataset":
            raise ConfigError(f"{folder}: one Dataset, not a DatasetDict of splits: name a folder or files per split "
                              "(train: ..., test: ...) instead of path")
        if kind is None:
            raise ConfigError(f"{folder}: not a dataset saved with save_to_disk (no dataset_dict.json)")
        try:
            stored = [str(n) for n in json.loads((folder / "dataset_dict.json").read_text(encoding="utf-8"))["splits"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{folder}: dataset_dict.json cannot be read ({exc})") from None
        name = _split_name(params, split)
        if name not in stored:
            hint = " (splits: {test: validation} reads the validation split)" if split == "test" and "validation" in stored else ""
            raise ConfigError(f"{folder}: no split {name!r} (splits: {', '.join(stored)}){hint}")
        return _load_folder(folder / name, split), f"{folder} [{name}]"
    if not params.get(split):
        raise ConfigError(f"hf-dataset: needs path (a save_to_disk folder) or a {split!r} folder or files")
    paths = _expand(params[split])
    origin = ", ".join(_items(params[split]))
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ConfigError(f"{missing[0]}: not found")
    if len(paths) == 1 and paths[0].is_dir():
        if _saved_kind(paths[0]) == "dict":
            raise ConfigError(f"{paths[0]}: a DatasetDict of splits: give it as path (with splits)")
        return _load_folder(paths[0], split), origin
    if any(p.is_dir() for p in paths):
        raise ConfigError(f"{origin}: a split is one save_to_disk folder or Parquet/Arrow files, not several folders")
    fmt = params.get("format")
    if fmt is None:
        kinds = {FORMATS.get(p.suffix.lower()) for p in paths}
        if len(kinds) != 1 or None in kinds:
            raise ConfigError(f"{origin}: cannot tell the format from the suffixes (.parquet or .arrow): set format")
        fmt = kinds.pop()
    if fmt not in FORMATS.values():
        raise ConfigError(f"hf-dataset: format must be parquet or arrow, got {fmt!r}")
    try:
        ds = datasets.load_dataset(fmt, data_files=[str(p) for p in paths], split="train", cache_dir=_hf_cache(ctx))
    except Exception as exc:  # noqa: BLE001 - pyarrow and datasets raise many kinds; the message names the file
        raise ConfigError(f"{origin}: not readable as {fmt} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    return ds, origin


def _columns(params: Mapping[str, Any]) -> tuple[str, str | None, str]:
    pair = params.get("text_pair_column")
    return str(params.get("text_column", "text")), None if pair is None else str(pair), str(params.get("label_column", "label"))


def _check_columns(ds, params: Mapping[str, Any], origin: str, split: str) -> None:
    text, pair, label = _columns(params)
    for what, col in (("text column", text), ("text pair column (text_pair_column)", pair), ("label column", label)):
        if col is not None and col not in ds.column_names:
            raise ConfigError(f"{origin}: no {what} {col!r} (columns: {', '.join(ds.column_names)})")
    if len(ds) == 0:
        raise ConfigError(f"{origin}: the {split} split is empty")


def _class_label(ds, label: str):
    feature = ds.features.get(label)
    return feature if type(feature).__name__ == "ClassLabel" else None


def _classes(params: Mapping[str, Any], ctx, train=None) -> tuple[list[str], bool]:
    """(class names, whether the labels are ClassLabel indices)."""
    listed = _label_file(dict(params))
    if train is None:
        train, origin = _open("train", ctx, params)
        _check_columns(train, params, origin, "train")
    label = _columns(params)[2]
    names = _class_label(train, label)
    if listed is None and names is not None:
        return list(names.names), True
    if listed is not None:
        return listed, False
    return _sort_labels(str(v).strip() for v in train[label] if v is not None), False


def _load(split: str, ctx, params: Mapping[str, Any]) -> TextData:
    ds, origin = _open(split, ctx, params)
    _check_columns(ds, params, origin, split)
    text, pair, label = _columns(params)
    classes, indexed = _classes(params, ctx, ds if split == "train" else None)
    values = ds[label]
    if indexed:
        bad = [i for i, v in enumerate(values) if not isinstance(v, int) or not 0 <= v < len(classes)]
        if bad:
            shown = values[bad[0]]
            hint = " (a hub test split's hidden labels: use its validation split)" if shown == -1 else ""
            raise ConfigError(f"{origin}: {len(bad)} row(s) with label {shown!r}, not a class index 0..{len(classes) - 1}"
                              f" (first: row {bad[0] + 1}){hint}")
        labels = [int(v) for v in values]
    else:
        index = {c: i for i, c in enumerate(classes)}
        labels = []
        for i, v in enumerate(values):
            key = None if v is None else str(v).strip()
            if key not in index:
                raise ConfigError(f"{origin}: row {i + 1}: label {v!r} is not in the label list ({len(classes)} labels)")
            labels.append(index[key])
    datasets = _datasets()
    columns = {"text": ["" if t is None else str(t) for t in ds[text]]}
    if pair is not None:
        columns["text_pair"] = ["" if t is None else str(t) for t in ds[pair]]
    columns["label"] = labels
    return TextData(datasets.Dataset.from_dict(columns), list(classes), origin)


def _check_params(params: Mapping[str, Any]) -> None:
    check_params(params, HF_KEYS, "hf-dataset", ignore=("data_root",))
    if params.get("path") and any(params.get(s) for s in FILE_SPLITS):
        raise ConfigError("hf-dataset: give either path (a save_to_disk DatasetDict) or train and test, not both")


def load_hf(split: str, ctx=None, **params) -> TextData:
    _check_params(params)
    return _load(split, ctx, params)


def check_hf(ctx=None, **params) -> None:
    _check_params(params)
    for split in FILE_SPLITS:
        _load(split, ctx, params)


def hf_files(**params) -> list[str]:
    """The paths the instance reads (their listing enters the runner's job keys)."""
    if params.get("path"):
        return [str(params["path"])]
    return [str(p) for s in FILE_SPLITS if params.get(s) for p in _expand(params[s])]


DATASETS = (
    DatasetSpec("hf-dataset", "a Hugging Face dataset on disk (save_to_disk folder, or Parquet/Arrow files): params path "
                "or train, test; text_column, text_pair_column, label_column", "text", load_hf, splits=FILE_SPLITS,
                offline=True, check=check_hf, files=hf_files, params=HF_KEYS),
)
