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
