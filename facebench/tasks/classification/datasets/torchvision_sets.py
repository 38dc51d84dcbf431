"""The paper's image classification datasets (FaCe §4.1-4.3), through torchvision.

Every dataset lives in ``<data root>/<name>/`` where the data root is ``options.data_root`` (the
benchmark's task options), else ``$FACEBENCH_DATA``, else ``~/.cache/facebench/data``.
Files are downloaded only when the run allows it (``download: true`` in the config or
``--allow-download``: ``ctx.download``); otherwise a missing dataset is a ConfigError that says
where to put the files and how to allow the download.

CUB-200-2011 is not in torchvision: :class:`CUB200` reads the official ``CUB_200_2011.tgz``
layout (``images.txt``, ``image_class_labels.txt``, ``train_test_split.txt``, ``classes.txt``,
``images/``) and downloads that archive from Caltech's data repository when allowed.
Stanford Cars cannot be downloaded any more (its URL is gone; torchvision refuses): put the
Kaggle copy in the folder torchvision expects (``stanford_cars/`` with ``devkit/``,
``cars_train/``, ``cars_test/`` and ``cars_test_annos_withlabels.mat``).

Splits: the official train (or trainval where the dataset has one: Oxford Pets, FGVC Aircraft)
and test splits; DTD uses partition 1 (option ``partition``, 1-10). Parameters: ``root`` (the
dataset's own folder), ``data_root`` and, for DTD, ``partition`` (:meth:`TorchvisionSet.params`).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ....checks import ANY, ParamRule, integer
from ....errors import ConfigError
from ...base import DatasetSpec
from .common import DATA_ENV, data_root

CUB_URL = "https://data.caltech.edu/records/65de6-vp158/files/CUB_200_2011.tgz"
CUB_MD5 = "97eceeb196236b17998738112f37df78"


class CUB200:
    """Caltech-UCSD Birds-200-2011 (Wah et al., 2011): 200 classes, 5,994 train / 5,794 test."""

    folder = "CUB_200_2011"

    def __init__(self, root: str | Path, train: bool = True, download: bool = False) -> None:
        self.root = Path(root)
        if download and not self._check_exists():
            from torchvision.datasets.utils import download_and_extract_archive

            download_and_extract_archive(CUB_URL, str(self.root), md5=CUB_MD5)
        if not self._check_exists():
            raise RuntimeError(f"{self.base} not found (expected images.txt, image_class_labels.txt, ...)")
        base = self.base
        paths = dict(line.split(maxsplit=1) for line in (base / "images.txt").read_text().splitlines() if line.strip())
        labels = dict(line.split() for line in (base / "image_class_labels.txt").read_text().splitlines() if line.strip())
        is_train = dict(line.split() for line in (base / "train_test_split.txt").read_text().splitlines() if line.strip())
        classes = [line.split(maxsplit=1)[1] for line in (base / "classes.txt").read_text().splitlines() if line.strip()]
        want = "1" if train else "0"
        ids = sorted((i for i in paths if is_train[i] == want), key=int)
        self.samples = [(base / "images" / paths[i].strip(), int(labels[i]) - 1) for i in ids]
        self.targets = [s[1] for s in self.samples]
        self.classes = classes

    @property
    def base(self) -> Path:
        return self.root / self.folder

    def _check_exists(self) -> bool:
        names = ("images.txt", "image_class_labels.txt", "train_test_split.txt", "classes.txt", "images")
        return all((self.base / n).exists() for n in names)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        from PIL import Image

        path, label = self.samples[index]
        with Image.open(path) as img:
            return img.convert("RGB"), label


@dataclass(frozen=True, eq=False)
class TorchvisionSet:
    """How to build one paper dataset: a constructor and per-split keyword arguments."""

    name: str
    summary: str
    cls: str  # torchvision.datasets class name, or "CUB200"
    splits: Mapping[str, Mapping[str, Any]]
    num_classes: int
    can_download: bool = True

    def constructor(self) -> Callable[..., Any]:
        if self.cls == "CUB200":
            return CUB200
        import torchvision.datasets

        return getattr(torchvision.datasets, self.cls)

    def root(self, options: Mapping[str, Any]) -> Path:
        return Path(options["root"]).expanduser() if options.get("root") else data_root(options) / self.name

    def kwargs(self, split: str, options: Mapping[str, Any]) -> dict[str, Any]:
        if split not in self.splits:
            raise ConfigError(f"dataset {self.name!r} has no split {split!r} (splits: {', '.join(self.splits)})")
        kw = dict(self.splits[split])
        if self.cls == "DTD":
            kw["partition"] = int(options.get("partition", 1))
        return kw

    def missing_message(self, root: Path, exc: BaseException | None) -> str:
        why = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        if not self.can_download:
            return (
                f"dataset {self.name!r} not found under {root}{why}; it cannot be downloaded automatically "
                f"(the original URL is gone): put the files there by hand (see facebench.tasks.classification.datasets.torchvision_sets)"
            )
        return (
            f"dataset {self.name!r} not found under {root}{why}; allow downloading it with `download: true` in the "
            f"config or `--allow-download`, or put the files there (data root: options.data_root, ${DATA_ENV}, "
            f"default ~/.cache/facebench/data)"
        )

    def open(self, split: str, download: bool, options: Mapping[str, Any]):
        root = self.root(options)
        kw = self.kwargs(split, options)
        try:
            return _open_cached(self.name, str(root), tuple(sorted(kw.items())), bool(download and self.can_download))
        except (RuntimeError, FileNotFoundError, OSError, ValueError) as exc:
            raise ConfigError(self.missing_message(root, exc)) from None

    def params(self) -> dict[str, ParamRule]:
        """The parameters an instance takes (DatasetSpec.params): its folder or data root; DTD's partition."""
        rules = {"root": ANY, "data_root": ANY}
        if self.cls == "DTD":
            rules["partition"] = integer(1, 10)
        return rules

    # DatasetSpec callables ------------------------------------------------------------------
    def load(self, split: str, ctx=None, **options: Any):
        download = bool(getattr(ctx, "download", False))
        return self.open(split, download, options)

    def check(self, ctx=None, **options: Any) -> None:
        if getattr(ctx, "download", False) and self.can_download:
            return  # fetched on first use
        for split in self.splits:
            self.open(split, False, options)

    def spec(self) -> DatasetSpec:
        return DatasetSpec(
            self.name, self.summary, "classification", self.load,
            splits=tuple(self.splits), num_classes=self.num_classes, offline=False, check=self.check,
            params=self.params(),
        )


@functools.lru_cache(maxsize=32)
def _open_cached(name: str, root: str, kw: tuple, download: bool):
    """One dataset object per (dataset, root, split arguments), reused within a process."""
    if download:
        Path(root).mkdir(parents=True, exist_ok=True)
    return BY_NAME[name].constructor()(root, download=download, **dict(kw))


PAPER_SETS = (
    TorchvisionSet("cifar-10", "CIFAR-10 (Krizhevsky, 2009): 50k/10k 32x32, 10 classes", "CIFAR10",
                   {"train": {"train": True}, "test": {"train": False}}, 10),
    TorchvisionSet("cifar-100", "CIFAR-100 (Krizhevsky, 2009): 50k/10k 32x32, 100 classes", "CIFAR100",
                   {"train": {"train": True}, "test": {"train": False}}, 100),
    TorchvisionSet("oxford-pets", "Oxford-IIIT Pets (Parkhi et al., 2012): 37 breeds, trainval/test", "OxfordIIITPet",
                   {"train": {"split": "trainval"}, "test": {"split": "test"}}, 37),
    TorchvisionSet("cub-200-2011", "CUB-200-2011 birds (Wah et al., 2011): 200 classes, official split", "CUB200",
                   {"train": {"train": True}, "test": {"train": False}}, 200),
    TorchvisionSet("gtsrb", "GTSRB traffic signs (Houben et al., 2013): 43 classes", "GTSRB",
                   {"train": {"split": "train"}, "test": {"split": "test"}}, 43),
    TorchvisionSet("dtd", "Describable Textures (Cimpoi et al., 2014): 47 classes, partition 1", "DTD",
                   {"train": {"split": "train"}, "test": {"split": "test"}}, 47),
    TorchvisionSet("stl-10", "STL-10 (Coates et al., 2011): 5k/8k 96x96 labelled, 10 classes", "STL10",
                   {"train": {"split": "train"}, "test": {"split": "test"}}, 10),
    TorchvisionSet("flowers-102", "Oxford Flowers 102 (Nilsback & Zisserman): 102 classes", "Flowers102",
                   {"train": {"split": "train"}, "test": {"split": "test"}}, 102),
    TorchvisionSet("stanford-cars", "Stanford Cars (Krause et al., 2013): 196 classes; manual download only",
                   "StanfordCars", {"train": {"split": "train"}, "test": {"split": "test"}}, 196, can_download=False),
    TorchvisionSet("country-211", "Country211 (Radford et al., 2021): geolocation, 211 classes", "Country211",
                   {"train": {"split": "train"}, "test": {"split": "test"}}, 211),
    TorchvisionSet("food-101", "Food-101 (Bossard et al., 2014): 101 classes", "Food101",
                   {"train": {"split": "train"}, "test": {"split": "test"}}, 101),
    TorchvisionSet("svhn", "SVHN (Netzer et al., 2011): street-view house numbers, 10 classes", "SVHN",
                   {"train": {"split": "train"}, "test": {"split": "test"}}, 10),
    TorchvisionSet("fgvc-aircraft", "FGVC Aircraft (Maji et al., 2013): 100 variants, trainval/test", "FGVCAircraft",
                   {"train": {"split": "trainval"}, "test": {"split": "test"}}, 100),
)

BY_NAME = {ds.name: ds for ds in PAPER_SETS}
DATASETS = tuple(ds.spec() for ds in PAPER_SETS)
