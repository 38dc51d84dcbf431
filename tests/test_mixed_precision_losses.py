"""Every training loss under mixed precision, checked on the CPU.

On CUDA, pre-training and fine-tuning run under ``torch.autocast`` (``torch_utils.Amp``), which
machines without a GPU never exercise. CPU autocast with bfloat16 casts the same operations
(matrix products to bfloat16, norms and reductions kept in float32), so a loss that mixes the two
dtypes fails here as it would on the GPU. The first GPU run found one: large-margin's scatter of
a float32 target logit into bfloat16 logits. Each loss must run, return float32, back-propagate
finite gradients, and stay within bfloat16's precision of its float32 value.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from facebench.tasks.classification.losses import LOSSES, get_loss
from facebench.tasks.classification.models import Net
from facebench.tasks.text.heads import HEADS, LOSSES as TEXT_LOSSES, build_head, get_loss as get_text_loss

K, D, N = 5, 24, 16
BF16_REL = 0.05  # bfloat16 keeps 8 significant bits: products of D=24 terms agree to a few per cent


class _Flat(nn.Module):
    def forward(self, x):
        return x.flatten(1)


def _image_batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, 1, 4, 6, generator=g)  # 24 pixels: cutmix and cutout need an image
    y = torch.randint(K, (N,), generator=g)
    return x, y


def _run(loss_fn, net, x, y, autocast: bool, seed: int = 0):
    net.zero_grad(set_to_none=True)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # dropout masks of the text heads
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=autocast):
        loss = loss_fn(net, x, y, gen)
    loss.backward()
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    return loss, grads


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_source_loss_under_bfloat16_autocast(name):
    torch.manual_seed(0)
    net = Net(_Flat(), nn.Linear(D, K), D)
    x, y = _image_batch()
    loss_fn = get_loss(name, K)
    ref, _ = _run(loss_fn, net, x, y, autocast=False)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        assert net(x).dtype == torch.bfloat16  # the check is live: autocast does cast the head's product
    loss, grads = _run(loss_fn, net, x, y, autocast=True)
    assert loss.dtype == torch.float32
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert loss.item() == pytest.approx(ref.item(), rel=BF16_REL)


class _TextNet(nn.Module):
    """A body (one linear layer) and a text head, with the head's ``sample_logits`` as the task's net."""

    def __init__(self, head: str):
        super().__init__()
        self.body = nn.Linear(D, 12)
        self.head = build_head(head, 12, K, dropout=0.1)

    def forward(self, x):
        return self.head(self.body(x))

    def sample_logits(self, x):
        return self.head.sample_logits(self.body(x))


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("loss_kind", TEXT_LOSSES)
def test_text_loss_under_bfloat16_autocast(head, loss_kind):
    torch.manual_seed(0)
    net = _TextNet(head).train()
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(N, D, generator=g), torch.randint(K, (N,), generator=g)
    loss_fn = get_text_loss(loss_kind)
    ref, _ = _run(loss_fn, net, x, y, autocast=False)
    loss, grads = _run(loss_fn, net, x, y, autocast=True)
    assert loss.dtype == torch.float32
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert loss.item() == pytest.approx(ref.item(), rel=BF16_REL)


class _CpuBf16Amp:
    """``torch_utils.Amp`` as on a GPU without float16 scaling, on the CPU: bfloat16 autocast."""

    def __init__(self, device: str) -> None:
        self.enabled, self.dtype = True, torch.bfloat16

    def autocast(self):
        return torch.autocast(device_type="cpu", dtype=torch.bfloat16)

    def step(self, loss, optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def _segmentation_losses():
    try:
        import mmseg.models  # noqa: F401  (imports mmcv.ops)
    except Exception:  # pragma: no cover - the seg extra is not installed
        return []
    from facebench.tasks.segmentation.mm import LOSSES as SEG_LOSSES

    return sorted(SEG_LOSSES)


@pytest.mark.parametrize("loss", _segmentation_losses() or [pytest.param("ce", marks=pytest.mark.skip("no mmseg"))])
def test_segmentation_training_under_bfloat16_autocast(loss, monkeypatch):
    """Two epochs of the task's own ``train`` (mmseg PSPNet, its decode and auxiliary losses)."""
    import numpy as np

    from facebench.tasks.base import ModelSpec
    from facebench.tasks.segmentation import training
    from facebench.tasks.segmentation.mm import build_pspnet

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8, 24, 24, 3), dtype=np.uint8)
    labels = rng.integers(0, 3, (8, 24, 24)).astype(np.int64)
    spec = ModelSpec("t", "pspnet", options={"depth": 18, "base_channels": 8, "channels": 16})
    kwargs = dict(epochs=2, batch_size=4, lr=0.01, momentum=0.9, weight_decay=0.0, warmup_iters=0, power=0.9, seed=0)

    torch.manual_seed(0)
    ref = training.train(build_pspnet(spec, 3, loss=loss), images, labels, **kwargs)
    monkeypatch.setattr(training, "Amp", _CpuBf16Amp)
    torch.manual_seed(0)
    net = build_pspnet(spec, 3, loss=loss)
    mixed = training.train(net, images, labels, **kwargs)
    assert all(np.isfinite(mixed)) and all(torch.isfinite(p).all() for p in net.parameters())
    assert mixed[0] == pytest.approx(ref[0], rel=BF16_REL)  # the first epoch starts from the same weights
