"""Helpers of the segmentation tests: a tiny SegNet-layout dataset written on disk."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PIL import Image

from facebench.plugins import get_plugins
from facebench.runner.context import task_context
from facebench.tasks.base import DatasetInstance, Zoo

CLASSES = ["background", "square", "disc"]
IGNORE = 255


def tiny_scene(rng: np.random.Generator, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """A noisy image with a bright square (class 1), a dark disc (class 2) and an ignored border."""
    img = rng.integers(90, 160, (size, size, 3)).astype(np.uint8)
    lab = np.zeros((size, size), np.uint8)
    y, x = rng.integers(2, size - 12, 2)
    img[y : y + 10, x : x + 10] = 230
    lab[y : y + 10, x : x + 10] = 1
    yy, xx = np.mgrid[0:size, 0:size]
    cy, cx = rng.integers(6, size - 6, 2)
    disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= 16
    img[disc] = 20
    lab[disc] = 2
    lab[0, :] = IGNORE
    return img, lab


def write_segnet(root: Path, n_train: int = 8, n_test: int = 4, seed: int = 0) -> Path:
    """root/{train,trainannot,test,testannot}/NNN.png"""
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        (root / split).mkdir(parents=True, exist_ok=True)
        (root / f"{split}annot").mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img, lab = tiny_scene(rng)
            Image.fromarray(img).save(root / split / f"{i:03d}.png")
            Image.fromarray(lab).save(root / f"{split}annot" / f"{i:03d}.png")
    return root


def segnet_instance(root: Path, name: str = "tiny-segnet") -> DatasetInstance:
    spec = get_plugins().datasets.get("segnet-folder")
    return DatasetInstance(name, spec, {"root": str(root), "classes": CLASSES, "ignore_index": IGNORE})


def seg_ctx(tmp_path: Path, instances=(), models=(), options=None):
    ctx = task_context(get_plugins(), cache_dir=tmp_path / "cache", quiet=True, options=dict(options or {}),
                       instances={i.name: i for i in instances})
    if models:
        ctx.zoos = {**ctx.zoos, "tiny-seg": Zoo("tiny-seg", "test zoo", "segmentation", tuple(models), offline=True)}
    return ctx


def bench(targets, zoo: str = "tiny-seg", finetune=None, options=None):
    return SimpleNamespace(task="segmentation", zoo=zoo, targets=tuple(targets), seeds=(0,),
                           finetune=dict(finetune or {}), options=dict(options or {}))


# -- the paper's datasets in their own layouts (tiny) --------------------------------------------
CITYSCAPES_CITIES = ("aachen", "bochum")


def _striped(rng: np.random.Generator, shape, num_classes: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertical stripes of classes offset, offset+1, ... (4 px wide) and an image coloured by class."""
    h, w = shape
    lab = ((np.arange(w)[None, :] // 4 + offset) % num_classes * np.ones((h, 1), int)).astype(np.uint8)
    palette = np.random.default_rng(1).integers(0, 256, (256, 3))
    img = np.clip(palette[lab] + rng.integers(-20, 21, (h, w, 3)), 0, 255).astype(np.uint8)
    return img, lab


def write_cityscapes(root: Path, per_city=None, shape=(32, 64), seed: int = 0) -> Path:
    """root/leftImg8bit/<split>/<city>/<city>_000000_0000NN_leftImg8bit.png and
    root/gtFine/<split>/<city>/..._gtFine_labelTrainIds.png (19 classes, 255 ignored; the test split's
    labels all 255, as Cityscapes' public test labels), with the other gtFine files beside them."""
    rng = np.random.default_rng(seed)
    per_city = per_city or {"train": 2, "val": 1, "test": 1}
    for split, n in per_city.items():
        for c, city in enumerate(CITYSCAPES_CITIES):
            (root / "leftImg8bit" / split / city).mkdir(parents=True, exist_ok=True)
            (root / "gtFine" / split / city).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                stem = f"{city}_000000_{i:06d}"
                img, lab = _striped(rng, shape, 19, offset=3 * i + 7 * c)
                lab[0, :] = IGNORE
                if split == "test":
                    lab[:] = IGNORE
                Image.fromarray(img).save(root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png")
                gt = root / "gtFine" / split / city
                Image.fromarray(lab).save(gt / f"{stem}_gtFine_labelTrainIds.png")
                Image.fromarray((lab + 7).astype(np.uint8)).save(gt / f"{stem}_gtFine_labelIds.png")  # distractors
                Image.fromarray(img).save(gt / f"{stem}_gtFine_color.png")
                (gt / f"{stem}_gtFine_polygons.json").write_text("{}")
    return root


def write_ade20k(root: Path, n_train: int = 3, n_val: int = 2, shape=(24, 32), seed: int = 0) -> Path:
    """root/ADEChallengeData2016/{images,annotations}/{training,validation}: 3 classes stored as 1..3,
    0 = "other" (ignored by reduce_zero_label)."""
    rng = np.random.default_rng(seed)
    base = root / "ADEChallengeData2016"
    for split, n in (("training", n_train), ("validation", n_val)):
        (base / "images" / split).mkdir(parents=True, exist_ok=True)
        (base / "annotations" / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img, lab = _striped(rng, shape, 4, offset=i)  # values 0..3: 0 is "other"
            Image.fromarray(img).save(base / "images" / split / f"ADE_{split}_{i:08d}.jpg", quality=95)
            Image.fromarray(lab).save(base / "annotations" / split / f"ADE_{split}_{i:08d}.png")
    return root


def write_voc(root: Path, train=("2007_000033", "2007_000005", "2007_000012"), val=("2007_000042", "2007_000001"),
              shape=(24, 32), seed: int = 0) -> Path:
    """root/VOCdevkit/VOC2012/{JPEGImages,SegmentationClass,ImageSets/Segmentation/{train,val}.txt}:
    palette PNGs of 3 classes with a 255 boundary; one image in no split file."""
    rng = np.random.default_rng(seed)
    base = root / "VOCdevkit" / "VOC2012"
    for d in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (base / d).mkdir(parents=True, exist_ok=True)
    for i, stem in enumerate((*train, *val, "2008_999999")):
        img, lab = _striped(rng, shape, 3, offset=i)
        lab[:, 4] = IGNORE
        Image.fromarray(img).save(base / "JPEGImages" / f"{stem}.jpg", quality=95)
        pal = Image.fromarray(lab).convert("P")
        pal.putpalette([v for k in range(256) for v in (k, 255 - k, (7 * k) % 256)])
        pal.save(base / "SegmentationClass" / f"{stem}.png")
    (base / "ImageSets/Segmentation/train.txt").write_text("\n".join(train) + "\n")
    (base / "ImageSets/Segmentation/val.txt").write_text("\n".join(val) + "\n")
    return root


def paper_instance(kind: str, root: Path, name: str | None = None, **params) -> DatasetInstance:
    spec = get_plugins().datasets.get(kind)
    return DatasetInstance(name or f"my-{kind}", spec, {"root": str(root), **params})


def run_tiny_segmentation(tmp_path: Path, target: str, target_dataset: dict, *, metrics, seeds, batch_size: int,
                          pixels_per_class: int):
    """``facebench run`` of the tiny 2-model zoo (tests/tiny_segmentation_plugin.py, which must be
    importable) on ``target`` (a dataset instance) after pre-training on a SegNet-layout source written
    here; boards in ``tmp_path/out``. Returns the loaded config (its store holds the run)."""
    import yaml

    from facebench.config import load_config
    from facebench.runner import RunOptions, run_benchmarks

    write_segnet(tmp_path / "source", 8, 2, seed=5)
    raw = {
        "name": "tiny-seg", "plugins": ["tiny_segmentation_plugin"], "metrics": list(metrics),
        "store": str(tmp_path / "r.sqlite"), "cache_dir": str(tmp_path / "cache"),
        "datasets": {target: target_dataset,
                     "tiny-source": {"type": "segnet-folder", "classes": CLASSES, "ignore_index": IGNORE,
                                     "root": str(tmp_path / "source")}},
        "benchmarks": [{"task": "segmentation", "zoo": "tiny-segmentation", "targets": [target], "seeds": list(seeds),
                        "finetune": {"epochs": 1, "batch_size": batch_size, "warmup_iters": 0},
                        "options": {"pixels_per_class": pixels_per_class, "pixels_per_image": 5}}],
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    cfg = load_config(tmp_path / "c.yaml")
    summary = run_benchmarks(cfg, RunOptions(quiet=True, device="cpu", leaderboard_dir=str(tmp_path / "out")))
    assert not summary.failed, summary.failed
    return cfg
