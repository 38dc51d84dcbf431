"""Target and source splits for segmentation: registry lookup, validation, reading through mmseg.

A segmentation dataset's ``load(split, ctx, name=..., **params)`` returns the split's files
(:class:`~.datasets.folders.SegFiles`); :func:`load_split` builds mmseg's own dataset class for
them (``mmseg.registry.DATASETS.build``: ``BaseSegDataset``, ``CityscapesDataset``,
``ADE20KDataset``, ``PascalVOCDataset``) with its ``LoadImageFromFile`` / ``LoadAnnotations``
transforms (plus ``Resize`` with ``keep_ratio=False`` when the benchmark sets ``image_size``:
bilinear for the image, nearest for the label map). The split is streamed, never held in
memory: :meth:`SegSplit.batch` decodes the images a training step or forward pass asks for, as
RGB uint8 images and uint8 label maps (what mmseg's ``LoadAnnotations`` returns; the ignore index
is at most 255 and a dataset has at most 255 classes), so a job holds a batch at a time (the
paper's Cityscapes train split would be ~17 GB with int64 labels, LIP at 512x512 ~88 GB).
:class:`ArraySplit` gives arrays already in memory the same interface (tests).
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from ...errors import ConfigError
from .datasets.folders import SegFiles
from .options import TaskOptions

TASK = "segmentation"
#: what :func:`dataset_params` adds to every dataset's params (the instance's name, for messages)
CONTEXT_KEYS = ("name",)


def dataset_instance(name: str, ctx):
    return ctx.dataset(name, TASK)


def dataset_params(name: str, ctx) -> dict[str, Any]:
    return {**dataset_instance(name, ctx).params, "name": name}


def checked_params(name: str, ctx) -> dict[str, Any]:
    """:func:`dataset_params`, checked against the type's declared parameters (name and range)."""
    return dataset_instance(name, ctx).checked_params({"name": name}, CONTEXT_KEYS)


def check_dataset(name: str, ctx) -> None:
    """The dataset's parameters (name and range), then its own check (files paired, decodable, sizes
    and label values), before any job."""
    dataset_instance(name, ctx).spec.validate(ctx, dataset_params(name, ctx), f"dataset {name!r}", CONTEXT_KEYS)


def split_files(name: str, split: str, ctx) -> SegFiles:
    spec = dataset_instance(name, ctx).spec
    files = spec.load(split, ctx, **checked_params(name, ctx))
    if not isinstance(files, SegFiles):
        raise ConfigError(f"segmentation: dataset {name!r} loads a {type(files).__name__}, not SegFiles")
    return files


LABEL_DTYPE = np.uint8  # mmseg's LoadAnnotations reads label maps as uint8


class ArraySplit:
    """Images (N, H, W, 3) RGB uint8 and optional label maps (N, H, W) in memory, read like a
    :class:`SegSplit` (``len``, ``image_shape``, ``batch``)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None):
        self.images, self.labels = np.asarray(images), None if labels is None else np.asarray(labels)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(int(v) for v in self.images.shape[1:3])

    def batch(self, idx: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        idx = np.asarray(idx, np.int64)
        return self.images[idx], None if self.labels is None else self.labels[idx]

    def label_maps(self) -> Iterator[np.ndarray]:
        yield from self.labels


class SegSplit:
    """One split, read from disk by mmseg's pipeline when asked: images RGB uint8 (H, W, 3), label
    maps uint8 (H, W). ``len``, ``image_shape``, :meth:`read` (one image), :meth:`batch` (the
    images ``idx``, stacked), :meth:`label_maps` (one at a time); ``paths``: the images, in order."""

    def __init__(self, name: str, dataset, n: int, files: SegFiles, image_shape: tuple[int, int]):
        self.name, self.dataset, self.n, self.files = name, dataset, int(n), files
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))

    classes = property(lambda self: self.files.classes)
    ignore_index = property(lambda self: self.files.ignore_index)
    on_disk = property(lambda self: self.files.on_disk or self.files.split)  # the split's name on disk

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return self.n

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(str(self.dataset.get_data_info(i)["img_path"]) for i in range(self.n))

    def read(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Image ``i`` (RGB uint8) and its label map (uint8), through the dataset's pipeline."""
        if not 0 <= i < self.n:
            raise IndexError(i)
        item = self.dataset[i]
        img = np.asarray(item["img"])
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        img = img[..., ::-1][..., :3]  # mmcv reads BGR
        if img.shape[:2] != self.image_shape:
            raise ConfigError(f"segmentation: dataset {self.name!r}: {item['img_path']} is {img.shape[0]}x{img.shape[1]}, "
                              f"the split's first image {self.image_shape[0]}x{self.image_shape[1]}; set the option "
                              "image_size")
        return img, np.asarray(item["gt_seg_map"], LABEL_DTYPE)

    def batch(self, idx: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        items = [self.read(int(i)) for i in idx]
        return (np.ascontiguousarray(np.stack([im for im, _ in items])),
                np.stack([lab for _, lab in items]))

    def label_maps(self) -> Iterator[np.ndarray]:
        for i in range(self.n):
            yield self.read(i)[1]


def mmseg_dataset(files: SegFiles, image_size: tuple[int, int] | None = None):
    """mmseg's dataset class for the split's files (``DATASETS.build``), with its loading (and
    resizing) transforms."""
    from .mm import init_mmseg

    init_mmseg()
    from mmseg.registry import DATASETS

    pipeline = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations")]
    if image_size is not None:
        pipeline.append(dict(type="Resize", scale=(image_size[1], image_size[0]), keep_ratio=False))
    return DATASETS.build(dict(files.mmseg_config(), pipeline=pipeline))


def _image_shape(name: str, split: str, ds, n: int) -> tuple[int, int]:
    """The one image size of the split's first ``n`` images, from the files' headers (PIL, no decoding)."""
    from PIL import Image

    shapes = set()
    for i in range(n):
        path = ds.get_data_info(i)["img_path"]
        try:
            with Image.open(path) as im:
                shapes.add((im.size[1], im.size[0]))
        except Exception as exc:  # the dataset's check reports undecodable files before any job
            raise ConfigError(f"segmentation: dataset {name!r}: {path}: cannot read ({type(exc).__name__}: {exc})") from None
    if len(shapes) > 1:
        raise ConfigError(f"segmentation: dataset {name!r} split {split!r} has images of several sizes "
                          f"({', '.join(f'{h}x{w}' for h, w in sorted(shapes))}); set the option image_size")
    return shapes.pop()


def load_split(name: str, split: str, ctx, opts: TaskOptions, limit: int | None = None) -> SegSplit:
    """The first ``limit`` images of a split (the mmseg dataset's order), read from disk when asked."""
    files = split_files(name, split, ctx)
    ds = mmseg_dataset(files, opts.image_size)
    n = len(ds) if limit is None else min(limit, len(ds))
    if n == 0:
        raise ConfigError(f"segmentation: dataset {name!r} split {split!r} is empty")
    shape = tuple(opts.image_size) if opts.image_size is not None else _image_shape(name, split, ds, n)
    return SegSplit(name, ds, n, files, shape)
