"""The paper's §4.4 datasets: your local copies, in their own layouts or mmseg's ``img_dir``/``ann_dir``.

facebench downloads no segmentation dataset. The root is the param ``root`` (a config's dataset
instance) or ``$FACEBENCH_DATA/<name>``. Three datasets are read in the layout they ship in, by
mmseg's own dataset class (``mmseg.registry.DATASETS.build``; :data:`.folders.LAYOUTS`):

* ``cityscapes``: ``leftImg8bit/{train,val}/<city>/*_leftImg8bit.png`` and
  ``gtFine/{train,val}/<city>/*_gtFine_labelTrainIds.png`` (mmseg's
  ``tools/dataset_converters/cityscapes.py`` writes the trainIds), ``CityscapesDataset``; the
  test split is Cityscapes' ``val`` (its public test labels are placeholders, every pixel ignored);
* ``ade20k``: ``[ADEChallengeData2016/]images/{training,validation}/*.jpg`` and
  ``annotations/...*.png``, ``ADE20KDataset`` with ``reduce_zero_label`` (0 = "other", ignored);
  test = ``validation``;
* ``voc2012``: ``[VOCdevkit/VOC2012/]JPEGImages/``, ``SegmentationClass/`` and the split files
  ``ImageSets/Segmentation/{train,val}.txt``, ``PascalVOCDataset``; test = ``val``.

A root holding ``img_dir/`` is read in mmseg's ``img_dir``/``ann_dir`` layout instead, as are the
other five (prepare them with mmseg's ``tools/dataset_converters``: label maps as PNG class
indices, ``ignore_index`` 255; SBU's 0/255 shadow masks as 0/1). ``check`` then reports what is
missing or malformed, by file, like :mod:`.folders`. Class counts follow the mmseg configs
(COCO: COCO-Stuff-164k's 171 classes; KITTI: the Cityscapes label set).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ....errors import ConfigError
from ...base import DatasetSpec
from .folders import LAYOUTS, PARAMS, folder_files

TASK = "segmentation"
DATA_ENV = "FACEBENCH_DATA"
VOC = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
       "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")
CITYSCAPES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation",
              "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle")
PAPER = {  # name: (summary, class count or names)
    "cityscapes": ("Cityscapes fine annotations (19 train ids), the paper's segmentation target; own layout "
                   "(leftImg8bit/, gtFine/ labelTrainIds) or img_dir/ann_dir; test split = Cityscapes val "
                   "(its test labels are placeholders)", CITYSCAPES),
    "ade20k": ("ADE20K scene parsing (150 classes); own layout (images/, annotations/, reduce_zero_label) or "
               "img_dir/ann_dir; test split = validation", 150),
    "voc2012": ("PASCAL VOC 2012 segmentation (21 classes); own layout (JPEGImages/, SegmentationClass/, "
                "ImageSets/Segmentation) or img_dir/ann_dir; test split = val", VOC),
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
        own = " (or its own layout)" if kind in LAYOUTS else ""
        raise ConfigError(f"dataset {params.get('name') or kind!r}: no local copy (set its root, or ${DATA_ENV}/{kind}, "
                          f"to a folder with img_dir/ and ann_dir/{own}; facebench downloads no segmentation dataset)")
    return {"root": root, "classes": params.pop("classes", _classes(PAPER[kind][1])), **params}


def _layout(kind: str) -> str:
    return kind if kind in LAYOUTS else "mmseg-folder"


def _loader(kind: str):
    def load(split: str, ctx=None, **params: Any):
        return folder_files(_layout(kind), split, **_params(kind, dict(params)))

    return load


def _checker(kind: str):
    def check(ctx=None, **params: Any) -> None:
        params = _params(kind, dict(params))
        for split in ("train", "test"):
            folder_files(_layout(kind), split, **{"verify": True, **params})

    return check


DATASETS = tuple(
    DatasetSpec(kind, summary, TASK, _loader(kind), num_classes=len(_classes(c)), check=_checker(kind),
                params=PARAMS)
    for kind, (summary, c) in PAPER.items()
)
