"""Your own segmentation data: mmseg's ``img_dir``/``ann_dir`` layout or the SegNet/CamVid layout.

A config names a folder as a dataset instance with its classes and ignore index::

    datasets:
      camvid-small: {type: segnet-folder, root: /data/CamVid, classes: [sky, building, ...], ignore_index: 11}
      my-scenes:    {type: mmseg-folder, root: /data/scenes, classes: [background, cat], img_suffix: .jpg}

Layouts (label maps are PNG class indices, paired with their image by file stem)::

    mmseg-folder:  root/img_dir/{train,test|val}/<stem><img_suffix>  root/ann_dir/{train,test|val}/<stem>.png
    segnet-folder: root/train/, root/trainannot/, root/test/, root/testannot/

The test split of ``mmseg-folder`` is ``test``, or ``val`` when there is no ``test`` or when
test's labels are placeholders (its first label maps hold only the ignore index, as Cityscapes'
public test labels do); :attr:`SegFiles.on_disk` says which was read. The paper's datasets also
come in their own layouts (:data:`LAYOUTS`: Cityscapes, ADE20K, Pascal VOC; :mod:`.paper`).

``check`` (run by the task's ``validate`` before any job, without torch or mmseg) reports, in one
line naming the file: an image without a label map and the reverse, an empty split, a file that
cannot be decoded, a label map whose size differs from its image, label values outside
``0..len(classes)-1`` other than ``ignore_index``, and a declared class that no label map of the
train split contains (a foreground stored as 255 with ``ignore_index: 255`` would be ignored at
every pixel; param ``allow_absent_classes: true`` keeps absent classes on purpose). The files are
read by mmseg's own dataset classes (``DATASETS.build``; ``LoadImageFromFile`` + ``LoadAnnotations``)
in :mod:`..data`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ....checks import ANY, check_bool, flag, integer, refuse_unknown, text
from ....errors import ConfigError
from ...base import DatasetSpec

TASK = "segmentation"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".ppm")


@dataclass(frozen=True)
class SegFiles:
    """One split of a segmentation dataset on disk: paired files, classes, ignore index.

    ``img_dir``/``ann_dir`` hold images ``<stem><img_suffix>`` and label maps
    ``<stem><seg_map_suffix>`` (stems may hold sub-folders: Cityscapes' cities); this is what
    mmseg's dataset class ``dataset_type`` (``BaseSegDataset``, ``CityscapesDataset``,
    ``ADE20KDataset``, ``PascalVOCDataset``) is built from (:meth:`mmseg_config`), with
    ``ann_file`` (a split file of stems, VOC's ``ImageSets/Segmentation/<split>.txt``) and
    ``reduce_zero_label`` (ADE20K: label 0 is "other", ignored; label k is class k-1).
    ``on_disk``: the split that was read (``val`` for a ``test`` split whose labels are placeholders).
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
    dataset_type: str = "BaseSegDataset"
    reduce_zero_label: bool = False
    ann_file: Path | None = None
    on_disk: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.pairs)

    def mmseg_config(self) -> dict[str, Any]:
        """The dict ``mmseg.registry.DATASETS.build`` takes (without its ``pipeline``).

        mmseg's own classes (Cityscapes, ADE20K, VOC) keep their ``METAINFO`` class names: given
        other names, mmseg would remap label values by name; ``classes`` here only names them.
        """
        cfg: dict[str, Any] = dict(
            type=self.dataset_type, img_suffix=self.img_suffix, seg_map_suffix=self.seg_map_suffix,
            data_prefix=dict(img_path=str(self.img_dir), seg_map_path=str(self.ann_dir)),
            ignore_index=self.ignore_index, reduce_zero_label=self.reduce_zero_label,
            ann_file=str(self.ann_file) if self.ann_file is not None else "",
            test_mode=True, serialize_data=False,
        )
        if self.dataset_type == "BaseSegDataset":
            cfg["metainfo"] = dict(classes=list(self.classes))
        return cfg


def _classes(name: str, classes: Any) -> tuple[str, ...]:
    if not isinstance(classes, (list, tuple)) or len(classes) < 2 or not all(isinstance(c, str) for c in classes):
        raise ConfigError(f"dataset {name!r}: classes must be a list of at least 2 class names, got {classes!r}")
    if len(set(classes)) != len(classes):
        raise ConfigError(f"dataset {name!r}: class names repeat in {list(classes)}")
    if len(classes) > 255:  # mmseg's LoadAnnotations reads label maps as uint8, 255 the usual ignore index
        raise ConfigError(f"dataset {name!r}: {len(classes)} classes; at most 255 fit 8-bit label maps")
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


def _files_in(folder: Path, recursive: bool) -> list[Path]:
    return sorted(p for p in (folder.rglob("*") if recursive else folder.iterdir()) if p.is_file())


def pair_files(name: str, split: str, img_dir: Path, ann_dir: Path, img_suffix: str | None,
               seg_map_suffix: str, recursive: bool = False) -> tuple[str, list[tuple[Path, Path]]]:
    """(image suffix, sorted (image, label map) pairs); ConfigError naming a missing partner or folder.

    ``recursive``: images and label maps lie in sub-folders (Cityscapes' cities), paired by the
    path below ``img_dir``/``ann_dir`` without the suffix.
    """
    for d, what in ((img_dir, "image"), (ann_dir, "label-map")):
        if not d.is_dir():
            raise ConfigError(f"dataset {name!r}: {what} folder {d} of split {split!r} does not exist")
    files = _files_in(img_dir, recursive)
    if img_suffix:
        images = [p for p in files if p.name.endswith(img_suffix)]
    else:
        images = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
        suffixes = sorted({p.suffix for p in images})
        if len(suffixes) > 1:
            raise ConfigError(f"dataset {name!r}: images of {img_dir} have several extensions ({', '.join(suffixes)}); "
                              "set img_suffix")
        img_suffix = suffixes[0] if suffixes else ".png"
    labels = [p for p in _files_in(ann_dir, recursive) if p.name.endswith(seg_map_suffix)]
    if not images:
        raise ConfigError(f"dataset {name!r}: split {split!r} is empty (no *{img_suffix} images in {img_dir})")
    stems_img = {p.relative_to(img_dir).as_posix()[: -len(img_suffix)]: p for p in images}
    stems_lab = {p.relative_to(ann_dir).as_posix()[: -len(seg_map_suffix)]: p for p in labels}
    for stem, p in stems_img.items():
        if stem not in stems_lab:
            raise ConfigError(f"dataset {name!r}: {p}: image without a label map ({ann_dir / (stem + seg_map_suffix)} missing)")
    for stem, p in stems_lab.items():
        if stem not in stems_img:
            raise ConfigError(f"dataset {name!r}: {p}: label map without an image ({img_dir / (stem + img_suffix)} missing)")
    return img_suffix, [(stems_img[s], stems_lab[s]) for s in sorted(stems_img)]


def pair_listed(name: str, split: str, img_dir: Path, ann_dir: Path, img_suffix: str, seg_map_suffix: str,
                ann_file: Path) -> list[tuple[Path, Path]]:
    """The (image, label map) pairs a split file lists, one stem a line, in its order (as mmseg reads
    ``ann_file``); ConfigError naming a missing split file, image or label map."""
    if not ann_file.is_file():
        raise ConfigError(f"dataset {name!r}: split file {ann_file} of split {split!r} does not exist")
    stems = [line.strip() for line in ann_file.read_text().splitlines() if line.strip()]
    if not stems:
        raise ConfigError(f"dataset {name!r}: split {split!r} is empty (no names in {ann_file})")
    pairs = []
    for stem in stems:
        img, lab = img_dir / f"{stem}{img_suffix}", ann_dir / f"{stem}{seg_map_suffix}"
        if not img.is_file():
            raise ConfigError(f"dataset {name!r}: {img}: listed in {ann_file.name} but missing")
        if not lab.is_file():
            raise ConfigError(f"dataset {name!r}: {img}: image without a label map ({lab} missing)")
        pairs.append((img, lab))
    return pairs


def verify_pairs(name: str, pairs: Sequence[tuple[Path, Path]], num_classes: int, ignore_index: int,
                 reduce_zero_label: bool = False) -> set[int]:
    """Decode every pair (PIL): unreadable file, size mismatch, label value out of range -> ConfigError.

    Returns the classes that occur (class indices, after ``reduce_zero_label``: stored value v is
    class v - 1, stored 0 is ignored)."""
    from PIL import Image

    present: set[int] = set()
    low, high = (1, num_classes + 1) if reduce_zero_label else (0, num_classes)
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
        bad = [int(v) for v in values if int(v) != ignore_index and not low <= int(v) < high
               and not (reduce_zero_label and int(v) == 0)]
        if bad:
            raise ConfigError(f"dataset {name!r}: {lab_path}: label value(s) {bad[:5]} outside the {num_classes} "
                              f"classes ({low}..{high - 1}{', 0 ignored: reduce_zero_label' if reduce_zero_label else ''}) "
                              f"and not the ignore index {ignore_index}")
        present.update(int(v) - low for v in values if low <= int(v) < high and int(v) != ignore_index)
    return present


def refuse_absent_classes(name: str, split: str, classes: Sequence[str], present: set[int], ignore_index: int,
                          ann_dir: Path, n: int, reduce_zero_label: bool = False) -> None:
    """ConfigError naming the first declared class that no label map of the split contains.

    A foreground stored as 255 with ``ignore_index: 255`` (SBU shadows, binary masks) would
    otherwise be ignored at every pixel: the class is never trained and never scored."""
    absent = [k for k in range(len(classes)) if k not in present]
    if absent:
        k = absent[0]
        value = k + 1 if reduce_zero_label else k
        more = f" (and {len(absent) - 1} more: {', '.join(repr(classes[j]) for j in absent[1:4])}" \
               f"{', ...' if len(absent) > 4 else ''})" if len(absent) > 1 else ""
        raise ConfigError(f"dataset {name!r}: class {classes[k]!r} (label value {value}) never occurs in the {n} label "
                          f"maps of split {split!r} under {ann_dir}{more}; pixels of value {ignore_index} are the ignore "
                          f"index, not a class (store the class as {value}, or set allow_absent_classes: true to keep "
                          "an absent class on purpose)")


# -- the layouts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """Where one split of a layout lies on disk and which mmseg dataset class reads it."""

    img_dir: Path
    ann_dir: Path
    on_disk: str  # the split's name on disk
    img_suffix: str | None = None  # None: the param img_suffix, else the one image extension found
    seg_map_suffix: str = ".png"
    dataset_type: str = "BaseSegDataset"
    reduce_zero_label: bool = False
    ann_file: Path | None = None  # a split file of stems (VOC)
    recursive: bool = False  # images in sub-folders (Cityscapes' cities)
    fallback: "Layout | None" = None  # read instead when this split's labels are placeholders


def _mmseg_dirs(root: Path, split: str) -> Layout:
    """``img_dir/<split>``; for ``test``: ``test`` (``val`` if test's labels are placeholders), else ``val``."""
    def at(s: str) -> Layout:
        return Layout(root / "img_dir" / s, root / "ann_dir" / s, s)

    if split != "test":
        return at(split)
    test, val = at("test"), at("val")
    if test.img_dir.is_dir():
        return replace(test, fallback=val if val.img_dir.is_dir() and val.ann_dir.is_dir() else None)
    return val if val.img_dir.is_dir() else test


def _segnet_dirs(root: Path, split: str) -> Layout:
    return Layout(root / split, root / f"{split}annot", split)


def _cityscapes(root: Path, split: str) -> Layout:
    """``leftImg8bit/<split>/<city>/*_leftImg8bit.png``, ``gtFine/<split>/<city>/*_gtFine_labelTrainIds.png``
    (mmseg's ``tools/dataset_converters/cityscapes.py`` writes the trainIds); test reads ``val``:
    Cityscapes' public test labels are placeholders (every pixel ignored)."""
    if (root / "img_dir").is_dir():
        return _mmseg_dirs(root, split)
    s = "val" if split == "test" else split
    return Layout(root / "leftImg8bit" / s, root / "gtFine" / s, s, "_leftImg8bit.png", "_gtFine_labelTrainIds.png",
                  "CityscapesDataset", recursive=True)


def _ade20k(root: Path, split: str) -> Layout:
    """ADEChallengeData2016: ``images/{training,validation}/*.jpg``, ``annotations/.../*.png`` with
    0 = other (ignored) and k = class k-1 (``reduce_zero_label``); test reads ``validation`` (the
    challenge's test set has no public labels)."""
    if (root / "img_dir").is_dir():
        return _mmseg_dirs(root, split)
    base = root / "ADEChallengeData2016" if (root / "ADEChallengeData2016").is_dir() else root
    s = "validation" if split == "test" else "training"
    return Layout(base / "images" / s, base / "annotations" / s, s, ".jpg", ".png", "ADE20KDataset",
                  reduce_zero_label=True)


def _voc(root: Path, split: str) -> Layout:
    """VOC2012: ``JPEGImages/``, ``SegmentationClass/`` (palette PNGs, 255 = boundary, ignored), split
    files ``ImageSets/Segmentation/{train,val}.txt``; test reads ``val`` (VOC's test labels are not public)."""
    if (root / "img_dir").is_dir():
        return _mmseg_dirs(root, split)
    base = root / "VOCdevkit" / "VOC2012" if (root / "VOCdevkit" / "VOC2012").is_dir() else root
    s = "val" if split == "test" else "train"
    return Layout(base / "JPEGImages", base / "SegmentationClass", s, ".jpg", ".png", "PascalVOCDataset",
                  ann_file=base / "ImageSets" / "Segmentation" / f"{s}.txt")


# own layouts of the paper's datasets (each also reads mmseg's img_dir/ann_dir layout when root has img_dir/)
LAYOUTS = {"mmseg-folder": _mmseg_dirs, "segnet-folder": _segnet_dirs, "cityscapes": _cityscapes,
           "ade20k": _ade20k, "voc2012": _voc}
FOLDER_PARAMS = ("root", "classes", "ignore_index", "img_suffix", "seg_map_suffix", "verify", "allow_absent_classes")
#: the rule of each of FOLDER_PARAMS (DatasetSpec.params: checked when a task validates an instance,
#: before any file is read; ``root`` and ``classes`` are checked by :func:`folder_files`)
PARAMS = {"root": ANY, "classes": ANY, "ignore_index": integer(0, 255), "img_suffix": text(nullable=True),
          "seg_map_suffix": text(nullable=True), "verify": flag(), "allow_absent_classes": flag()}
PLACEHOLDER_PROBE = 8  # label maps read to tell a placeholder split (its first ones only ignore)


def _pairs(name: str, split: str, layout: Layout, img_suffix: str | None,
           seg_map_suffix: str | None) -> tuple[str, str, list[tuple[Path, Path]]]:
    img_suffix, seg_map_suffix = img_suffix or layout.img_suffix, seg_map_suffix or layout.seg_map_suffix
    if layout.ann_file is not None:
        img_suffix = img_suffix or ".jpg"
        return img_suffix, seg_map_suffix, pair_listed(name, split, layout.img_dir, layout.ann_dir, img_suffix,
                                                       seg_map_suffix, layout.ann_file)
    suffix, pairs = pair_files(name, split, layout.img_dir, layout.ann_dir, img_suffix, seg_map_suffix, layout.recursive)
    return suffix, seg_map_suffix, pairs


def placeholder_labels(pairs: Sequence[tuple[Path, Path]], ignore_index: int, reduce_zero_label: bool = False) -> bool:
    """Whether a split's labels are placeholders: its first :data:`PLACEHOLDER_PROBE` label maps hold
    nothing but the ignore index (as Cityscapes' public test labels)."""
    from PIL import Image

    for _, lab in list(pairs)[:PLACEHOLDER_PROBE]:
        try:
            with Image.open(lab) as im:
                values = np.unique(np.asarray(im))
        except Exception:  # undecodable: the check reports it
            return False
        if any(int(v) != ignore_index and not (reduce_zero_label and int(v) == 0) for v in values):
            return False
    return bool(pairs)


def folder_files(kind: str, split: str, *, name: str | None = None, root: Any = None, classes: Any = None,
                 ignore_index: Any = 255, img_suffix: str | None = None, seg_map_suffix: str | None = None,
                 verify: bool = False, allow_absent_classes: Any = False, **unknown: Any) -> SegFiles:
    """One split of a folder in layout ``kind`` (:data:`LAYOUTS`). ``verify``: decode every pair
    (:func:`verify_pairs`) and, for the train split, refuse a declared class that never occurs
    (unless ``allow_absent_classes``)."""
    name = name or kind
    refuse_unknown(unknown, FOLDER_PARAMS, f"dataset {name!r}", "parameter")
    check_bool(allow_absent_classes, "allow_absent_classes", f"dataset {name!r}")
    if split not in ("train", "test"):
        raise ConfigError(f"dataset {name!r} has no split {split!r} (splits: train, test)")
    root_path = _root(name, root)
    cls = _classes(name, classes)
    ignore = _ignore(name, ignore_index)
    layout = LAYOUTS[kind](root_path, split)
    suffix, seg_suffix, pairs = _pairs(name, split, layout, img_suffix, seg_map_suffix)
    if layout.fallback is not None and placeholder_labels(pairs, ignore, layout.reduce_zero_label):
        layout = layout.fallback
        suffix, seg_suffix, pairs = _pairs(name, split, layout, img_suffix, seg_map_suffix)
    if verify:
        present = verify_pairs(name, pairs, len(cls), ignore, layout.reduce_zero_label)
        if split == "train" and not allow_absent_classes:
            refuse_absent_classes(name, layout.on_disk, cls, present, ignore, layout.ann_dir, len(pairs),
                                  layout.reduce_zero_label)
    return SegFiles(name, split, layout.img_dir, layout.ann_dir, suffix, seg_suffix, cls, ignore, tuple(pairs),
                    layout.dataset_type, layout.reduce_zero_label, layout.ann_file, layout.on_disk)


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
        "mmseg-folder", "your data in mmseg's layout: root/img_dir/{train,test|val}, root/ann_dir/{train,test|val} "
        "(val when test is missing or its labels are placeholders); params classes, ignore_index", TASK, _loader("mmseg-folder"), offline=True, check=_checker("mmseg-folder"),
        params=PARAMS,
    ),
    DatasetSpec(
        "segnet-folder", "your data in the SegNet/CamVid layout: root/{train,trainannot,test,testannot}; "
        "params classes, ignore_index", TASK, _loader("segnet-folder"), offline=True, check=_checker("segnet-folder"),
        params=PARAMS,
    ),
)
