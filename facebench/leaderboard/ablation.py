"""The sensitivity of FaCe's fairness term to its free choices, recomputed from cached features.

Eq. (4)-(6) leave open how to fit class Gaussians when n_k <= d and which classes enter a row of
P (see :mod:`facebench.metrics.face`). The board shows, per benchmark target, the tau_w of F
(``face-cf``) and of FaCe (``face``) against the mean ground truth for every combination of

    pca_dim in {8, 16, 32, 64} x covariance in {diagonal, full} x row in {others, all},

so a reader sees whether a verdict about FaCe rests on one of those choices. The default
(pca_dim 64, diagonal, others) is fixed by a rule stated before any tau_w was seen (GBC's
published treatment; the module docstring of :mod:`facebench.metrics.face`), not chosen from this
table. Nothing here is stored: the features are read from the feature files the store lists, and
a target whose features are missing is left out (and said so).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..bundle import FeatureBundle
from ..checksum import sidecar_matches
from ..errors import FacebenchError
from ..evaluation import correlations
from ..metrics.face import ClassFairness, FaCe
from ..scoring import score_zoo
from ..store import ResultsStore

PCA_DIMS = (8, 16, 32, 64)
COVARIANCES = ("diagonal", "full")
ROWS = ("others", "all")
DEFAULT = (64, "diagonal", "others")


@dataclass(frozen=True)
class Variant:
    pca_dim: int
    covariance: str
    row: str

    @property
    def label(self) -> str:
        return f"PCA-{self.pca_dim}, {self.covariance}, row {'j≠i' if self.row == 'others' else 'j=i incl.'}"

    @property
    def is_default(self) -> bool:
        return (self.pca_dim, self.covariance, self.row) == DEFAULT


VARIANTS = tuple(Variant(p, c, r) for r, c, p in itertools.product(ROWS, COVARIANCES, PCA_DIMS))


@dataclass
class AblationTable:
    """tau_w of F and of FaCe per variant (rows) and target (columns) of one benchmark."""

    benchmark: str
    targets: list[str]
    f_tau: dict[Variant, dict[str, float]] = field(default_factory=dict)  # variant -> target -> tau_w
    s_tau: dict[Variant, dict[str, float]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # target -> why it was left out

    def mean(self, table: dict[Variant, dict[str, float]], v: Variant) -> float:
        vals = [x for x in table.get(v, {}).values() if math.isfinite(x)]
        return sum(vals) / len(vals) if vals else math.nan

    def as_dict(self) -> dict:
        return {
            "benchmark": self.benchmark,
            "targets": self.targets,
            "rows": [{"pca_dim": v.pca_dim, "covariance": v.covariance, "row": v.row, "default": v.is_default,
                      "tau_w_F": self.f_tau.get(v, {}), "tau_w_face": self.s_tau.get(v, {})} for v in VARIANTS],
            "skipped": self.skipped,
        }


def _bundles(files: dict[str, tuple[str, str]]) -> dict[str, FeatureBundle]:
    """model -> bundle, each file verified against its checksum (nothing is removed or rewritten)."""
    missing = [m for m, (p, _key) in files.items() if not Path(p).is_file()]
    if missing:
        raise FacebenchError(f"feature files missing for {', '.join(sorted(missing))}")
    corrupt = [m for m, (p, _key) in files.items() if not sidecar_matches(p)]
    if corrupt:
        raise FacebenchError(f"feature files fail their checksum for {', '.join(sorted(corrupt))}")
    return {m: FeatureBundle.load_npz(p) for m, (p, _key) in files.items()}


def _truth_mean(store: ResultsStore, benchmark: str, target: str) -> dict[str, float]:
    """Each model's mean over seeds of the statistic that ranks the metrics (the task's primary;
    in a store that did not record it, the mean over the target's statistics, as the ranking does)."""
    primary = store.primary_truth(benchmark)
    stats = [primary] if primary else store.truth_statistics(benchmark, target)
    means = [store.mean_ground_truth(benchmark, target, s) for s in stats]
    if len(means) == 1:
        return means[0]
    models = set.intersection(*(set(m) for m in means)) if means else set()
    return {m: sum(x[m] for x in means) / len(means) for m in models}


def ablation_table(store: ResultsStore, benchmark: str, targets: list[str]) -> AblationTable:
    table = AblationTable(benchmark, [])
    metrics = {}
    for v in VARIANTS:
        metrics[("F", v)] = ClassFairness(pca_dim=v.pca_dim, covariance=v.covariance, row=v.row)
        metrics[("S", v)] = FaCe(pca_dim=v.pca_dim, covariance=v.covariance, row=v.row)
    named = {f"{kind}|{v.pca_dim}|{v.covariance}|{v.row}": m for (kind, v), m in metrics.items()}
    for target in targets:
        truth = _truth_mean(store, benchmark, target)
        files = store.feature_files(benchmark, target)
        if len(truth) < 2 or len(files) < 2:
            table.skipped[target] = "fewer than 2 models with features and ground truth"
            continue
        try:
            bundles = _bundles(files)
        except (FacebenchError, OSError, ValueError) as exc:
            table.skipped[target] = str(exc)
            continue
        result = score_zoo(named, bundles)
        table.targets.append(target)
        for (kind, v), _ in metrics.items():
            key = f"{kind}|{v.pca_dim}|{v.covariance}|{v.row}"
            tau = correlations(result.scores.get(key, {}), truth)["tau_w"]
            (table.f_tau if kind == "F" else table.s_tau).setdefault(v, {})[target] = tau
    return table
