"""Classification's inference passes: penultimate features and logits, BatchNorm re-estimation.

Both assume the classification network's split into ``net.features`` and ``net.head``
(:mod:`.models`); the generic loops (mixed precision, loaders, one training epoch) are in
:mod:`facebench.torch_utils`.
"""
from __future__ import annotations

import numpy as np
import torch

from ...torch_utils import Amp, prepare_device
from .options import TaskOptions


def setup_torch(opts: TaskOptions, device: str) -> None:
    """Thread count on CPU (``options.num_threads``); deterministic kernels on CUDA (torch_utils.prepare_device)."""
    prepare_device(opts.num_threads, device)


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
