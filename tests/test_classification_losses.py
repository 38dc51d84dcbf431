"""Source pre-training losses on tiny inputs whose values can be computed by hand."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from facebench.errors import ConfigError
from facebench.tasks.classification.losses import (
    LOSSES, CutMix, Cutout, LargeMargin, MixUp, cutmix_box, get_loss, mixed_ce,
)
from facebench.tasks.classification.models import Net

LN3 = math.log(3.0)


def _logits(*rows):
    return torch.tensor(rows, dtype=torch.float32)


class _Flat(nn.Module):
    def forward(self, x):
        return x.flatten(1)


def _tiny_net(in_dim: int, k: int, seed: int = 0) -> Net:
    torch.manual_seed(seed)
    return Net(_Flat(), nn.Linear(in_dim, k), in_dim)


def test_registry_names():
    assert set(LOSSES) == {"ce", "label-smoothing", "mixup", "cutmix", "cutout", "large-margin", "taylor"}
    for name, cls in LOSSES.items():
        assert cls.__doc__ and cls.name == name


def test_unknown_loss_and_bad_params_are_config_errors():
    with pytest.raises(ConfigError, match="unknown pre-training loss 'focal'.*known: ce"):
        get_loss("focal", 3)
    with pytest.raises(ConfigError, match="label-smoothing.*bad parameters"):
        get_loss("label-smoothing", 3, eps=0.1)
    with pytest.raises(ConfigError, match="order must be an even integer"):
        get_loss("taylor", 3, order=3)
    with pytest.raises(ConfigError, match="margin must be a positive integer"):
        get_loss("large-margin", 3, margin=1.5)


def test_cross_entropy():
    # z = (0, ln 3): p = (1/4, 3/4)
    loss = get_loss("ce", 2).logits_loss(_logits([0.0, LN3]), torch.tensor([0]))
    assert loss.item() == pytest.approx(math.log(4.0), rel=1e-6)


def test_label_smoothing():
    # eps = 0.2, K = 2: q = (0.9, 0.1); L = -(0.9 ln 1/4 + 0.1 ln 3/4)
    loss = get_loss("label-smoothing", 2, epsilon=0.2).logits_loss(_logits([0.0, LN3]), torch.tensor([0]))
    expected = -(0.9 * math.log(0.25) + 0.1 * math.log(0.75))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_mixup_mix_and_loss():
    x = torch.tensor([[1.0], [3.0]])
    mixed = MixUp.mix(x, 0.25, torch.tensor([1, 0]))
    assert mixed.tolist() == [[2.5], [1.5]]
    # lam CE(z, y) + (1 - lam) CE(z, y'): 0.25 ln 4 + 0.75 ln 4/3
    loss = mixed_ce(_logits([0.0, LN3]), torch.tensor([0]), torch.tensor([1]), 0.25)
    assert loss.item() == pytest.approx(0.25 * math.log(4) + 0.75 * math.log(4 / 3), rel=1e-6)


def test_cutmix_box_and_area_weight():
    assert cutmix_box(4, 4, 0.75, 2, 2) == (1, 3, 1, 3)  # sides sqrt(0.25) * 4 = 2
    assert cutmix_box(4, 4, 0.75, 0, 0) == (0, 1, 0, 1)  # clipped at the border
    x = torch.stack([torch.zeros(1, 4, 4), torch.ones(1, 4, 4)])
    out, lam = CutMix.mix(x, (1, 3, 1, 3), torch.tensor([1, 0]))
    assert lam == pytest.approx(0.75)  # 4 of 16 pixels replaced
    assert out[0, 0].sum().item() == 4 and out[0, 0, 1:3, 1:3].eq(1).all()
    assert out[1, 0].sum().item() == 12


def test_cutout_mask():
    m = Cutout.mask(4, 4, 2, torch.tensor([[1, 1], [3, 3]]))
    assert m.shape == (2, 1, 4, 4)
    assert m[0, 0].tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]
    assert m[1, 0].tolist() == [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]]  # clipped


def test_large_margin_psi():
    theta = torch.tensor([0.0, math.pi / 3, math.pi / 2, 2 * math.pi / 3, math.pi])
    psi = LargeMargin.psi(theta, 2)
    # k = 0: cos(2 theta); k = 1: -cos(2 theta) - 2
    assert psi.tolist() == pytest.approx([1.0, -0.5, -1.0, -1.5, -3.0], abs=1e-6)
    assert LargeMargin.psi(theta, 1).tolist() == pytest.approx(torch.cos(theta).tolist(), abs=1e-6)


def test_large_margin_logits_by_hand():
    h = torch.tensor([[1.0, 0.0]])
    w = torch.tensor([[0.5, math.sqrt(3) / 2], [0.0, 1.0]])  # |W_0| = 1, theta_0 = pi/3
    y = torch.tensor([0])
    pure = LargeMargin(2, margin=2, lam=0.0).margin_logits(h, w, None, y)
    assert pure[0].tolist() == pytest.approx([-0.5, 0.0], abs=1e-5)  # psi(pi/3) = cos(2pi/3)
    half = LargeMargin(2, margin=2, lam=1.0).margin_logits(h, w, torch.tensor([0.1, 0.2]), y)
    assert half[0].tolist() == pytest.approx([0.0 + 0.1, 0.0 + 0.2], abs=1e-5)  # (cos + psi) / 2 = 0
    net = Net(_Flat(), nn.Linear(2, 2, bias=False), 2)
    with torch.no_grad():
        net.head.weight.copy_(w)
    loss = LargeMargin(2, margin=2, lam=0.0)(net, h.view(1, 2, 1, 1), y)
    assert loss.item() == pytest.approx(math.log(1 + math.exp(0.5)), rel=1e-5)


def test_taylor_softmax():
    # t(0) = 1, t(1) = 1 + 1 + 1/2 = 2.5: p_0 = 1 / 3.5
    loss = get_loss("taylor", 2).logits_loss(_logits([0.0, 1.0]), torch.tensor([0]))
    assert loss.item() == pytest.approx(math.log(3.5), rel=1e-6)
    t4 = get_loss("taylor", 2, order=4).taylor(torch.tensor([-2.0]))
    assert t4.item() == pytest.approx(1 - 2 + 2 - 8 / 6 + 16 / 24, rel=1e-6)  # > 0 for even orders


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_trains_and_is_deterministic_given_the_generator(name):
    x = torch.randn(6, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    values = []
    for _ in range(2):
        net = _tiny_net(16, 3)
        loss = get_loss(name, 3)(net, x, y, torch.Generator().manual_seed(7))
        loss.backward()
        assert torch.isfinite(loss) and loss.item() > 0
        assert net.head.weight.grad is not None and torch.isfinite(net.head.weight.grad).all()
        values.append(loss.item())
    assert values[0] == values[1]
