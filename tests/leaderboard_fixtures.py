"""A synthetic results store for the leaderboard tests (no model is trained)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facebench.store import ResultsStore

MODELS = ["densenet121", "efficientnet_b0", "mobilenet_v3", "resnet50", "vgg16", "vit_tiny"]
SEEDS = [0, 1, 2]
METRICS = ["face", "logme", "noise"]
BENCHMARKS = {
    # benchmark -> (task, zoo, targets, truth statistics)
    "classification/toy-zoo": ("classification", "toy-zoo", ["alpha", "beta", "gamma"], ["accuracy"]),
    "segmentation/toy-seg": ("segmentation", "toy-seg", ["city", "voc"], ["miou", "pixel_acc"]),
}
CONFIG = "name: synthetic\nbenchmarks:\n  - task: classification\n    zoo: toy-zoo\n    targets: [alpha, beta, gamma]\n"
NC_EPOCHS = 6


TRUTH_SD = 0.01  # seed noise of every ground-truth value (known, for the reliability tests)


def make_store(path: str | Path, *, seed: int = 0, failing: bool = False, true_means: dict | None = None) -> Path:
    """Fill a store like a finished run: 2 benchmarks, 5 targets, 6 models x 3 seeds, 3 metrics.

    ``face`` follows the ground truth closely, ``logme`` loosely, ``noise`` not at all. With
    ``failing``, a fourth metric ``brittle`` fails (zoo-level error) on the segmentation target ``voc``.
    Ground truth: a noise-free value per model and truth plus N(0, TRUTH_SD) per seed; with
    ``true_means`` (a dict), the noise-free values are put there: (benchmark, target, truth) -> array.
    """
    rng = np.random.default_rng(seed)
    store = ResultsStore(path)
    store.begin_run("d1g3st", "synthetic", CONFIG)
    for bench, (task, zoo, targets, truths) in BENCHMARKS.items():
        for model in MODELS:
            store.record_pretrain(f"pre:{bench}:{model}", bench, model, 10.0)
        for target in targets:
            store.add_benchmark(bench, task, zoo, target, "d1g3st")
            quality = rng.uniform(0.5, 0.9, size=len(MODELS))
            if true_means is not None:
                for k, t in enumerate(truths):
                    true_means[(bench, target, t)] = quality - 0.1 * k
            for i, model in enumerate(MODELS):
                store.record_features(f"x:{bench}:{target}:{model}", bench, target, model, "train",
                                      f"/cache/{model}.npz", "ck", 100, 16, 2.0)
                for s in SEEDS:
                    values = {t: float(np.clip(quality[i] - 0.1 * k + rng.normal(0, 0.01), 0, 1))
                              for k, t in enumerate(truths)}
                    trace = None
                    if task == "classification":
                        start = -5.0 * (1.2 - quality[i]) + rng.normal(0, 0.05)
                        trace = [start * 0.7**e + rng.normal(0, 0.02) for e in range(NC_EPOCHS)]
                    store.record_ground_truth(f"ft:{bench}:{target}:{model}:{s}", bench, target, model, s, values,
                                              60.0, {"variance_collapse": trace} if trace else None)
            metric_noise = {"face": 0.03, "logme": 0.15, "noise": None}
            for metric in METRICS + (["brittle"] if failing else []):
                secs = {m: 0.01 * (1 + METRICS.index(metric)) if metric in METRICS else 0.5 for m in MODELS}
                if metric == "brittle" and target == "voc":
                    raw, scores, errors = {}, {}, {"*": "metric 'brittle' needs at least 9 models"}
                else:
                    sd = metric_noise.get(metric, 0.3)
                    scores = {m: float(quality[i] + rng.normal(0, sd)) if sd is not None else float(rng.normal())
                              for i, m in enumerate(MODELS)}
                    raw, errors = dict(scores), {}
                store.record_scores(f"score:{bench}:{target}:{metric}", bench, target, metric, {}, raw, secs,
                                    errors, scores, [])
    store.finish_run("d1g3st")
    store.close()
    return Path(path)
