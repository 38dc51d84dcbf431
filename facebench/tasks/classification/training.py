"""Training and inference loops shared by source pre-training, extraction and fine-tuning.

On CUDA, training runs under ``torch.autocast`` (bfloat16 where supported, else float16 with a
GradScaler); features, logits and losses are returned in float32. On CPU everything is float32.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .options import TaskOptions


def setup_torch(opts: TaskOptions, device: str) -> None:
    """Thread count on CPU (``options.num_threads``)."""
    if opts.num_threads and not str(device).startswith("cuda"):
        if torch.get_num_threads() != opts.num_threads:
            torch.set_num_threads(opts.num_threads)


def is_cuda(device: str) -> bool:
    return str(device).startswith("cuda")


@dataclass
class Amp:
    """Mixed precision for one device: ``with amp.autocast(): ...`` and a (possibly disabled) scaler."""

    device: str

    def __post_init__(self) -> None:
        self.enabled = is_cuda(self.device)
        self.dtype = None
        if self.enabled:
            self.dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.enabled and self.dtype == torch.float16)

    def autocast(self):
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.dtype)

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()


def make_loader(dataset, batch_size: int, *, shuffle: bool, seed: int = 0, num_workers: int = 0):
    """A DataLoader; shuffling draws from its own generator seeded with ``seed``.

    The last batch is dropped only when it would hold a single item (BatchNorm cannot train on it).
    """
    from torch.utils.data import DataLoader

    n = len(dataset)
    drop_last = shuffle and n > batch_size and n % batch_size == 1
    gen = torch.Generator().manual_seed(int(seed)) if shuffle else None
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, generator=gen, num_workers=num_workers,
        drop_last=drop_last, persistent_workers=False,
    )


def train_epoch(net, loader, optimizer, loss_fn: Callable, device: str, amp: Amp, generator: torch.Generator | None = None) -> float:
    """One pass over ``loader``; ``loss_fn(net, x, y, generator)``; returns the mean batch loss."""
    net.train()
    total, count = 0.0, 0
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with amp.autocast():
            loss = loss_fn(net, x, y, generator)
        amp.step(loss, optimizer)
        total += float(loss.detach()) * x.shape[0]
        count += x.shape[0]
    return total / max(count, 1)


@torch.no_grad()
def predict(net, loader, device: str, *, features: bool = True, logits: bool = True) -> dict[str, np.ndarray]:
    """Eval-mode pass: float32 ``features`` (penultimate) and/or ``logits``, and ``labels``."""
    net.eval()
    amp = Amp(device)
    feats, outs, labels = [], [], []
    for x, y in loader:
        x = x.to(device, non_blocking=True)
        with amp.autocast():
            h = net.features(x)
        h = h.float()
        if features:
            feats.append(h.cpu())
        if logits:
            outs.append(net.head(h).float().cpu())  # the head in float32, outside autocast
        labels.append(y)
    out = {"labels": torch.cat(labels).numpy()}
    if features:
        out["features"] = torch.cat(feats).numpy()
    if logits:
        out["logits"] = torch.cat(outs).numpy()
    return out


@torch.no_grad()
def recalibrate_batchnorm(net, loader, device: str) -> int:
    """Re-estimate every BatchNorm's running mean/var on ``loader`` (cumulative average, no grad).

    After a short fine-tuning the running statistics still mostly hold the source data's (with
    momentum 0.1, 0.9^steps of them remain), so eval-mode predictions use statistics that the
    trained weights never saw. One pass in train mode with ``momentum=None`` replaces them by the
    target's (as ``torch.optim.swa_utils.update_bn`` does). Only the BN layers run in train mode:
    dropout and drop-path stay off, so the statistics are those of the inference-time network and
    no random numbers are drawn. Returns the number of BN layers.
    """
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return 0
    momenta = {m: m.momentum for m in bns}
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    was_training = net.training
    net.eval()
    for m in bns:
        m.train()
    amp = Amp(device)
    for x, _ in loader:
        with amp.autocast():
            net.features(x.to(device, non_blocking=True))
    for m, mom in momenta.items():
        m.momentum = mom
    net.train(was_training)
    return len(bns)
