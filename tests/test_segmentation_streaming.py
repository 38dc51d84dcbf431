"""Segmentation splits streamed from disk through mmseg's dataset classes: the same tensors as the
old in-memory path, bit for bit; never a whole split in memory; the paper's datasets in their own
layouts (``DATASETS.build``) end to end; no mmseg deprecation warning from the model builder.
Skipped where mmseg (with mmcv's compiled ops) does not import."""
from __future__ import annotations

import json
import sqlite3
import warnings
import weakref
from pathlib import Path

import numpy as np
import pytest

try:
    import mmseg.models  # noqa: F401  (imports mmcv.ops)
except Exception as exc:  # ImportError, or mmseg's assertion on the mmcv version
    pytest.skip(f"mmsegmentation unavailable: {exc}", allow_module_level=True)

import torch

from facebench.plugins import get_plugins
from facebench.tasks.base import DatasetInstance, ModelSpec
from facebench.tasks.segmentation import data as seg_data
from facebench.tasks.segmentation.data import load_split, split_files
from facebench.tasks.segmentation.evaluate import evaluate_split, segmentation_scores
from facebench.tasks.segmentation.mm import build_pspnet, init_mmseg, pspnet_config
from facebench.tasks.segmentation.options import TaskOptions
from facebench.tasks.segmentation.pixels import sample_pixels
from facebench.tasks.segmentation.training import pixel_outputs, predict_labels, to_model_inputs, train

from segmentation_helpers import (CLASSES, IGNORE, paper_instance, run_tiny_segmentation, seg_ctx, segnet_instance,
                                  write_ade20k, write_cityscapes, write_segnet, write_voc)

HERE = Path(__file__).parent
TINY = {"depth": 18, "base_channels": 8, "channels": 16}


def eager_split(name: str, split: str, ctx, opts: TaskOptions, limit=None):
    """The former ``load_split``, kept here as the reference: mmseg's ``BaseSegDataset`` read whole
    into memory, RGB uint8 images and int64 label maps."""
    init_mmseg()
    from mmseg.datasets import BaseSegDataset

    files = split_files(name, split, ctx)
    pipeline = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations")]
    if opts.image_size is not None:
        pipeline.append(dict(type="Resize", scale=(opts.image_size[1], opts.image_size[0]), keep_ratio=False))
    ds = BaseSegDataset(
        img_suffix=files.img_suffix, seg_map_suffix=files.seg_map_suffix, metainfo=dict(classes=list(files.classes)),
        data_prefix=dict(img_path=str(files.img_dir), seg_map_path=str(files.ann_dir)),
        pipeline=pipeline, test_mode=True, ignore_index=files.ignore_index, serialize_data=False,
    )
    n = len(ds) if limit is None else min(limit, len(ds))
    images, labels = [], []
    for i in range(n):
        item = ds[i]
        img = np.asarray(item["img"])
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        images.append(img[..., ::-1][..., :3])
        labels.append(np.asarray(item["gt_seg_map"], np.int64))
    return np.ascontiguousarray(np.stack(images)), np.stack(labels)


def _cases(tmp_path):
    """(ctx, target name, options): the embedded scenes (a small draw) and a written SegNet folder resized."""
    scenes = DatasetInstance("few-scenes", get_plugins().datasets.get("scenes-fashion"), {"train": 10, "test": 6})
    folder = segnet_instance(write_segnet(tmp_path / "folder", 9, 5))
    ctx = seg_ctx(tmp_path, [scenes, folder])
    return [(ctx, "few-scenes", TaskOptions.parse({"train_images": 9})),
            (ctx, folder.name, TaskOptions.parse({"image_size": [24, 40]}))]


def _equal_inputs(net, a, b, training):
    xa, sa = to_model_inputs(net, *a, training)
    xb, sb = to_model_inputs(net, *b, training)
    assert xa.dtype == xb.dtype and torch.equal(xa, xb)
    for u, v in zip(sa, sb):
        if a[1] is not None:
            assert torch.equal(u.gt_sem_seg.data, v.gt_sem_seg.data)
        assert u.metainfo == v.metainfo


# -- the streamed split equals the former in-memory one, bit for bit -------------------------------
def test_streamed_split_equals_the_eager_path_batch_by_batch(tmp_path):
    torch.manual_seed(0)
    net = build_pspnet(ModelSpec("t", "pspnet", options=TINY), len(CLASSES)).eval()
    for ctx, name, opts in _cases(tmp_path):
        lazy = load_split(name, "train", ctx, opts, opts.train_images)
        images, labels = eager_split(name, "train", ctx, opts, opts.train_images)
        assert len(lazy) == len(images) and lazy.image_shape == images.shape[1:3]
        for i in range(len(lazy)):  # every image and label map, values and dtype
            img, lab = lazy.read(i)
            assert img.dtype == np.uint8 and lab.dtype == np.uint8
            assert np.array_equal(img, images[i]) and np.array_equal(lab, labels[i])
        gen = np.random.default_rng(3)  # the batches of two training epochs (train()'s order) ...
        for _ in range(2):
            order = gen.permutation(len(lazy))
            for b in range(len(lazy) // 4):
                idx = np.sort(order[b * 4 : (b + 1) * 4])
                _equal_inputs(net, lazy.batch(idx), (images[idx], labels[idx]), True)
        for start in range(0, len(lazy), 4):  # ... and of inference
            idx = np.arange(start, min(start + 4, len(lazy)))
            _equal_inputs(net, (lazy.batch(idx)[0], None), (images[idx], None), False)
        a = sample_pixels(lazy.label_maps(), lazy.ignore_index, 30, 5, seed=0)
        b = sample_pixels(labels, IGNORE, 30, 5, seed=0)
        for f in ("image", "row", "col", "label"):
            assert np.array_equal(getattr(a, f), getattr(b, f))
        fa, la = pixel_outputs(net, lazy, a, batch_size=4)
        fb, lb = pixel_outputs(net, images, b, batch_size=4)
        assert np.array_equal(fa, fb) and np.array_equal(la, lb)


def test_a_tiny_finetuning_gives_the_same_losses_weights_and_scores(tmp_path):
    """Train the same network from the same state on the eager arrays and on the streamed split."""
    ctx, name, opts = _cases(tmp_path)[1]
    train_lazy, test_lazy = load_split(name, "train", ctx, opts), load_split(name, "test", ctx, opts)
    (train_x, train_y), (test_x, test_y) = eager_split(name, "train", ctx, opts), eager_split(name, "test", ctx, opts)
    torch.manual_seed(0)
    start = build_pspnet(ModelSpec("t", "pspnet", options=TINY), len(CLASSES)).state_dict()
    results = []
    for data in ((train_x, train_y), (train_lazy,)):
        net = build_pspnet(ModelSpec("t", "pspnet", options=TINY), len(CLASSES))
        net.load_state_dict(start)
        torch.manual_seed(7)  # dropout
        losses = train(net, *data, epochs=2, batch_size=4, lr=0.01, momentum=0.9, weight_decay=5e-4,
                       warmup_iters=2, power=0.9, seed=5)
        results.append((losses, net.state_dict(), net))
    (loss_a, state_a, net_a), (loss_b, state_b, net_b) = results
    assert loss_a == loss_b
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    old = segmentation_scores(predict_labels(net_a, test_x, 3), test_y, len(CLASSES), IGNORE)
    new = evaluate_split(net_b, test_lazy, 3)
    assert old["miou"] == new["miou"] and old["pixel_acc"] == new["pixel_acc"] and "macc" in new


# -- never a whole split in memory ----------------------------------------------------------------
def test_a_split_is_never_held_whole(tmp_path, monkeypatch):
    """Every decoded image (and every stacked batch) is tracked by a weak reference: at no read are
    more than two batches' images alive, and images are read one at a time, batch after batch."""
    ctx = seg_ctx(tmp_path, [segnet_instance(write_segnet(tmp_path / "t", 12, 2))])
    split = load_split("tiny-segnet", "train", ctx, TaskOptions())
    alive: list[tuple[weakref.ref, int]] = []
    peak, reads = [0], [0]

    def count() -> int:
        return sum(n for ref, n in alive if ref() is not None)

    read, batch = seg_data.SegSplit.read, seg_data.SegSplit.batch

    def spy_read(self, i):
        img, lab = read(self, i)
        reads[0] += 1
        alive.extend([(weakref.ref(img), 1), (weakref.ref(lab), 0)])
        peak[0] = max(peak[0], count())
        return img, lab

    def spy_batch(self, idx):
        images, labels = batch(self, idx)
        alive.append((weakref.ref(images), len(images)))
        return images, labels

    monkeypatch.setattr(seg_data.SegSplit, "read", spy_read)
    monkeypatch.setattr(seg_data.SegSplit, "batch", spy_batch)
    torch.manual_seed(0)
    net = build_pspnet(ModelSpec("t", "pspnet", options=TINY), len(CLASSES))
    train(net, split, epochs=2, batch_size=4, lr=0.01, momentum=0.9, weight_decay=0.0, warmup_iters=0, power=0.9, seed=0)
    assert reads[0] == 2 * 12  # 2 epochs of 3 batches of 4, each image read when its batch needs it
    sample = sample_pixels(split.label_maps(), split.ignore_index, 20, 3)
    pixel_outputs(net, split, sample, batch_size=4)
    evaluate_split(net, split, 4)
    assert reads[0] == 2 * 12 + 3 * 12
    assert 0 < peak[0] <= 2 * 4 < len(split), peak[0]
    assert not any(isinstance(v, np.ndarray) for v in vars(split).values())  # the split holds no pixels


# -- the paper's datasets in their own layouts, through mmseg's dataset classes --------------------
def test_cityscapes_layout_through_datasets_build_into_the_loader(tmp_path):
    root = write_cityscapes(tmp_path / "cs")
    inst = paper_instance("cityscapes", root)
    ctx = seg_ctx(tmp_path, [inst])
    train_split = load_split(inst.name, "train", ctx, TaskOptions())
    test_split = load_split(inst.name, "test", ctx, TaskOptions())
    assert type(train_split.dataset).__name__ == "CityscapesDataset"  # built by mmseg.registry.DATASETS
    assert len(train_split) == 4 and train_split.image_shape == (32, 64) and train_split.num_classes == 19
    assert train_split.on_disk == "train" and test_split.on_disk == "val" and len(test_split) == 2
    from PIL import Image

    for i, path in enumerate(train_split.paths):  # decoded exactly as written, in mmseg's (city, name) order
        img, lab = train_split.read(i)
        label_path = path.replace("leftImg8bit", "gtFine", 1).replace("_leftImg8bit.png", "_gtFine_labelTrainIds.png")
        assert np.array_equal(img, np.asarray(Image.open(path))) and np.array_equal(lab, np.asarray(Image.open(label_path)))
    assert [Path(p).parent.name for p in train_split.paths] == ["aachen", "aachen", "bochum", "bochum"]
    images, labels = train_split.batch([1, 3])
    assert images.shape == (2, 32, 64, 3) and labels.dtype == np.uint8 and set(np.unique(labels)) <= set(range(19)) | {255}
    assert not np.all(test_split.batch([0])[1] == IGNORE)  # val labels, not the test placeholders


def test_ade20k_and_voc_layouts_through_datasets_build(tmp_path):
    from PIL import Image

    ade = paper_instance("ade20k", write_ade20k(tmp_path / "ade"), classes=["wall", "building", "sky"])
    voc = paper_instance("voc2012", write_voc(tmp_path / "voc"), classes=["background", "aeroplane", "bicycle"])
    ctx = seg_ctx(tmp_path, [ade, voc])
    a = load_split(ade.name, "train", ctx, TaskOptions())
    assert type(a.dataset).__name__ == "ADE20KDataset" and len(a) == 3
    raw = np.asarray(Image.open(a.files.pairs[0][1]))
    expected = np.where(raw == 0, 255, raw.astype(np.int64) - 1)  # reduce_zero_label
    assert np.array_equal(a.read(0)[1], expected) and a.read(0)[0].shape == (24, 32, 3)
    v = load_split(voc.name, "train", ctx, TaskOptions(image_size=(12, 16)))
    assert type(v.dataset).__name__ == "PascalVOCDataset"
    assert [Path(p).stem for p in v.paths] == ["2007_000033", "2007_000005", "2007_000012"]  # split-file order
    lab = v.read(1)[1]
    assert lab.shape == (12, 16) and set(np.unique(lab)) <= {0, 1, 2, 255} and 255 in lab  # palette indices
    assert load_split(voc.name, "test", ctx, TaskOptions()).on_disk == "val"


def test_a_cityscapes_layout_target_in_a_tiny_run(tmp_path, monkeypatch):
    """From a config: a Cityscapes-layout target, the 2-model tiny zoo, one seed; mAcc recorded."""
    monkeypatch.syspath_prepend(str(HERE))
    write_cityscapes(tmp_path / "cs")
    cfg = run_tiny_segmentation(tmp_path, "cs", {"type": "cityscapes", "root": str(tmp_path / "cs")},
                                metrics=["logme", "leep"], seeds=[0], batch_size=2, pixels_per_class=10)
    db = sqlite3.connect(cfg.store)
    truths = db.execute("SELECT statistic, value FROM ground_truth").fetchall()
    assert sorted({t for t, _ in truths}) == ["macc", "miou", "pixel_acc"] and len(truths) == 6
    assert all(0.0 <= v <= 1.0 for _, v in truths)
    board = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert board["benchmarks"][0]["targets"] == ["cs"]


# -- mmseg's deprecation warning --------------------------------------------------------------------
def test_building_the_embedded_model_emits_no_deprecation_warning():
    from mmengine.config import ConfigDict
    from mmseg.registry import MODELS

    model = get_plugins().zoos.get("embedded-segmentation").models[0]
    filters = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_pspnet(model, 5, loss="ce+dice")
    assert not [w for w in caught if "deprecated soon" in str(w.message)], [str(w.message) for w in caught]
    assert warnings.filters == filters  # no global filter left behind
    with warnings.catch_warnings(record=True) as caught:  # the control: mmseg's builder itself warns
        warnings.simplefilter("always")
        MODELS.build(ConfigDict(pspnet_config(5, depth=18, base_channels=16, channels=64)))
    assert any("build_loss`` would be deprecated soon" in str(w.message) for w in caught)
