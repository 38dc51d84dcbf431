"""The paper's §4.4 datasets: your local copies, in mmseg's ``img_dir``/``ann_dir`` layout.

facebench downloads no segmentation dataset. Prepare each one with mmseg's
``tools/dataset_converters`` (label maps as PNG class indices, ``ignore_index`` 255) and arrange it
as ``<root>/img_dir/{train,val}`` + ``<root>/ann_dir/{train,val}``; the root is the param ``root``
(a config's dataset instance) or ``$FACEBENCH_DATA/<name>``. ``check`` then reports what is
missing or malformed, by file, like :mod:`.folders`. Class counts follow the mmseg configs
(COCO: COCO-Stuff-164k's 171 classes; KITTI: the Cityscapes label set).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ....errors import ConfigError
from ...base import DatasetSpec
from .folders import folder_files

TASK = "segmentation"
DATA_ENV = "FACEBENCH_DATA"
CITYSCAPES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation",
              "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle")
PAPER = {  # name: (summary, class count or names)
    "cityscapes": ("Cityscapes fine annotations (19 train ids), the paper's segmentation target", CITYSCAPES),
    "ade20k": ("ADE20K scene parsing (150 classes)", 150),
    "voc2012": ("PASCAL VOC 2012 segmentation (21 classes)", 21),
    "voc-aug": ("PASCAL VOC 2012 + SBD augmented (21 classes)", 21),
    "sbu-shadow": ("SBU Shadow (shadow / non-shadow)", ("background", "shadow")),
    "coco": ("MS COCO as COCO-Stuff-164k (171 classes)", 171),
    "lip": ("Look Into Person human parsing (20 classes)", 20),
    "kitti": ("KITTI semantic segmentation, Cityscapes label set (19 classes)", CITYSCAPES),
    "camvid": ("CamVid (11 classes, 11 = void as ignore in the SegNet release; here 255)", 11),
}


def _classes(spec: Any) -> list[str]:
    return list(spec) if isinstance(spec, tuple) else [f"class-{i}" for i in range(spec)]


def _params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    root = params.pop("root", None) or (Path(os.environ[DATA_ENV]) / kind if os.environ.get(DATA_ENV) else None)
    if root is None or not Path(root).expanduser().is_dir():
        raise ConfigError(f"dataset {params.get('name') or kind!r}: no local copy (set its root, or ${DATA_ENV}/{kind}, "
                          "to a folder with img_dir/ and ann_dir/; facebench downloads no segmentation dataset)")
    return {"root": root, "classes": params.pop("classes", _classes(PAPER[kind][1])), **params}


def _loader(kind: str):
    def load(split: str, ctx=None, **params: Any):
        return folder_files("mmseg-folder", split, **_params(kind, dict(params)))

    return load


def _checker(kind: str):
    def check(ctx=None, **params: Any) -> None:
        params = _params(kind, dict(params))
        for split in ("train", "test"):
            folder_files("mmseg-folder", split, **{"verify": True, **params})

    return check


DATASETS = tuple(
    DatasetSpec(kind, summary, TASK, _loader(kind), num_classes=len(_classes(c)), check=_checker(kind))
    for kind, (summary, c) in PAPER.items()
)
