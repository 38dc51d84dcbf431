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
* ``highway`` (Srivastava et al., 2015, "Highway networks", arXiv:1505.00387): transform gate
  ``g = sigmoid(W_g h + b_g)``, transform ``t = relu(W_t h + b_t)``, ``z = g * t + (1 - g) * h``,
  then the linear head on z. The gate bias ``b_g`` starts at ``gate_bias`` = -1 (head option):
  the paper (§2) initialises it negative, "e.g. -1, -3", so that the network is biased towards
  carrying h at the start (g = sigmoid(-1) = 0.27); the bias is there to let very deep stacks
  train, and one highway layer over a pre-trained sentence representation needs the least of it,
  hence the mildest of the paper's values. (Before: ``b_g`` = 0, g = 0.5, an even mix at the start.)
* ``multi-sample-dropout`` (Inoue, 2019, "Multi-Sample Dropout for Accelerated Training and Better
  Generalization", arXiv:1905.09788): M (``samples``, 5) dropout masks on h, each sample through
  the one shared linear layer and the loss, the training loss the mean of the M samples' losses:
  ``(1/M) sum_m loss(W dropout_m(h) + b, y)`` (the published method, ``average: loss``, the
  default). At evaluation dropout is off and the head is the linear head ``W h + b``.
  ``average: logits`` is the other variant, not the paper's: the loss of the mean of the M
  samples' logits, ``loss((1/M) sum_m W dropout_m(h) + b, y)``; through one linear layer that is
  the linear head on ``h * mean_m(mask_m)``, a weaker dropout of the plain head (facebench
  trained this variant before the published one; kept to reproduce those results).

A head's ``sample_logits(h)`` is the list of logits the loss averages over: the M samples of
multi-sample dropout in training (``average: loss``), else the one output ``[head(h)]``.

Losses (``logits`` of shape B x K, integer targets y), each the mean over a head's samples
(:func:`sample_logits`) of the loss below (one sample for every head but multi-sample dropout):

* ``ce``: mean cross entropy;
* ``poly-1`` (Leng et al., ICLR 2022, "PolyLoss", Eq. 3): ``CE + eps * (1 - p_t)`` with
  ``p_t = softmax(logits)[y]``, averaged over the batch (eps = 1 by default);
* ``r-drop`` (Liang et al., NeurIPS 2021, Eq. 2-3): two forward passes (two dropout masks),
  ``(CE_1 + CE_2)/2 + alpha * (KL(P_1||P_2) + KL(P_2||P_1))/2``, KL summed over classes and
  averaged over the batch (alpha = 1 by default). The paper sums the two CE terms; the mean
  keeps the loss on the scale of the other variants (a factor 2 on the CE part, named here).

A loss is called as ``loss(net, x, y, generator)`` (facebench.torch_utils.train_epoch); a
network with ``sample_logits(x)`` (:class:`~.models.TextNet`) gives its head's samples, any other
callable one sample ``[net(x)]``.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ConfigError

HEADS = ("linear", "highway", "multi-sample-dropout")
LOSSES = ("ce", "poly-1", "r-drop")
#: each head's options (``head_options`` of a model) and their defaults
HEAD_OPTIONS = {"linear": {}, "highway": {"gate_bias": -1.0},
                "multi-sample-dropout": {"samples": 5, "average": "loss"}}
MSD_AVERAGES = ("loss", "logits")
#: bumped when a head's training changes, so that a source-trained model cached by older code
#: is not reused (:func:`facebench.tasks.text.pretrain.pretrain_key`; the linear head's stays 1)
HEAD_REVISIONS = {"highway": 2, "multi-sample-dropout": 2}


class LinearHead(nn.Module):
    def __init__(self, dim: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(h))

    def sample_logits(self, h: torch.Tensor) -> list[torch.Tensor]:
        """The logits the loss is averaged over: one sample."""
        return [self(h)]


class HighwayHead(LinearHead):
    """One highway layer (transform gate bias initialised to ``gate_bias``), then the linear head."""

    def __init__(self, dim: int, num_classes: int, dropout: float = 0.1, gate_bias: float = -1.0) -> None:
        super().__init__(dim, num_classes, dropout)
        self.gate = nn.Linear(dim, dim)
        self.transform = nn.Linear(dim, dim)
        with torch.no_grad():
            self.gate.bias.fill_(float(gate_bias))

    def highway(self, h: torch.Tensor) -> torch.Tensor:
        g = torch.sigmoid(self.gate(h))
        return g * torch.relu(self.transform(h)) + (1.0 - g) * h

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return super().forward(self.highway(h))


class MultiSampleDropoutHead(LinearHead):
    """``samples`` dropout masks, each through the shared linear layer (Inoue, 2019).

    Training: :meth:`sample_logits` gives the M samples' logits, and the loss is their mean loss
    (``average: loss``, the published method); with ``average: logits`` one sample, the mean of
    the M logits (the weaker variant, see the module docstring). ``forward`` in training is the
    mean of the samples' logits (a prediction, not what the loss reads); at evaluation ``W h + b``.
    """

    def __init__(self, dim: int, num_classes: int, dropout: float = 0.1, samples: int = 5,
                 average: str = "loss") -> None:
        super().__init__(dim, num_classes, dropout)
        self.samples = int(samples)
        self.average = str(average)

    def _samples(self, h: torch.Tensor) -> list[torch.Tensor]:
        return [self.classifier(self.dropout(h)) for _ in range(self.samples)]

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return self.classifier(h)
        return torch.stack(self._samples(h)).mean(dim=0)

    def sample_logits(self, h: torch.Tensor) -> list[torch.Tensor]:
        if not self.training:
            return [self.classifier(h)]
        if self.average == "logits":
            return [torch.stack(self._samples(h)).mean(dim=0)]
        return self._samples(h)


def head_options(kind: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The head's options with their defaults, checked (ConfigError naming an unknown or bad one)."""
    if kind not in HEAD_OPTIONS:
        raise ConfigError(f"text: unknown head {kind!r} (known: {', '.join(HEADS)})")
    o = dict(options or {})
    extra = sorted(set(o) - set(HEAD_OPTIONS[kind]))
    if extra:
        known = ", ".join(HEAD_OPTIONS[kind]) or "none"
        raise ConfigError(f"text: head {kind!r} has no option(s) {', '.join(extra)} (known: {known})")
    out = {**HEAD_OPTIONS[kind], **o}
    if kind == "highway":
        try:
            out["gate_bias"] = float(out["gate_bias"])
        except (TypeError, ValueError):
            raise ConfigError(f"text: head_options.gate_bias must be a number, got {o['gate_bias']!r}") from None
    if kind == "multi-sample-dropout":
        samples = out["samples"]
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise ConfigError(f"text: head_options.samples must be a positive integer, got {samples!r}")
        if out["average"] not in MSD_AVERAGES:
            raise ConfigError(f"text: head_options.average must be one of {', '.join(MSD_AVERAGES)}, "
                              f"got {out['average']!r}")
    return out


def build_head(kind: str, dim: int, num_classes: int, dropout: float = 0.1, **options: Any) -> nn.Module:
    o = head_options(kind, options)
    if kind == "linear":
        return LinearHead(dim, num_classes, dropout)
    if kind == "highway":
        return HighwayHead(dim, num_classes, dropout, o["gate_bias"])
    return MultiSampleDropoutHead(dim, num_classes, dropout, o["samples"], o["average"])


def sample_logits(net: Callable, x: torch.Tensor) -> list[torch.Tensor]:
    """``net.sample_logits(x)`` where the network has it (the head's samples), else ``[net(x)]``."""
    samples = getattr(net, "sample_logits", None)
    return list(samples(x)) if callable(samples) else [net(x)]


def mean_over_samples(loss: Callable, *passes: list[torch.Tensor]) -> torch.Tensor:
    """``(1/M) sum_m loss(pass_1[m], ..., pass_k[m])``: the mean of the M samples' losses."""
    values = [loss(*logits) for logits in zip(*passes)]
    return values[0] if len(values) == 1 else torch.stack(values).mean()


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
        return lambda net, x, y, generator=None: mean_over_samples(
            lambda logits: F.cross_entropy(logits.float(), y), sample_logits(net, x))
    if kind == "poly-1":
        eps = float(options.get("epsilon", 1.0))
        return lambda net, x, y, generator=None: mean_over_samples(
            lambda logits: poly1_loss(logits, y, eps), sample_logits(net, x))
    alpha = float(options.get("alpha", 1.0))
    # two forward passes; with several samples per pass, sample m of one pass against sample m of the other
    return lambda net, x, y, generator=None: mean_over_samples(
        lambda a, b: rdrop_loss(a, b, y, alpha), sample_logits(net, x), sample_logits(net, x))


def variant_of(options: Mapping[str, Any]) -> tuple[str, str]:
    """(head, loss) named by a model's options (``head``/``loss``; linear / ce by default)."""
    head, loss = str(options.get("head", "linear")), str(options.get("loss", "ce"))
    if head not in HEADS:
        raise ConfigError(f"text: unknown head {head!r} (known: {', '.join(HEADS)})")
    if loss not in LOSSES:
        raise ConfigError(f"text: unknown loss {loss!r} (known: {', '.join(LOSSES)})")
    extra = options.get("head_options")
    if extra is not None and not isinstance(extra, Mapping):
        raise ConfigError(f"text: head_options must be a mapping, got {extra!r}")
    head_options(head, extra)
    return head, loss
