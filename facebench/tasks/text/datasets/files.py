"""Bring your own text: CLUE-format JSON lines and CSV/TSV files, as named dataset instances.

``clue-json`` (CLUE's own files, e.g. IFLYTEK's or TNEWS's ``train.json``/``dev.json``)::

    datasets:
      my-tnews: {type: clue-json, train: data/tnews/train.json, test: data/tnews/dev.json,
                 labels: data/tnews/labels.json}     # optional label file

one JSON object per line with ``sentence`` and ``label`` (``text_key``/``label_key`` rename them;
``label_desc`` and other keys are ignored).

``text-table`` (CSV, or TSV: ``.tsv`` files, ``delimiter: "\\t"``, or a ``.txt`` whose first lines all hold a tab)::

    datasets:
      reviews: {type: text-table, train: r/train.csv, test: r/test.csv, text_column: review,
                label_column: stars, header: true}

headerless files (``header: false``) name columns by position (``text_column: 0``).

Sentence pairs (CLUE AFQMC, OCNLI, CMNLI: ``sentence1``, ``sentence2``): ``text_pair_key``
(clue-json) or ``text_pair_column`` (text-table) names the second text, joined with the first as
a pair by the tokenizer; every row needs it (a file without that key/column is refused)::

    datasets:
      afqmc: {type: clue-json, train: afqmc/train.json, test: afqmc/dev.json,
              text_key: sentence1, text_pair_key: sentence2}

Labels: a label file (one label per line, or CLUE's ``labels.json`` lines with a ``label`` key)
gives the class list and order; without one, the sorted distinct labels of the train file (numeric
order when all are integers). Both have an ``encoding`` (utf-8). Files are read by HF datasets
(``load_dataset("json"|"csv")``); :func:`check` reads them line by line first so that bad input
is reported with its file and line: an invalid JSON line or CSV row, a missing key/column, a
label outside the label list, an unknown encoding, undecodable bytes.
"""
from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path
from typing import Any

from ....checks import ANY, check_params, flag, text
from ....errors import ConfigError
from ...base import DatasetSpec
from .common import TextData

FILE_SPLITS = ("train", "test")
# the parameters of each type (DatasetSpec.params); columns of a headerless table are positions (ints)
COMMON_KEYS = {"train": ANY, "test": ANY, "labels": ANY, "encoding": text()}
CLUE_KEYS = {**COMMON_KEYS, "text_key": text(), "label_key": text(), "text_pair_key": text(nullable=True)}
TABLE_KEYS = {**COMMON_KEYS, "text_column": ANY, "label_column": ANY, "header": flag(), "delimiter": text(nullable=True),
              "text_pair_column": ANY}


def _path(params: dict, split: str) -> Path:
    if split not in params or not params[split]:
        raise ConfigError(f"needs a {split!r} file")
    return Path(str(params[split])).expanduser()


def _encoding(params: dict) -> str:
    enc = str(params.get("encoding", "utf-8"))
    try:
        codecs.lookup(enc)
    except LookupError:
        raise ConfigError(f"unknown encoding {enc!r}") from None
    return enc


def _delimiter(params: dict, path: Path) -> str:
    """``delimiter`` if given; tab for ``.tsv``/``.tab``; comma for ``.csv``; otherwise (``.txt``, ...)
    tab when each of the first lines has a tab, else comma."""
    if params.get("delimiter") is not None:
        given = params["delimiter"]
        delimiter = "\t" if given == "\\t" else given  # '\t' in single quotes (YAML keeps the backslash)
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise ConfigError(f"delimiter must be one character (e.g. \",\" or \"\\t\"), got {given!r}")
        return delimiter
    suffix = path.suffix.lower()
    if suffix in (".tsv", ".tab"):
        return "\t"
    if suffix != ".csv" and path.is_file():
        with open(path, "rb") as f:
            first = [line for line in (f.readline() for _ in range(5)) if line.strip()]
        if first and all(b"\t" in line for line in first):
            return "\t"
    return ","


def _delimiter_said(delimiter: str) -> str:
    """How a message names the delimiter it read with, and how to change it."""
    name = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delimiter, "")
    shown = repr(delimiter) if delimiter != "\t" else "'\\t'"
    return (f"read with delimiter {shown}{f' ({name})' if name else ''}; "
            "set the dataset's 'delimiter' parameter if the file is separated by another character")


def _lines(path: Path, encoding: str):
    """(line number, line) of a text file; ConfigError naming the file and line on undecodable bytes."""
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    with open(path, "rb") as f:
        for no, raw in enumerate(f, start=1):
            try:
                yield no, raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{path}: line {no} is not valid {encoding} ({exc.reason})") from None


def _sort_labels(labels) -> list[str]:
    labels = sorted(set(labels))
    try:
        return sorted(labels, key=int)
    except ValueError:
        return labels


def _label_file(params: dict) -> list[str] | None:
    if not params.get("labels"):
        return None
    path, enc = Path(str(params["labels"])).expanduser(), _encoding(params)
    out: list[str] = []
    for no, line in _lines(path, enc):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}: line {no} is not valid JSON ({exc.msg})") from None
            if "label" not in obj:
                raise ConfigError(f"{path}: line {no} has no 'label' key")
            line = str(obj["label"])
        out.append(line)
    if not out:
        raise ConfigError(f"{path}: the label file lists no labels")
    if len(set(out)) != len(out):
        raise ConfigError(f"{path}: the label file lists a label twice")
    return out


# -- reading rows (validation) ---------------------------------------------------------------------
def clue_rows(path: Path, params: dict) -> list[tuple[int, Any, str]]:
    """(line, text, label) of every non-blank line; ConfigError naming the file and line."""
    enc, tk, lk = _encoding(params), str(params.get("text_key", "sentence")), str(params.get("label_key", "label"))
    rows = []
    for no, line in _lines(path, enc):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: line {no} is not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise ConfigError(f"{path}: line {no} is not a JSON object")
        pair_key = params.get("text_pair_key")
        for key in (tk, lk) if pair_key is None else (tk, str(pair_key), lk):
            if key not in obj:
                raise ConfigError(f"{path}: line {no} has no {key!r} key")
        rows.append((no, obj[tk], str(obj[lk])))
    return rows


def _column(header: list[str] | None, column: Any, what: str, path: Path) -> int:
    if header is None:
        if isinstance(column, bool) or not isinstance(column, int) or column < 0:
            raise ConfigError(f"{path}: a headerless file names its {what} by position (0, 1, ...), got {column!r}")
        return column
    if str(column) not in header:
        raise ConfigError(f"{path}: no {what} {column!r} in the header ({', '.join(header)})")
    return header.index(str(column))


def table_rows(path: Path, params: dict) -> list[tuple[int, Any, str]]:
    enc, has_header = _encoding(params), bool(params.get("header", True))
    text_col, label_col = params.get("text_column", "text"), params.get("label_column", "label")
    lines = list(_lines(path, enc))
    delimiter = _delimiter(params, path)
    reader = csv.reader((line for _, line in lines), delimiter=delimiter, strict=True)
    rows, header, ti, li, pi = [], None, None, None, None
    try:
        for k, record in enumerate(reader):
            no = lines[min(reader.line_num, len(lines)) - 1][0]
            if not record:
                continue
            if has_header and header is None:
                header = [c.strip() for c in record]
                continue
            if ti is None:
                try:
                    ti = _column(header, text_col, "text column", path)
                    li = _column(header, label_col, "label column", path)
                    pi = ti if params.get("text_pair_column") is None else \
                        _column(header, params["text_pair_column"], "text pair column (text_pair_column)", path)
                except ConfigError as exc:
                    if header is None or len(header) > 1:
                        raise
                    raise ConfigError(f"{exc} ({_delimiter_said(delimiter)})") from None
            if max(ti, li, pi) >= len(record):
                raise ConfigError(f"{path}: line {no} has {len(record)} field(s), needs column {max(ti, li, pi)} "
                                  f"({_delimiter_said(delimiter)})")
            rows.append((no, record[ti], record[li].strip()))
    except csv.Error as exc:
        raise ConfigError(f"{path}: line {reader.line_num} is not valid CSV ({exc}; {_delimiter_said(delimiter)})") from None
    return rows


def _check(params: dict, allowed: dict, kind: str, read_rows) -> None:
    check_params(params, allowed, kind, ignore=("data_root",))
    classes = _label_file(params)
    for split in FILE_SPLITS:
        path = _path(params, split)
        rows = read_rows(path, params)
        if not rows:
            raise ConfigError(f"{path}: no rows")
        if classes is None:
            classes = _sort_labels(label for _, _, label in rows)
            continue
        for no, _, label in rows:
            if label not in classes:
                raise ConfigError(f"{path}: line {no}: label {label!r} is not in the label list ({len(classes)} labels)")


def check_clue(ctx=None, **params) -> None:
    _check(params, CLUE_KEYS, "clue-json", clue_rows)


def check_table(ctx=None, **params) -> None:
    _check(params, TABLE_KEYS, "text-table", table_rows)


# -- loading (HF datasets) ----------------------------------------------------------------------------
def local_datasets():
    """HF ``datasets`` for reading local files: no progress bars, and no download-count request
    (``load_dataset("json"|"csv"|"parquet")`` sends one to the hub's S3 otherwise: a plan makes no network call)."""
    import datasets

    datasets.disable_progress_bars()
    datasets.config.HF_UPDATE_DOWNLOAD_COUNTS = False
    return datasets


def _hf_cache(ctx) -> str | None:
    return str(Path(ctx.cache_dir) / "hf-datasets") if ctx is not None and getattr(ctx, "cache_dir", None) else None


def _finish(ds, text_col: str, label_col: str, classes: list[str] | None, params: dict, origin: str, read_rows,
            pair_col: str | None = None) -> TextData:
    if classes is None:  # the train file's labels, in both splits
        classes = _sort_labels(label for _, _, label in read_rows(_path(params, "train"), params))
    index = {c: i for i, c in enumerate(classes)}

    def to_columns(batch):
        out = {"text": ["" if t is None else str(t) for t in batch[text_col]]}
        if pair_col is not None:
            out["text_pair"] = ["" if t is None else str(t) for t in batch[pair_col]]
        out["label"] = [index[str(v).strip()] for v in batch[label_col]]
        return out

    datasets = local_datasets()
    text = datasets.Value("string")  # named: map would otherwise keep an input column's type (a numeric text -> int)
    features = datasets.Features({"text": text, **({"text_pair": text} if pair_col is not None else {}),
                                  "label": datasets.Value("int64")})
    ds = ds.map(to_columns, batched=True, remove_columns=ds.column_names, features=features)
    return TextData(ds, list(classes), origin)


def load_clue(split: str, ctx=None, **params) -> TextData:
    datasets = local_datasets()
    path = _path(params, split)
    ds = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=_hf_cache(ctx),
                               encoding=_encoding(params))
    pair = params.get("text_pair_key")
    return _finish(ds, str(params.get("text_key", "sentence")), str(params.get("label_key", "label")),
                   _label_file(params), params, str(path), clue_rows, None if pair is None else str(pair))


def load_table(split: str, ctx=None, **params) -> TextData:
    datasets = local_datasets()
    path = _path(params, split)
    header, delimiter, encoding = bool(params.get("header", True)), _delimiter(params, path), _encoding(params)
    with open(path, encoding=encoding, newline="") as f:  # every column read as text: "007" stays "007", not 7
        width = max((len(r) for r in csv.reader((f.readline() for _ in range(50)), delimiter=delimiter)), default=1)
    ds = datasets.load_dataset("csv", data_files=str(path), split="train", cache_dir=_hf_cache(ctx),
                               sep=delimiter, header=0 if header else None, keep_default_na=False,
                               encoding=encoding, converters={i: str for i in range(width)})
    pair = params.get("text_pair_column")
    return _finish(ds, str(params.get("text_column", "text")), str(params.get("label_column", "label")),
                   _label_file(params), params, str(path), table_rows, None if pair is None else str(pair))


DATASETS = (
    DatasetSpec("clue-json", "your CLUE-format JSON lines (sentence, label): params train, test, labels", "text",
                load_clue, splits=FILE_SPLITS, offline=True, check=check_clue, params=CLUE_KEYS),
    DatasetSpec("text-table", "your CSV/TSV (text and label columns, header optional): params train, test, labels",
                "text", load_table, splits=FILE_SPLITS, offline=True, check=check_table, params=TABLE_KEYS),
)
