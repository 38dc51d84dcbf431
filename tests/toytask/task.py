"""A toy task for runner tests: synthetic features, deterministic 'fine-tuning'.

``TOY_FAIL_AT`` (a job label substring) makes that fine-tuning job raise, and ``TOY_KILL_AT``
makes the process kill itself with SIGKILL there, to test interruption and resume.
``TOY_HOLD_AT`` makes that job write its pid to ``$TOY_HOLD_DIR/<pid>.pid`` and wait until
``$TOY_HOLD_DIR/release`` exists (a test kills the process running it, or interrupts the run). It reports
two ground-truth statistics (``accuracy``, primary, and ``loss``), its own default fine-tuning
hyper-parameters, and records the ``variance_collapse`` diagnostic through its context when a
benchmark asks for it.
"""
from __future__ import annotations

import os
import signal
import time
import zlib
from pathlib import Path

import numpy as np

from facebench.bundle import FeatureBundle
from facebench.errors import ConfigError
from facebench.predictions import TestPredictions
from facebench.tasks.base import FinetuneResult, Task

CALLS: list[str] = []


def _seed(*parts) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


def load_toy(split: str, ctx=None, shift: int = 0, **params):
    """A dataset is only its class shift here (the features are drawn per model and target)."""
    return {"split": split, "shift": int(shift)}


class ToyTask(Task):
    name = "toy"
    summary = "synthetic task for tests"
    ground_truth = ("accuracy", "loss")
    default_finetune = {"optimizer": "toy-adam", "epochs": 3}
    diagnostics = ("variance_collapse",)

    def validate(self, benchmark, ctx) -> None:
        if ctx.options.get("broken"):
            raise ConfigError("toy: option 'broken' is set")
        for target in benchmark.targets:
            ctx.dataset(target, self.name)  # ConfigError for a dataset the run does not know

    def pretrain(self, model, ctx) -> None:
        CALLS.append(f"pretrain {model.name}")

    def _features(self, model, dataset, ctx, epoch: int = 0):
        inst = ctx.dataset(dataset, self.name)
        shift = int(inst.spec.load("train", ctx, **inst.params)["shift"])
        rng = np.random.default_rng(_seed(model.name, dataset, epoch))
        sep = float(model.options["sep"]) * (1 + epoch)
        y = (np.repeat(np.arange(4), 15) + shift) % 4
        return rng.normal(size=(60, 6)) + sep * np.eye(4, 6)[y], y, rng

    def extract(self, model, dataset, ctx) -> FeatureBundle:
        CALLS.append(f"extract {model.name} {dataset}")
        x, y, rng = self._features(model, dataset, ctx)
        probs = rng.dirichlet(np.ones(5), size=60)
        return FeatureBundle.from_arrays(x, y, probs, name=f"{model.name}:{dataset}", meta={"split": "train"})

    def finetune(self, model, dataset, seed, hparams, ctx) -> FinetuneResult:
        label = f"finetune {model.name} {dataset} {seed}"
        CALLS.append(label)
        if hparams.get("optimizer") != "toy-adam":
            raise ConfigError(f"toy: expected the task's default optimizer, got {hparams}")
        if os.environ.get("TOY_FAIL_AT") and os.environ["TOY_FAIL_AT"] in label:
            raise RuntimeError(f"injected failure at {label}")
        if os.environ.get("TOY_KILL_AT") and os.environ["TOY_KILL_AT"] in label:
            os.kill(os.getpid(), signal.SIGKILL)
        if os.environ.get("TOY_HOLD_AT") and os.environ["TOY_HOLD_AT"] in label:
            hold = Path(os.environ["TOY_HOLD_DIR"])
            (hold / f"{os.getpid()}.pid").write_text(label)
            while not (hold / "release").exists():
                time.sleep(0.05)
        rng = np.random.default_rng(_seed(model.name, dataset, seed))
        acc = 0.5 + 0.1 * float(model.options["sep"]) + 0.01 * rng.random()
        preds = None
        if ctx.options.get("predictions"):  # N test samples, the first round(acc N) of them right
            n_test = int(ctx.options["predictions"])
            true = np.arange(n_test) % 4
            right = rng.permutation(n_test) < round(acc * n_test)
            preds = TestPredictions(np.where(right, true, (true + 1) % 4), true)
            acc = float(preds.correct.mean())
        trace: dict[str, list[float]] = {name: [] for name in ctx.diagnostics}
        for epoch in range(int(hparams["epochs"]) + 1) if ctx.diagnostics else ():
            x, y, _ = self._features(model, dataset, ctx, epoch)
            for name, value in ctx.diagnose(x, y).items():
                trace[name].append(value)
        return FinetuneResult({"accuracy": acc, "loss": 1.0 - acc + 0.05 * rng.random()}, diagnostics=trace,
                              predictions=preds)
