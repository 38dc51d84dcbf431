"""The embedded default (`facebench run` with no arguments): every built-in task, offline."""
from __future__ import annotations

from pathlib import Path

from facebench.config import load_config
from facebench.plugins import get_plugins

DEFAULT = Path(__file__).resolve().parents[1] / "configs" / "embedded" / "default.yaml"


def test_default_runs_every_builtin_task_offline_on_two_workers():
    cfg = load_config(DEFAULT)
    plugins = get_plugins()
    assert {b.task for b in cfg.benchmarks} == {"classification", "segmentation", "text"}
    assert not cfg.download and cfg.workers == 2 and cfg.metrics is None  # every registered metric
    for b in cfg.benchmarks:
        zoo = plugins.zoos.get(b.zoo)
        assert zoo.offline and zoo.task == b.task, b.zoo
        assert len(b.seeds) >= 3, f"{b.task}: split-half reliability needs seeds to split"
        for target in b.targets:
            assert target in plugins.datasets or target in cfg.datasets, target
