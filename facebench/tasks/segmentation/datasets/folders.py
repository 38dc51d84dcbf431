"""Your own segmentation data: mmseg's ``img_dir``/``ann_dir`` layout or the SegNet/CamVid layout.

A config names a folder as a dataset instance with its classes and ignore index::

    datasets:
      camvid-small: {type: segnet-folder, root: /data/CamVid, classes: [sky, building, ...], ignore_index: 11}
      my-scenes:    {type: mmseg-folder, root: /data/scenes, classes: [background, cat], img_suffix: .jpg}

Layouts (label maps are PNG class indices, paired with their image by file stem)::

    mmseg-folder:  root/img_dir/{train,val|test}/<stem><img_suffix>  root/ann_dir/{train,val|test}/<stem>.png
    segnet-folder: root/train/, root/trainannot/, root/test/, root/testannot/

``check`` (run by the task's ``validate`` before any job, without torch or mmseg) reports, in one
line naming the file: an image without a label map and the reverse, an empty split, a file that
cannot be decoded, a label map whose size differs from its image, and label values outside
``0..len(classes)-1`` other than ``ignore_index``. The files are read by mmseg's own
``BaseSegDataset`` (``LoadImageFromFile`` + ``LoadAnnotations``) in :mod:`..data`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ....errors import ConfigError
from ...base import DatasetSpec

TASK = "segmentation"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".ppm")


@dataclass(frozen=True)
class SegFiles:
    """One split of a segmentation dataset on disk: paired files, classes, ignore index.

    ``img_dir``/``ann_dir`` hold images ``<stem><img_suffix>`` and label maps
    ``<stem><seg_map_suffix>``; this is what mmseg's ``BaseSegDataset`` is built from.
    """

    name: str
    split: str
    img_dir: Path
    ann_dir: Path
    img_suffix: str
    seg_map_suffix: str
    classes: tuple[str, ...]
    ignore_index: int
    pairs: tuple[tuple[Path, Path], ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.pairs)


def _classes(name: str, classes: Any) -> tuple[str, ...]:
    if not isinstance(classes, (list, tuple)) or len(classes) < 2 or not all(isinstance(c, str) for c in classes):
        raise ConfigError(f"dataset {name!r}: classes must be a list of at least 2 class names, got {classes!r}")
    if len(set(classes)) != len(classes):
        raise ConfigError(f"dataset {name!r}: class names repeat in {list(classes)}")
    return tuple(classes)


def _ignore(name: str, ignore_index: Any) -> int:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int) or not 0 <= ignore_index <= 255:
        raise ConfigError(f"dataset {name!r}: ignore_index must be an integer in 0..255, got {ignore_index!r}")
    return int(ignore_index)


def _root(name: str, root: Any) -> Path:
    if not root:
        raise ConfigError(f"dataset {name!r} needs a root folder (datasets: {{{name}: {{type: ..., root: /path, classes: [...]}}}})")
    path = Path(root).expanduser()
    if not path.is_dir():
        raise ConfigError(f"dataset {name!r}: root folder {path} does not exist")
    return path


def pair_files(name: str, split: str, img_dir: Path, ann_dir: Path, img_suffix: str | None,
               seg_map_suffix: str) -> tuple[str, list[tuple[Path, Path]]]:
    """(image suffix, sorted (image, label map) pairs); ConfigError naming a missing partner or folder."""
    for d, what in ((img_dir, "image"), (ann_dir, "label-map")):
        if not d.is_dir():
            raise ConfigError(f"dataset {name!r}: {what} folder {d} of split {split!r} does not exist")
    if img_suffix:
        images = sorted(p for p in img_dir.iterdir() if p.is_file() and p.name.endswith(img_suffix))
    else:
        images = sorted(p for p in img_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        suffixes = sorted({p.suffix for p in images})
        if len(suffixes) > 1:
            raise ConfigError(f"dataset {name!r}: images of {img_dir} have several extensions ({', '.join(suffixes)}); "
                              "set img_suffix")
        img_suffix = suffixes[0] if suffixes else ".png"
    labels = sorted(p for p in ann_dir.iterdir() if p.is_file() and p.name.endswith(seg_map_suffix))
    if not images:
        raise ConfigError(f"dataset {name!r}: split {split!r} is empty (no *{img_suffix} images in {img_dir})")
    stems_img = {p.name[: -len(img_suffix)]: p for p in images}
    stems_lab = {p.name[: -len(seg_map_suffix)]: p for p in labels}
    for stem, p in stems_img.items():
        if stem not in stems_lab:
            raise ConfigError(f"dataset {name!r}: {p}: image without a label map ({ann_dir / (stem + seg_map_suffix)} missing)")
    for stem, p in stems_lab.items():
        if stem not in stems_img:
            raise ConfigError(f"dataset {name!r}: {p}: label map without an image ({img_dir / (stem + img_suffix)} missing)")
    return img_suffix, [(stems_img[s], stems_lab[s]) for s in sorted(stems_img)]


def verify_pairs(name: str, pairs: Sequence[tuple[Path, Path]], num_classes: int, ignore_index: int) -> None:
    """Decode every pair (PIL): unreadable file, size mismatch, label value out of range -> ConfigError."""
    from PIL import Image

    for img_path, lab_path in pairs:
        sizes = []
        for path in (img_path, lab_path):
            try:
                with Image.open(path) as im:
                    im.load()
                    sizes.append(im.size)
                    if path is lab_path:
                        if im.mode not in ("L", "P", "I", "I;16"):
                            raise ConfigError(f"dataset {name!r}: {path}: label map has mode {im.mode} "
                                              "(expected a single-channel PNG of class indices)")
                        values = np.unique(np.asarray(im))
            except ConfigError:
                raise
            except Exception as exc:  # PIL raises many types for a bad file
                raise ConfigError(f"dataset {name!r}: {path}: cannot decode ({type(exc).__name__}: {exc})") from None
        if sizes[0] != sizes[1]:
            raise ConfigError(f"dataset {name!r}: {lab_path}: label map is {sizes[1][0]}x{sizes[1][1]} but its image "
                              f"{img_path.name} is {sizes[0][0]}x{sizes[0][1]}")
        bad = [int(v) for v in values if int(v) != ignore_index and not 0 <= int(v) < num_classes]
        if bad:
            raise ConfigError(f"dataset {name!r}: {lab_path}: label value(s) {bad[:5]} outside the {num_classes} "
                              f"classes (0..{num_classes - 1}) and not the ignore index {ignore_index}")


# -- the two layouts -----------------------------------------------------------------------------
def _mmseg_dirs(root: Path, split: str) -> tuple[Path, Path]:
    names = ("test", "val") if split == "test" else (split,)
    for s in names:
        if (root / "img_dir" / s).is_dir():
            return root / "img_dir" / s, root / "ann_dir" / s
    return root / "img_dir" / names[0], root / "ann_dir" / names[0]


def _segnet_dirs(root: Path, split: str) -> tuple[Path, Path]:
    return root / split, root / f"{split}annot"


LAYOUTS = {"mmseg-folder": _mmseg_dirs, "segnet-folder": _segnet_dirs}


def folder_files(kind: str, split: str, *, name: str | None = None, root: Any = None, classes: Any = None,
                 ignore_index: Any = 255, img_suffix: str | None = None, seg_map_suffix: str = ".png",
                 verify: bool = False, **unknown: Any) -> SegFiles:
    name = name or kind
    if unknown:
        raise ConfigError(f"dataset {name!r}: unknown parameter(s) {', '.join(sorted(unknown))} (known: root, classes, "
                          "ignore_index, img_suffix, seg_map_suffix, verify)")
    if split not in ("train", "test"):
        raise ConfigError(f"dataset {name!r} has no split {split!r} (splits: train, test)")
    root_path = _root(name, root)
    cls = _classes(name, classes)
    ignore = _ignore(name, ignore_index)
    img_dir, ann_dir = LAYOUTS[kind](root_path, split)
    suffix, pairs = pair_files(name, split, img_dir, ann_dir, img_suffix, seg_map_suffix)
    if verify:
        verify_pairs(name, pairs, len(cls), ignore)
    return SegFiles(name, split, img_dir, ann_dir, suffix, seg_map_suffix, cls, ignore, tuple(pairs))


def _loader(kind: str):
    def load(split: str, ctx=None, **params: Any) -> SegFiles:
        return folder_files(kind, split, **params)

    return load


def _checker(kind: str):
    def check(ctx=None, **params: Any) -> None:
        params = {**params, "verify": params.get("verify", True)}
        for split in ("train", "test"):
            folder_files(kind, split, **params)

    return check


DATASETS = (
    DatasetSpec(
        "mmseg-folder", "your data in mmseg's layout: root/img_dir/{train,val}, root/ann_dir/{train,val}; "
        "params classes, ignore_index", TASK, _loader("mmseg-folder"), offline=True, check=_checker("mmseg-folder"),
    ),
    DatasetSpec(
        "segnet-folder", "your data in the SegNet/CamVid layout: root/{train,trainannot,test,testannot}; "
        "params classes, ignore_index", TASK, _loader("segnet-folder"), offline=True, check=_checker("segnet-folder"),
    ),
)
