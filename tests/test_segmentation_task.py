"""The segmentation task with mmseg: IoUMetric against a confusion matrix, per-pixel features
against a direct forward pass, the same pixels for every model, and a SegNet-layout target end to
end through the runner. Skipped where mmseg (with mmcv's compiled ops) does not import."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

try:
    import mmseg.models  # noqa: F401  (imports mmcv.ops)
except Exception as exc:  # ImportError, or mmseg's assertion on the mmcv version
    pytest.skip(f"mmsegmentation unavailable: {exc}", allow_module_level=True)

import torch

from facebench.plugins import get_plugins
from facebench.tasks.base import ModelSpec, PretrainSpec
from facebench.tasks.segmentation.evaluate import segmentation_scores
from facebench.tasks.segmentation.mm import build_pspnet
from facebench.tasks.segmentation.pixels import sample_pixels
from facebench.tasks.segmentation.training import pixel_outputs, to_model_inputs

from segmentation_helpers import CLASSES, IGNORE, bench, run_tiny_segmentation, seg_ctx, segnet_instance, write_segnet

HERE = Path(__file__).parent
TINY = {"depth": 18, "base_channels": 8, "channels": 16}


def _pre(source, loss="ce"):
    return PretrainSpec(source, loss, epochs=1, lr=0.01, batch_size=4, options={"warmup_iters": 0})


# -- ground truth -------------------------------------------------------------------------------
def _confusion_scores(pred, true, k, ignore):
    """mIoU, pixel accuracy and mAcc from a confusion matrix built pixel by pixel (independent of mmseg)."""
    cm = np.zeros((k, k), np.int64)
    for p, t in zip(pred.reshape(-1), true.reshape(-1)):
        if t != ignore:
            cm[t, p] += 1
    ious, accs = [], []
    for c in range(k):
        union = cm[c, :].sum() + cm[:, c].sum() - cm[c, c]
        if union > 0:
            ious.append(cm[c, c] / union)
        if cm[c, :].sum() > 0:  # classes present in the ground truth
            accs.append(cm[c, c] / cm[c, :].sum())
    return float(np.mean(ious)), float(np.trace(cm) / cm.sum()), float(np.mean(accs))


def test_miou_pixel_accuracy_and_macc_match_a_confusion_matrix(tmp_path):
    rng = np.random.default_rng(0)
    k = 4
    true = rng.integers(0, k, (5, 12, 12))
    true[rng.random(true.shape) < 0.15] = IGNORE
    true[true == 3] = 0  # class 3 never true...
    pred = np.where(rng.random(true.shape) < 0.6, np.where(true == IGNORE, 1, true), rng.integers(0, k, true.shape))
    np.savez(tmp_path / "preds.npz", pred=pred, true=true)  # scored from saved predictions
    saved = np.load(tmp_path / "preds.npz")
    got = segmentation_scores(saved["pred"], saved["true"], k, IGNORE)
    miou, acc, macc = _confusion_scores(saved["pred"], saved["true"], k, IGNORE)
    assert got["miou"] == pytest.approx(miou, abs=1e-12) and got["pixel_acc"] == pytest.approx(acc, abs=1e-12)
    assert got["macc"] == pytest.approx(macc, abs=1e-12) and abs(got["macc"] - got["pixel_acc"]) > 1e-3
    perfect = segmentation_scores(np.where(true == IGNORE, 2, true), true, k, IGNORE)
    assert perfect == {"miou": 1.0, "pixel_acc": 1.0, "macc": 1.0}  # ...and never predicted: absent from the mean


def test_macc_by_hand():
    """A 2x3 map: class 0 has 4 true pixels (3 right), class 1 has 1 (right), class 2 none (absent from
    mAcc but predicted once, so in mIoU with IoU 0); one pixel ignored."""
    true = np.array([[[0, 0, 0, 0], [1, IGNORE, 0, 1]]])
    pred = np.array([[[0, 0, 0, 2], [1, 1, 0, 0]]])
    # class 0: true at 5 pixels, predicted right at 4 -> acc 0.8; class 1: 2 true, 1 right -> 0.5
    got = segmentation_scores(pred, true, 3, IGNORE)
    assert got["macc"] == pytest.approx((4 / 5 + 1 / 2) / 2, abs=1e-12)
    assert got["pixel_acc"] == pytest.approx(5 / 7, abs=1e-12)
    # IoU: class 0: 4 / (5 + 5 - 4) = 4/6; class 1: 1 / (2 + 1 - 1) = 1/2; class 2: 0 / (0 + 1) = 0
    assert got["miou"] == pytest.approx((4 / 6 + 1 / 2 + 0) / 3, abs=1e-12)


# -- per-pixel features -------------------------------------------------------------------------
def test_pixel_features_equal_a_direct_forward_pass():
    torch.manual_seed(0)
    net = build_pspnet(ModelSpec("t", "pspnet", options=TINY), 3).eval()
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (3, 40, 48, 3)).astype(np.uint8)
    labels = rng.integers(0, 3, (3, 40, 48))
    sample = sample_pixels(labels, IGNORE, 25, 10, seed=0)
    feats, logits = pixel_outputs(net, images, sample, batch_size=2)
    i = 1  # one image, by hand: normalise, backbone, PSP bottleneck, bilinear upsampling
    x = torch.from_numpy(images[i].transpose(2, 0, 1).astype(np.float32))[None]
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    with torch.no_grad():
        f = net.decode_head._forward_feature(net.backbone((x - mean) / std))
        f = torch.nn.functional.interpolate(f, size=(40, 48), mode="bilinear", align_corners=False)[0]
        x_in, samples = to_model_inputs(net, images[i : i + 1], None, False)
        seg_logits = net.predict(x_in, samples)[0].seg_logits.data  # mmseg's own prediction path
    rows = sample.of_image(i)
    assert rows.size > 0
    direct = f[:, sample.row[rows], sample.col[rows]].T.numpy()
    np.testing.assert_allclose(feats[rows], direct, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(logits[rows], seg_logits[:, sample.row[rows], sample.col[rows]].T.numpy(),
                               rtol=1e-4, atol=1e-4)


# -- the task -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_model_is_scored_on_the_same_balanced_pixels(tmp_path):
    task = get_plugins().tasks.get("segmentation")
    target = segnet_instance(write_segnet(tmp_path / "target", 6, 2))
    source = segnet_instance(write_segnet(tmp_path / "source", 6, 2, seed=9), "tiny-source")
    models = (ModelSpec("a", "pspnet", None, pretrain=_pre("tiny-source"), options=TINY),
              ModelSpec("b", "pspnet", None, pretrain=_pre("tiny-source", "ce+lovasz"), options={**TINY, "channels": 8}))
    ctx = seg_ctx(tmp_path, [target, source], models, options={"pixels_per_class": 12, "pixels_per_image": 3})
    task.validate(bench([target.name]), ctx)
    a, b = (task.extract(m, target.name, ctx) for m in models)
    assert np.array_equal(a.labels, b.labels) and a.meta["pixels"] == b.meta["pixels"] == a.n
    assert a.features.shape[1] == 16 and b.features.shape[1] == 8 and a.probs.shape[1] == len(CLASSES)
    assert np.all(np.isfinite(a.features)) and np.allclose(a.probs.sum(axis=1), 1.0)
    assert a.meta["pixels_of_class"] == [12, 12, 12]  # 6 images x 3 per image >= 12 of each class


@pytest.mark.slow
def test_segnet_target_end_to_end_with_a_two_model_zoo(tmp_path, monkeypatch):
    """A SegNet-layout dataset written here, as a target from a config, a 2-model zoo, on CPU."""
    monkeypatch.syspath_prepend(str(HERE))
    write_segnet(tmp_path / "target", 8, 4)
    target = {"type": "segnet-folder", "classes": CLASSES, "ignore_index": IGNORE, "root": str(tmp_path / "target")}
    cfg = run_tiny_segmentation(tmp_path, "tiny-target", target, metrics=["logme", "leep", "face", "hscore"],
                                seeds=[0, 1], batch_size=4, pixels_per_class=20)
    db = sqlite3.connect(cfg.store)
    scores = db.execute("SELECT model, metric, score FROM scores").fetchall()
    assert len(scores) == 8 and all(v is not None and np.isfinite(v) for _, _, v in scores)
    board = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert board["benchmarks"][0]["targets"] == ["tiny-target"]
    truths = db.execute("SELECT statistic, value FROM ground_truth").fetchall()
    assert sorted({t for t, _ in truths}) == ["macc", "miou", "pixel_acc"] and len(truths) == 12
    assert all(0.0 <= v <= 1.0 for _, v in truths)
