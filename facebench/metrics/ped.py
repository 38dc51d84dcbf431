"""PED: potential energy decline (Li, Hu, Ge, Shan, Duan; "Exploring model transferability through
the lens of potential energy", ICCV 2023).

Fine-tuning pushes overlapping classes apart. PED simulates a few steps of that motion on the
features, then scores the moved features with a static metric (LogME by default, or SFDA).

Each step, on standardised features x~ = (x - m) / max(s, 1e-3) (m, s the per-dimension mean and
standard deviation, fixed before the first step), with class means mu_k and class radii
R_k = sqrt(sum_j var_kj) (per-dimension class variances, biased):

    o_kl  = max(sigma (R_k + R_l) - ||mu_k - mu_l||, 0)                (overlap of the two balls)
    D_k   = sum_{l != k} (mu_k - mu_l) / ||mu_k - mu_l|| * min(1/2 t^2 c o_kl, o_kl)
    x~_i <- x~_i + D_{y_i},   x_i = x~_i s + m;

with sigma = ``nsigma`` (0.6), t = ``time_step`` (0.1), c = ``constant`` (1). A step is kept while
its total displacement sum_k sum_j |D_kj| is more than ``exit_ratio`` (0.5) of the first step's;
at most ``max_steps`` (6) steps. The score is the base metric on the moved features.
"""
from __future__ import annotations

import numpy as np

from ..bundle import FeatureBundle
from ._linalg import class_stats, class_variances
from .base import Metric
from .logme import LogME
from .sfda import SFDA

BASES = ("logme", "sfda")


def potential_energy_step(z: np.ndarray, labels: np.ndarray, num_classes: int, time_step: float, nsigma: float,
                          constant: float) -> tuple[np.ndarray, float]:
    """One step on standardised features: (moved features, total displacement sum |D|)."""
    st = class_stats(z, labels, num_classes)
    radius = np.sqrt(class_variances(st, labels).sum(axis=1))
    diff = st.means[:, None, :] - st.means[None, :, :]  # mu_k - mu_l
    dist = np.sqrt(np.einsum("kld,kld->kl", diff, diff))
    overlap = np.maximum(abs(nsigma) * (radius[:, None] + radius[None, :]) - dist, 0.0)
    np.fill_diagonal(overlap, 0.0)
    move = np.minimum(0.5 * time_step**2 * constant * overlap, overlap)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(move > 0, move / dist, 0.0)  # coincident means (dist 0) are not pushed
    displacement = np.einsum("kl,kld->kd", weight, diff)
    return z + displacement[labels], float(np.abs(displacement).sum())


def potential_energy_descent(features: np.ndarray, labels: np.ndarray, num_classes: int, time_step: float = 0.1,
                             nsigma: float = 0.6, constant: float = 1.0, exit_ratio: float = 0.5,
                             max_steps: int = 6, eps: float = 1e-3) -> tuple[np.ndarray, int]:
    """The moved features and the number of steps kept (module docstring)."""
    mean = features.mean(axis=0)
    scale = np.maximum(features.std(axis=0), eps)
    z = (features - mean) / scale
    first = None
    steps = 0
    while steps < max_steps:
        moved, change = potential_energy_step(z, labels, num_classes, time_step, nsigma, constant)
        if first is None:
            first = change
        if not (first > 0 and change / first > exit_ratio):
            break
        z = moved
        steps += 1
    return z * scale + mean, steps


class PED(Metric):
    """PED = a static metric (LogME, or SFDA) on features moved by potential-energy descent (Li et al., ICCV 2023).

    Parameters: ``base`` ("logme" or "sfda"), ``time_step`` t (0.1), ``nsigma`` (0.6), ``constant``
    (1), ``exit_ratio`` (0.5), ``max_steps`` (6): the authors' evaluation defaults. Needs features
    only; the base metric's needs apply (one sample per class).
    """

    name = "ped"
    summary = "PED: LogME after simulating the class-repelling dynamics of fine-tuning (Li et al. 2023)"
    source = "Li et al., Exploring model transferability through the lens of potential energy, ICCV 2023 (PED)"
    reference_code = "lixiaotong97/PED metrics.py One_Step_PED + PED_Score, evaluate_metric_cpu.py defaults @ e5af6e7"

    def __init__(self, base: str = "logme", time_step: float = 0.1, nsigma: float = 0.6, constant: float = 1.0,
                 exit_ratio: float = 0.5, max_steps: int = 6) -> None:
        if base not in BASES:
            raise ValueError(f"base must be one of {BASES}, got {base!r}")
        self.base, self.time_step, self.nsigma, self.constant = base, float(time_step), float(nsigma), float(constant)
        self.exit_ratio, self.max_steps = float(exit_ratio), int(max_steps)

    def departure_notes(self) -> tuple[str, ...]:
        notes = [
            "features are standardised by their own mean and standard deviation; the authors standardise by the "
            "source model's features on ImageNet validation images, which a feature bundle does not hold",
            f"the base metric is facebench's {self.base!r} (see its card); the authors' evaluation defaults to SFDA "
            "(type='SFDA'); their LogME stops at a 1e-3 relative change after at most 11 steps (2e-10 to 9e-7 "
            "relative on the inputs of benchmarks/reference_comparisons.md)",
            "a class pair whose means coincide is not pushed (the code divides by their distance, 0)",
        ]
        return tuple(notes)

    def compute(self, bundle: FeatureBundle) -> float:
        moved, _ = potential_energy_descent(bundle.features, bundle.labels, bundle.num_classes, self.time_step,
                                            self.nsigma, self.constant, self.exit_ratio, self.max_steps)
        base = LogME() if self.base == "logme" else SFDA()
        return float(base.score(FeatureBundle.from_arrays(moved, bundle.labels, name=bundle.name)))
