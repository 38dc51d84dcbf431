"""Training and inference passes of an mmseg segmentor on splits streamed from disk.

A split is a :class:`~.data.SegSplit` (read by mmseg's pipeline, a batch at a time) or numpy
arrays (wrapped in :class:`~.data.ArraySplit`); only the images of the current batch are in memory.

* :func:`to_model_inputs`: RGB uint8 images (+ label maps) -> mmseg ``SegDataPreProcessor``
  output (normalised batch, ``SegDataSample`` list);
* :func:`train`: SGD with linear warm-up then poly decay (``lr * (1 - t / T) ** power``, per
  iteration: the WarmupPolyLR of the paper's §4.4), the segmentor's own ``loss`` (its
  ``loss_decode``), shuffling from a generator seeded with ``seed``;
* :func:`pixel_outputs`: the PSP bottleneck (``decode_head._forward_feature``, the decoder's last
  feature map before the classifier) upsampled to the label resolution with mmseg's ``resize``
  (bilinear, the head's ``align_corners``), read at the sampled pixels, and the classifier
  (``decode_head.cls_seg``) applied to those features. The classifier is a 1x1 convolution and
  bilinear upsampling is linear, so these logits equal those of mmseg's own ``predict`` (which
  upsamples the low-resolution logits) up to float rounding;
* :func:`predict_batches`: ``EncoderDecoder.predict`` -> per-pixel class maps, batch by batch
  (with the true label maps, for :func:`.evaluate.evaluate_split`); :func:`predict_labels` stacks them.
"""
from __future__ import annotations

import numpy as np
import torch

from ...torch_utils import Amp, prepare_device
from .data import ArraySplit


def as_split(images, labels=None):
    """A split (``len``, ``image_shape``, ``batch``) as is; numpy arrays wrapped in :class:`ArraySplit`."""
    return images if hasattr(images, "batch") else ArraySplit(images, labels)


def setup_torch(opts, device: str) -> None:
    prepare_device(opts.num_threads, device)


def to_model_inputs(net, images: np.ndarray, labels: np.ndarray | None, training: bool, device: str = "cpu"):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    inputs = [torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).to(device) for img in images]
    samples = []
    for i, img in enumerate(images):
        s = SegDataSample()
        h, w = img.shape[:2]
        s.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        if labels is not None:
            s.gt_sem_seg = PixelData(data=torch.from_numpy(np.asarray(labels[i], np.int64))[None].to(device))
        samples.append(s)
    data = net.data_preprocessor(dict(inputs=inputs, data_samples=samples), training)
    return data["inputs"], data["data_samples"]


def poly_lambda(total: int, warmup: int, power: float):
    """Learning-rate factor at iteration t: linear warm-up to 1, then (1 - t/T)^power."""
    def factor(t: int) -> float:
        if warmup and t < warmup:
            return (t + 1) / warmup
        return max(0.0, 1.0 - t / max(total, 1)) ** power

    return factor


def train(net, images, labels: np.ndarray | None = None, *, epochs: int, batch_size: int, lr: float,
          momentum: float, weight_decay: float, warmup_iters: int, power: float, seed: int, device: str = "cpu",
          bar=None) -> list[float]:
    """Train ``net`` in place on a split (or arrays ``images``, ``labels``); returns the mean loss of every epoch."""
    data = as_split(images, labels)
    n = len(data)
    per_epoch = max(1, n // batch_size) if n >= batch_size else 1
    total = epochs * per_epoch
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, poly_lambda(total, warmup_iters, power))
    gen = np.random.default_rng(seed)
    amp = Amp(device)
    losses = []
    net.train()
    epochs_iter = range(epochs) if bar is None else bar(range(epochs))
    for _ in epochs_iter:
        order = gen.permutation(n)
        total_loss = 0.0
        for b in range(per_epoch):
            idx = np.sort(order[b * batch_size : (b + 1) * batch_size])
            if len(idx) < 2:  # BatchNorm cannot train on one image
                continue
            batch_images, batch_labels = data.batch(idx)
            x, samples = to_model_inputs(net, batch_images, batch_labels, True, device)
            del batch_images, batch_labels
            with amp.autocast():  # CUDA: mixed precision (torch_utils.Amp); CPU: float32
                loss, _ = net.parse_losses(net.loss(x, samples))
            amp.step(loss, optimizer)
            schedule.step()
            total_loss += float(loss.detach())
        losses.append(total_loss / per_epoch)
    return losses


@torch.no_grad()
def pixel_outputs(net, images, sample, batch_size: int, device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """(features (n, C), source logits (n, K)) at the sampled pixels, in the sample's order."""
    from mmseg.models.utils import resize

    data = as_split(images)
    net.eval()
    head = net.decode_head
    feats, logits = [], []
    for start in range(0, len(data), batch_size):
        stop = min(start + batch_size, len(data))
        rows = np.flatnonzero((sample.image >= start) & (sample.image < stop))
        if rows.size == 0:
            continue
        batch_images = data.batch(range(start, stop))[0]
        x, _ = to_model_inputs(net, batch_images, None, False, device)
        f = head._forward_feature(net.extract_feat(x))
        f = resize(f, size=batch_images.shape[1:3], mode="bilinear", align_corners=head.align_corners)
        b = torch.from_numpy(sample.image[rows] - start)
        r, c = torch.from_numpy(sample.row[rows]), torch.from_numpy(sample.col[rows])
        at = f[b, :, r, c]  # (m, C)
        feats.append(at.cpu().numpy())
        logits.append(head.cls_seg(at[:, :, None, None])[:, :, 0, 0].cpu().numpy())
    return np.concatenate(feats).astype(np.float64), np.concatenate(logits).astype(np.float64)


@torch.no_grad()
def predict_batches(net, images, batch_size: int, device: str = "cpu"):
    """Per batch of ``batch_size`` images: ((b, H, W) int64 predicted class of every pixel
    (``EncoderDecoder.predict``), the batch's (b, H, W) label maps or None)."""
    data = as_split(images)
    net.eval()
    for start in range(0, len(data), batch_size):
        batch_images, batch_labels = data.batch(range(start, min(start + batch_size, len(data))))
        x, samples = to_model_inputs(net, batch_images, None, False, device)
        del batch_images
        pred = np.stack([s.pred_sem_seg.data[0].cpu().numpy().astype(np.int64) for s in net.predict(x, samples)])
        yield pred, batch_labels


def predict_labels(net, images, batch_size: int, device: str = "cpu") -> np.ndarray:
    """(N, H, W) int64 predicted class of every pixel (all in memory: small splits only)."""
    return np.concatenate([pred for pred, _ in predict_batches(net, images, batch_size, device)])
