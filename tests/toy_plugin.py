"""A toy task, zoo and datasets for runner tests: synthetic features, deterministic 'fine-tuning'.

Loaded through ``$FACEBENCH_PLUGINS=toy_plugin`` (the same path a user's plugin module takes).
``TOY_FAIL_AT`` (a job label substring) makes that fine-tuning job raise, and ``TOY_KILL_AT``
makes the process kill itself with SIGKILL there, to test interruption and resume.
"""
from __future__ import annotations

import os
import signal
import zlib

import numpy as np

from facebench import hookimpl
from facebench.bundle import FeatureBundle
from facebench.datasets.base import DatasetSpec
from facebench.errors import ConfigError
from facebench.predictions import TestPredictions
from facebench.tasks.base import FinetuneResult
from facebench.zoos.base import ModelSpec, Zoo

CALLS: list[str] = []


def _seed(*parts) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


class ToyTask:
    name = "toy"
    summary = "synthetic task for tests"
    ground_truth = ("accuracy",)

    def validate(self, benchmark, ctx) -> None:
        if ctx.options.get("broken"):
            raise ConfigError("toy: option 'broken' is set")

    def pretrain(self, model, ctx) -> None:
        CALLS.append(f"pretrain {model.name}")

    def extract(self, model, dataset, ctx) -> FeatureBundle:
        CALLS.append(f"extract {model.name} {dataset}")
        rng = np.random.default_rng(_seed(model.name, dataset))
        sep = float(model.options["sep"])
        y = np.repeat(np.arange(4), 15)
        x = rng.normal(size=(60, 6)) + sep * np.eye(4, 6)[y]
        probs = rng.dirichlet(np.ones(5), size=60)
        return FeatureBundle.from_arrays(x, y, probs, name=f"{model.name}:{dataset}", meta={"split": "train"})

    def finetune(self, model, dataset, seed, hparams, ctx) -> FinetuneResult:
        label = f"finetune {model.name} {dataset} {seed}"
        CALLS.append(label)
        if os.environ.get("TOY_FAIL_AT") and os.environ["TOY_FAIL_AT"] in label:
            raise RuntimeError(f"injected failure at {label}")
        if os.environ.get("TOY_KILL_AT") and os.environ["TOY_KILL_AT"] in label:
            os.kill(os.getpid(), signal.SIGKILL)
        rng = np.random.default_rng(_seed(model.name, dataset, seed))
        acc = 0.5 + 0.1 * float(model.options["sep"]) + 0.01 * rng.random()
        trace = [acc * (e + 1) for e in range(3)] if ctx.options.get("nc_trace") else None
        preds = None
        if ctx.options.get("predictions"):  # N test samples, the first round(acc N) of them right
            n_test = int(ctx.options["predictions"])
            true = np.arange(n_test) % 4
            right = rng.permutation(n_test) < round(acc * n_test)
            preds = TestPredictions(np.where(right, true, (true + 1) % 4), true)
            acc = float(preds.correct.mean())
        return FinetuneResult({"accuracy": acc}, nc_trace=trace, predictions=preds)


@hookimpl
def facebench_tasks():
    return [ToyTask()]


@hookimpl
def facebench_zoos():
    models = tuple(ModelSpec(f"m{i}", "toy", options={"sep": s}) for i, s in enumerate([0.5, 1.0, 2.0, 3.0]))
    return [Zoo("toy-zoo", "four toy models", "toy", models, offline=True)]


@hookimpl
def facebench_datasets():
    return [DatasetSpec(name, f"toy target {name}", "toy", load=lambda *a, **k: None, offline=True) for name in ("ta", "tb")]
