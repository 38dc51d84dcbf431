"""Source pre-training losses of the homogeneous zoo (FaCe §4.3), by name.

Each loss is called as ``loss(net, x, y, generator)`` -> scalar mean over the batch, where ``net``
is a :class:`~facebench.tasks.classification.models.Net` (``net.body`` gives features, ``net.head``
is the linear classifier) and ``generator`` a CPU ``torch.Generator`` for the loss's own
randomness (MixUp, CutMix, Cutout), so that pre-training is deterministic given its seed.
Notation: z = logits, p = softmax(z), K classes, y the label, CE(z, y) = -log p_y.

=====================  =====================================================================
name                   loss
=====================  =====================================================================
``ce``                 cross entropy
``label-smoothing``    CE against (1 - eps) onehot(y) + eps / K          (Szegedy et al., 2016)
``mixup``              lam CE(f(x~), y) + (1 - lam) CE(f(x~), y')         (Zhang et al., 2018)
``cutmix``             same mix, a box of x' pasted into x                (Yun et al., 2019)
``cutout``             CE on x with a square zeroed out                   (DeVries & Taylor, 2017)
``large-margin``       L-Softmax: angular margin m on the target logit    (Liu et al., 2016)
``taylor``             NLL of the 2nd-order Taylor softmax                (Banerjee et al., 2020)
=====================  =====================================================================

``get_loss(name, num_classes, **params)`` builds one; unknown names or parameters are ConfigErrors.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from ...errors import ConfigError


class SourceLoss:
    """Base class: ``__call__(net, x, y, generator) -> loss``; plain subclasses use ``logits_loss``."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = int(num_classes)

    def __call__(self, net, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.logits_loss(net(x), y)

    def logits_loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "num_classes"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.params().items())})"


class CrossEntropy(SourceLoss):
    """Cross entropy: L = -log softmax(z)_y (Cover & Thomas, 1991/1999)."""

    name = "ce"
    summary = "cross entropy"

    def logits_loss(self, logits, y):
        return F.cross_entropy(logits.float(), y)


class LabelSmoothing(SourceLoss):
    """Label smoothing: L = -sum_k q_k log p_k with q = (1 - eps) onehot(y) + eps / K.

    Szegedy et al., "Rethinking the Inception architecture", CVPR 2016; studied by Muller,
    Kornblith & Hinton, "When does label smoothing help?", NeurIPS 2019. Default eps = 0.1.
    """

    name = "label-smoothing"
    summary = "cross entropy with smoothed targets (eps=0.1)"

    def __init__(self, num_classes: int, epsilon: float = 0.1) -> None:
        super().__init__(num_classes)
        if not 0.0 <= epsilon < 1.0:
            raise ConfigError(f"label-smoothing: epsilon must be in [0, 1), got {epsilon}")
        self.epsilon = float(epsilon)

    def logits_loss(self, logits, y):
        return F.cross_entropy(logits.float(), y, label_smoothing=self.epsilon)


def mixed_ce(logits: torch.Tensor, y: torch.Tensor, y2: torch.Tensor, lam: float) -> torch.Tensor:
    """lam CE(z, y) + (1 - lam) CE(z, y2): the loss of a mixed batch (MixUp, CutMix)."""
    logits = logits.float()
    return lam * F.cross_entropy(logits, y) + (1.0 - lam) * F.cross_entropy(logits, y2)


def _beta(alpha: float, generator: torch.Generator | None) -> float:
    """One draw of Beta(alpha, alpha) from a torch generator (two Gamma draws)."""
    if alpha <= 0:
        return 1.0
    a = torch.full((2,), float(alpha), dtype=torch.float64)
    g = torch._standard_gamma(a, generator=generator) if generator is not None else torch._standard_gamma(a)
    return float(g[0] / g.sum())


def _randperm(n: int, generator: torch.Generator | None, device) -> torch.Tensor:
    return torch.randperm(n, generator=generator).to(device)


class MixUp(SourceLoss):
    """MixUp (Zhang et al., "mixup: Beyond empirical risk minimization", ICLR 2018).

    lam ~ Beta(alpha, alpha), j = a random permutation of the batch,
    x~ = lam x + (1 - lam) x_j,  L = lam CE(f(x~), y) + (1 - lam) CE(f(x~), y_j). Default alpha = 0.2.
    """

    name = "mixup"
    summary = "MixUp: convex combinations of image pairs and of their labels"

    def __init__(self, num_classes: int, alpha: float = 0.2) -> None:
        super().__init__(num_classes)
        self.alpha = float(alpha)

    @staticmethod
    def mix(x: torch.Tensor, lam: float, perm: torch.Tensor) -> torch.Tensor:
        return lam * x + (1.0 - lam) * x[perm]

    def __call__(self, net, x, y, generator=None):
        lam = _beta(self.alpha, generator)
        perm = _randperm(x.shape[0], generator, x.device)
        return mixed_ce(net(self.mix(x, lam, perm)), y, y[perm], lam)


def cutmix_box(height: int, width: int, lam: float, cy: int, cx: int) -> tuple[int, int, int, int]:
    """The CutMix box (y0, y1, x0, x1): sides sqrt(1 - lam) * (H, W) centred at (cy, cx), clipped."""
    r = math.sqrt(1.0 - lam)
    ch, cw = int(height * r), int(width * r)
    y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, height)
    x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, width)
    return y0, y1, x0, x1


class CutMix(SourceLoss):
    """CutMix (Yun et al., "CutMix: Regularization strategy...", ICCV 2019).

    lam ~ Beta(alpha, alpha); a box of sides sqrt(1 - lam) (H, W) at a uniform centre (clipped at
    the border) is cut from x_j (j a random permutation) and pasted into x; lam is then set to the
    kept area, lam = 1 - box area / (H W); L = lam CE(f(x~), y) + (1 - lam) CE(f(x~), y_j).
    Default alpha = 1.
    """

    name = "cutmix"
    summary = "CutMix: paste a box of another image, mix the labels by area"

    def __init__(self, num_classes: int, alpha: float = 1.0) -> None:
        super().__init__(num_classes)
        self.alpha = float(alpha)

    @staticmethod
    def mix(x: torch.Tensor, box: tuple[int, int, int, int], perm: torch.Tensor) -> tuple[torch.Tensor, float]:
        y0, y1, x0, x1 = box
        out = x.clone()
        out[:, :, y0:y1, x0:x1] = x[perm][:, :, y0:y1, x0:x1]
        h, w = x.shape[-2:]
        return out, 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)

    def __call__(self, net, x, y, generator=None):
        lam = _beta(self.alpha, generator)
        h, w = x.shape[-2:]
        cy = int(torch.randint(h, (1,), generator=generator))
        cx = int(torch.randint(w, (1,), generator=generator))
        perm = _randperm(x.shape[0], generator, x.device)
        mixed, lam = self.mix(x, cutmix_box(h, w, lam, cy, cx), perm)
        return mixed_ce(net(mixed), y, y[perm], lam)


class Cutout(SourceLoss):
    """Cutout (DeVries & Taylor, "Improved regularization of CNNs with cutout", 2017).

    Each image gets one size x size square, centred at a uniform pixel and clipped at the border,
    set to 0 (the mean, on normalised inputs); L = CE(f(x~), y). ``size`` is a fraction of the
    image side (default 0.5: 16 px on 32 px CIFAR, the paper's setting) or a pixel count (> 1).
    """

    name = "cutout"
    summary = "Cutout: zero a random square of each image"

    def __init__(self, num_classes: int, size: float = 0.5) -> None:
        super().__init__(num_classes)
        if size <= 0:
            raise ConfigError(f"cutout: size must be > 0, got {size}")
        self.size = float(size)

    @staticmethod
    def mask(height: int, width: int, side: int, centres: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) mask: 0 inside each image's square, 1 elsewhere; centres is (B, 2) (cy, cx)."""
        ys = torch.arange(height).view(1, height, 1)
        xs = torch.arange(width).view(1, 1, width)
        cy, cx = centres[:, 0].view(-1, 1, 1), centres[:, 1].view(-1, 1, 1)
        half = side // 2
        inside = (ys >= cy - half) & (ys < cy - half + side) & (xs >= cx - half) & (xs < cx - half + side)
        return (~inside).float().unsqueeze(1)

    def __call__(self, net, x, y, generator=None):
        h, w = x.shape[-2:]
        side = int(round(self.size * min(h, w))) if self.size <= 1 else int(self.size)
        centres = torch.stack([torch.randint(h, (x.shape[0],), generator=generator),
                               torch.randint(w, (x.shape[0],), generator=generator)], dim=1)
        m = self.mask(h, w, side, centres).to(x.device, x.dtype)
        return F.cross_entropy(net(x * m).float(), y)


class LargeMargin(SourceLoss):
    """Large-margin softmax (L-Softmax; Liu et al., "Large-margin softmax loss for CNNs", ICML 2016).

    With features h = body(x), head weights W and bias b, and theta the angle between h and W_y:
    the target logit W_y.h = |W_y||h| cos(theta) is replaced by
        f_y = (lam |W_y||h| cos(theta) + |W_y||h| psi(theta)) / (1 + lam) + b_y,
        psi(theta) = (-1)^k cos(m theta) - 2k,   theta in [k pi / m, (k + 1) pi / m],
    the other logits stay W_j.h + b_j; L = CE(f, y). psi is monotone decreasing and below cos, so
    the target class must win by an angular margin m.

    Our variant: the paper anneals lam from a large value to a small one during training; we keep
    lam fixed (default 1, i.e. halfway between softmax and L-Softmax, trainable from scratch on a
    CPU budget), and we keep the head's bias (the paper's head has none). lam = 0 is pure
    L-Softmax. Default margin m = 2. Needs a Linear head.
    """

    name = "large-margin"
    summary = "L-Softmax: multiplicative angular margin on the target logit (m=2, fixed lam=1)"

    def __init__(self, num_classes: int, margin: int = 2, lam: float = 1.0) -> None:
        super().__init__(num_classes)
        if int(margin) != margin or margin < 1:
            raise ConfigError(f"large-margin: margin must be a positive integer, got {margin}")
        if lam < 0:
            raise ConfigError(f"large-margin: lam must be >= 0, got {lam}")
        self.margin = int(margin)
        self.lam = float(lam)

    @staticmethod
    def psi(theta: torch.Tensor, m: int) -> torch.Tensor:
        k = torch.clamp(torch.floor(theta * m / math.pi), 0, m - 1)
        sign = 1.0 - 2.0 * torch.remainder(k, 2)
        return sign * torch.cos(m * theta) - 2.0 * k

    def margin_logits(self, features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, y: torch.Tensor):
        """The logits with the target's replaced by f_y, in float32 also under mixed precision.

        Autocast is switched off here: it would run ``features @ weight.t()`` in bfloat16/float16
        while the norms stay float32 (a dtype clash in the scatter), and acos near +-1 needs float32.
        """
        with torch.autocast(device_type=features.device.type, enabled=False):
            return self._margin_logits(features.float(), weight.float(), bias, y)

    def _margin_logits(self, features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                       y: torch.Tensor) -> torch.Tensor:
        logits = features @ weight.t()
        w_norm = weight.norm(dim=1)[y]
        h_norm = features.norm(dim=1)
        target = logits.gather(1, y.view(-1, 1)).squeeze(1)
        cos = (target / (w_norm * h_norm).clamp_min(1e-12)).clamp(-1 + 1e-7, 1 - 1e-7)
        theta = torch.acos(cos)
        new_target = w_norm * h_norm * (self.lam * cos + self.psi(theta, self.margin)) / (1.0 + self.lam)
        logits = logits.scatter(1, y.view(-1, 1), new_target.view(-1, 1))
        if bias is not None:
            logits = logits + bias.float()
        return logits

    def __call__(self, net, x, y, generator=None):
        head = net.head
        if not isinstance(head, torch.nn.Linear):
            raise ConfigError("large-margin: the model's head must be a Linear layer")
        return F.cross_entropy(self.margin_logits(net.features(x), head.weight, head.bias, y), y)


class TaylorSoftmax(SourceLoss):
    """Taylor softmax cross entropy (de Brebisson & Vincent, ICLR 2016; Banerjee et al., 2020).

    exp is replaced by its Taylor polynomial of even order n (default 2), which is > 0 everywhere:
    t(z) = sum_{i=0..n} z^i / i!, p_k = t(z_k) / sum_j t(z_j), L = -log p_y.
    """

    name = "taylor"
    summary = "cross entropy of the 2nd-order Taylor softmax"

    def __init__(self, num_classes: int, order: int = 2) -> None:
        super().__init__(num_classes)
        if int(order) != order or order < 2 or order % 2:
            raise ConfigError(f"taylor: order must be an even integer >= 2, got {order}")
        self.order = int(order)

    def taylor(self, z: torch.Tensor) -> torch.Tensor:
        out = torch.ones_like(z)
        term = torch.ones_like(z)
        for i in range(1, self.order + 1):
            term = term * z / i
            out = out + term
        return out

    def logits_loss(self, logits, y):
        t = self.taylor(logits.float())
        log_p = torch.log(t) - torch.log(t.sum(dim=1, keepdim=True))
        return F.nll_loss(log_p, y)


LOSSES: dict[str, type[SourceLoss]] = {
    cls.name: cls for cls in (CrossEntropy, LabelSmoothing, MixUp, CutMix, Cutout, LargeMargin, TaylorSoftmax)
}


def loss_names() -> list[str]:
    return list(LOSSES)


def get_loss(name: str, num_classes: int, **params: Any) -> SourceLoss:
    """Build the loss registered as ``name``; ConfigError for an unknown name or parameter."""
    try:
        cls = LOSSES[name]
    except KeyError:
        raise ConfigError(f"unknown pre-training loss {name!r} (known: {', '.join(LOSSES)})") from None
    try:
        return cls(num_classes, **params)
    except TypeError as exc:
        raise ConfigError(f"loss {name!r}: bad parameters {params} ({exc})") from None
