"""``image-folder``: your own images, one sub-folder per class.

A config names each folder as a dataset instance, ``datasets: {faces: {type: image-folder, root:
/path/to/faces}}``, and uses its name as a target (several folders: several instances).
``options.datasets.<name>.root`` in a benchmark still works. Layouts::

    root/<class>/<image>                     split deterministically: test_fraction (default 0.2)
                                             of each class, chosen with split_seed (default 0)
    root/train/<class>/<image>               explicit splits (both folders present)
    root/test/<class>/<image>

Class indices follow the sorted class-folder names (the union of train/ and test/). Images are
files with the usual extensions (jpg, jpeg, png, bmp, gif, tif, tiff, webp, ppm, pgm). ``check``
(run by ``validate`` before any job) reports a missing root, a folder without images, an empty
class folder, and, with ``verify: true`` (default), the first file PIL cannot decode, by name; the
parameters (:data:`PARAMS`) are checked by name and range before that.
The listing of the files under ``root`` enters the job keys (:mod:`facebench.datafiles`): add or
change an image and the next run extracts and fine-tunes again.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ....checks import ANY, flag, fraction, integer
from ....errors import BadInputError, ConfigError
from ...base import DatasetSpec
from ....subsets import stratified_split

NAME = "image-folder"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
#: the parameters an image-folder instance takes (DatasetSpec.params: checked before any file is read)
PARAMS = {"root": ANY, "test_fraction": fraction(), "split_seed": integer(), "verify": flag()}


class ImageFolderDataset:
    """Items ``(PIL.Image RGB, label)`` from a list of ``(path, label)`` samples."""

    def __init__(self, samples: list[tuple[Path, int]], classes: list[str], root: Path) -> None:
        self.samples = samples
        self.targets = [s[1] for s in samples]
        self.classes = classes
        self.root = root

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, label = self.samples[index]
        return open_image(path), label

    def __repr__(self) -> str:
        return f"ImageFolderDataset({str(self.root)!r}, n={len(self)}, classes={len(self.classes)})"


def open_image(path: Path):
    """Decode one image as RGB; a file PIL cannot read is a BadInputError naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BadInputError(f"{NAME}: cannot decode image {path} ({type(exc).__name__}: {exc})") from None


def _root(options: dict[str, Any]) -> Path:
    root = options.get("root")
    if not root:
        raise ConfigError(
            f"dataset {NAME!r} needs a root folder: name it in the config, datasets: {{NAME: {{type: {NAME}, "
            "root: /path}}, and use NAME as a target "
            "(layout root/<class>/<image>, or root/train/<class>/... and root/test/<class>/...)"
        )
    root = Path(root).expanduser()
    if not root.is_dir():
        raise ConfigError(f"dataset {NAME!r}: root folder {root} does not exist")
    return root


def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")


def _scan(folder: Path) -> dict[str, list[Path]]:
    """class name -> sorted image paths, for each class sub-folder of ``folder``."""
    out = {}
    for d in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        out[d.name] = sorted(p for p in d.rglob("*") if _is_image(p))
    return out


def _layout(root: Path) -> dict[str, dict[str, list[Path]]]:
    """split -> class -> paths; a single ``"all"`` split when root has no train/ and test/."""
    if (root / "train").is_dir() and (root / "test").is_dir():
        layout = {"train": _scan(root / "train"), "test": _scan(root / "test")}
    else:
        layout = {"all": _scan(root)}
    for split, classes in layout.items():
        where = root if split == "all" else root / split
        if not classes:
            raise ConfigError(f"dataset {NAME!r}: no class folders in {where} (expected {where}/<class>/<image>)")
        if not any(classes.values()):
            exts = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
            raise ConfigError(f"dataset {NAME!r}: no images in the class folders of {where} (extensions: {exts})")
        empty = [c for c, paths in classes.items() if not paths]
        if empty:
            raise ConfigError(f"dataset {NAME!r}: class folder {where / empty[0]} has no images")
        if len(classes) < 2:
            raise ConfigError(f"dataset {NAME!r}: {where} has one class folder ({next(iter(classes))}); a target "
                              "needs at least 2 classes to fine-tune and score")
    return layout


def check_image_folder(ctx=None, verify: bool = True, **options: Any) -> None:
    """Raise ConfigError for a missing root, no images, an empty class, or an undecodable file."""
    layout = _layout(_root(options))
    if not verify:
        return
    from PIL import Image

    for classes in layout.values():
        for paths in classes.values():
            for path in paths:
                try:
                    with Image.open(path) as img:
                        img.verify()
                except Exception as exc:  # PIL raises many types for a bad file
                    raise ConfigError(
                        f"dataset {NAME!r}: cannot decode image {path} ({type(exc).__name__}: {exc})"
                    ) from None


def load_image_folder(
    split: str, ctx=None, test_fraction: float = 0.2, split_seed: int = 0, verify: bool = True, **options: Any
) -> ImageFolderDataset:
    if split not in ("train", "test"):
        raise ConfigError(f"dataset {NAME!r} has no split {split!r} (splits: train, test)")
    root = _root(options)
    layout = _layout(root)
    classes = sorted({c for per_split in layout.values() for c in per_split})
    index = {c: i for i, c in enumerate(classes)}
    if "all" in layout:
        samples = [(p, index[c]) for c, paths in layout["all"].items() for p in paths]
        train, test = stratified_split([s[1] for s in samples], float(test_fraction), int(split_seed))
        samples = [samples[i] for i in (train if split == "train" else test)]
    else:
        samples = [(p, index[c]) for c, paths in layout[split].items() for p in paths]
    return ImageFolderDataset(samples, classes, root)


DATASETS = (
    DatasetSpec(
        NAME, "your images: root/<class>/<image> (or root/train, root/test); datasets: {name: {type: image-folder, root: ...}}",
        "classification", load_image_folder, offline=True, check=check_image_folder,
        files=lambda root=None, **params: [root] if root else [], params=PARAMS,
    ),
)
