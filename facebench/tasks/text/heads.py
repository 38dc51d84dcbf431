"""The variants' classifier heads and training losses, each written once and shared by every backbone.

A text model is ``backbone -> sentence representation h (pooled [CLS]) -> head -> logits``; the
paper's six models (FaCe §4.5) differ only in the head and the loss:

==========================  =====================  ===========
model                       head                   loss
==========================  =====================  ===========
NEZHA, RoBERTa              ``linear``             ``ce``
+ highway classifier        ``highway``            ``ce``
+ multi-sample dropout      ``multi-sample-dropout`` ``ce``
+ R-drop                    ``linear``             ``r-drop``
+ poly loss                 ``linear``             ``poly-1``
==========================  =====================  ===========

Heads (input h of width d, K classes, dropout p):

* ``linear``: ``W dropout(h) + b`` (BertForSequenceClassification's head);
* ``highway`` (Srivastava et al., 2015, "Highway networks"): gate ``g = sigmoid(W_g h + b_g)``,
  transform ``t = relu(W_t h + b_t)``, ``z = g * t + (1 - g) * h``, then the linear head on z;
* ``multi-sample-dropout`` (Inoue, 2019, arXiv:1905.09788): M dropout masks on h through one
  shared linear layer, logits averaged: ``(1/M) sum_m W dropout_m(h) + b``. At evaluation dropout
  is the identity, so it equals the linear head.

Losses (``logits`` of shape B x K, integer targets y):

* ``ce``: mean cross entropy;
* ``poly-1`` (Leng et al., ICLR 2022, "PolyLoss", Eq. 3): ``CE + eps * (1 - p_t)`` with
  ``p_t = softmax(logits)[y]``, averaged over the batch (eps = 1 by default);
* ``r-drop`` (Liang et al., NeurIPS 2021, Eq. 2-3): two forward passes (two dropout masks),
  ``(CE_1 + CE_2)/2 + alpha * (KL(P_1||P_2) + KL(P_2||P_1))/2``, KL summed over classes and
  averaged over the batch (alpha = 1 by default). The paper sums the two CE terms; the mean
  keeps the loss on the scale of the other variants (a factor 2 on the CE part, named here).

A loss is called as ``loss(net, x, y, generator)`` (facebench.torch_utils.train_epoch).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ConfigError

HEADS = ("linear", "highway", "multi-sample-dropout")
LOSSES = ("ce", "poly-1", "r-drop")


class LinearHead(nn.Module):
    def __init__(self, dim: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(h))


class HighwayHead(LinearHead):
    """One highway layer, then the linear head."""

    def __init__(self, dim: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__(dim, num_classes, dropout)
        self.gate = nn.Linear(dim, dim)
        self.transform = nn.Linear(dim, dim)

    def highway(self, h: torch.Tensor) -> torch.Tensor:
        g = torch.sigmoid(self.gate(h))
        return g * torch.relu(self.transform(h)) + (1.0 - g) * h

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return super().forward(self.highway(h))


class MultiSampleDropoutHead(LinearHead):
    """``samples`` dropout masks through the shared linear layer, logits averaged."""

    def __init__(self, dim: int, num_classes: int, dropout: float = 0.1, samples: int = 5) -> None:
        super().__init__(dim, num_classes, dropout)
        self.samples = int(samples)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return self.classifier(h)
        return torch.stack([self.classifier(self.dropout(h)) for _ in range(self.samples)]).mean(dim=0)


def build_head(kind: str, dim: int, num_classes: int, dropout: float = 0.1, **options: Any) -> nn.Module:
    if kind == "linear":
        return LinearHead(dim, num_classes, dropout)
    if kind == "highway":
        return HighwayHead(dim, num_classes, dropout)
    if kind == "multi-sample-dropout":
        return MultiSampleDropoutHead(dim, num_classes, dropout, int(options.get("samples", 5)))
    raise ConfigError(f"text: unknown head {kind!r} (known: {', '.join(HEADS)})")


# -- losses on logits ------------------------------------------------------------------------------
def poly1_loss(logits: torch.Tensor, y: torch.Tensor, epsilon: float = 1.0) -> torch.Tensor:
    """Poly-1: mean over the batch of ``CE + epsilon * (1 - p_t)``."""
    logits = logits.float()
    ce = F.cross_entropy(logits, y, reduction="none")
    p_t = torch.softmax(logits, dim=1).gather(1, y[:, None]).squeeze(1)
    return (ce + epsilon * (1.0 - p_t)).mean()


def symmetric_kl(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """``(KL(P_a||P_b) + KL(P_b||P_a)) / 2``, summed over classes, averaged over the batch."""
    la, lb = F.log_softmax(logits_a.float(), dim=1), F.log_softmax(logits_b.float(), dim=1)
    kl_ab = F.kl_div(lb, la, log_target=True, reduction="batchmean")  # KL(P_a || P_b)
    kl_ba = F.kl_div(la, lb, log_target=True, reduction="batchmean")
    return 0.5 * (kl_ab + kl_ba)


def rdrop_loss(logits_a: torch.Tensor, logits_b: torch.Tensor, y: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    ce = 0.5 * (F.cross_entropy(logits_a.float(), y) + F.cross_entropy(logits_b.float(), y))
    return ce + alpha * symmetric_kl(logits_a, logits_b)


def get_loss(kind: str, **options: Any) -> Callable:
    """``loss(net, x, y, generator)`` of the named kind (``options``: epsilon for poly-1, alpha for r-drop)."""
    known = {"poly-1": {"epsilon"}, "r-drop": {"alpha"}, "ce": set()}
    if kind not in known:
        raise ConfigError(f"text: unknown loss {kind!r} (known: {', '.join(LOSSES)})")
    extra = sorted(set(options) - known[kind])
    if extra:
        raise ConfigError(f"text: loss {kind!r} has no option(s) {', '.join(extra)}")
    if kind == "ce":
        return lambda net, x, y, generator=None: F.cross_entropy(net(x).float(), y)
    if kind == "poly-1":
        eps = float(options.get("epsilon", 1.0))
        return lambda net, x, y, generator=None: poly1_loss(net(x), y, eps)
    alpha = float(options.get("alpha", 1.0))
    return lambda net, x, y, generator=None: rdrop_loss(net(x), net(x), y, alpha)


def variant_of(options: Mapping[str, Any]) -> tuple[str, str]:
    """(head, loss) named by a model's options (``head``/``loss``; linear / ce by default)."""
    head, loss = str(options.get("head", "linear")), str(options.get("loss", "ce"))
    if head not in HEADS:
        raise ConfigError(f"text: unknown head {head!r} (known: {', '.join(HEADS)})")
    if loss not in LOSSES:
        raise ConfigError(f"text: unknown loss {loss!r} (known: {', '.join(LOSSES)})")
    return head, loss
