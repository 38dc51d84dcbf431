"""Target and source splits for segmentation: registry lookup, validation, reading through mmseg.

A segmentation dataset's ``load(split, ctx, name=..., **params)`` returns the split's files
(:class:`~.datasets.folders.SegFiles`); :func:`load_split` reads them with mmseg's own
``BaseSegDataset`` and its ``LoadImageFromFile`` / ``LoadAnnotations`` transforms (plus
``Resize`` with ``keep_ratio=False`` when the benchmark sets ``image_size``: bilinear for the
image, nearest for the label map) and holds the split in memory as RGB uint8 images and int64
label maps (small datasets: the embedded scenes are 64x64).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import ConfigError
from .datasets.folders import SegFiles
from .options import TaskOptions

TASK = "segmentation"


def dataset_instance(name: str, ctx):
    return ctx.dataset(name, TASK)


def dataset_params(name: str, ctx) -> dict[str, Any]:
    return {**dataset_instance(name, ctx).params, "name": name}


def check_dataset(name: str, ctx) -> None:
    """The dataset's own check (files paired, decodable, sizes and label values), before any job."""
    spec = dataset_instance(name, ctx).spec
    if spec.check is not None:
        spec.check(ctx, **dataset_params(name, ctx))


def split_files(name: str, split: str, ctx) -> SegFiles:
    spec = dataset_instance(name, ctx).spec
    files = spec.load(split, ctx, **dataset_params(name, ctx))
    if not isinstance(files, SegFiles):
        raise ConfigError(f"segmentation: dataset {name!r} loads a {type(files).__name__}, not SegFiles")
    return files


@dataclass
class SegSplit:
    """One split in memory: ``images`` (N, H, W, 3) RGB uint8, ``labels`` (N, H, W) int64."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    ignore_index: int
    files: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return int(self.images.shape[0])


def mmseg_dataset(files: SegFiles, image_size: tuple[int, int] | None = None):
    """mmseg's ``BaseSegDataset`` over the split's files, with its loading (and resizing) transforms."""
    from .mm import init_mmseg

    init_mmseg()
    from mmseg.datasets import BaseSegDataset

    pipeline = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations")]
    if image_size is not None:
        pipeline.append(dict(type="Resize", scale=(image_size[1], image_size[0]), keep_ratio=False))
    return BaseSegDataset(
        img_suffix=files.img_suffix, seg_map_suffix=files.seg_map_suffix,
        metainfo=dict(classes=list(files.classes)),
        data_prefix=dict(img_path=str(files.img_dir), seg_map_path=str(files.ann_dir)),
        pipeline=pipeline, test_mode=True, ignore_index=files.ignore_index, serialize_data=False,
    )


def load_split(name: str, split: str, ctx, opts: TaskOptions, limit: int | None = None) -> SegSplit:
    """The first ``limit`` images of a split (file order), read by mmseg, in memory."""
    files = split_files(name, split, ctx)
    ds = mmseg_dataset(files, opts.image_size)
    n = len(ds) if limit is None else min(limit, len(ds))
    images, labels, paths = [], [], []
    for i in range(n):
        item = ds[i]
        img = np.asarray(item["img"])
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        images.append(img[..., ::-1][..., :3])  # mmcv reads BGR
        labels.append(np.asarray(item["gt_seg_map"], np.int64))
        paths.append(str(item["img_path"]))
    shapes = {im.shape[:2] for im in images}
    if len(shapes) > 1:
        raise ConfigError(f"segmentation: dataset {name!r} split {split!r} has images of several sizes "
                          f"({', '.join(f'{h}x{w}' for h, w in sorted(shapes))}); set the option image_size")
    return SegSplit(name, np.ascontiguousarray(np.stack(images)), np.stack(labels), files.classes,
                    files.ignore_index, tuple(paths))
