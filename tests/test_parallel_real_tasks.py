"""The real tasks (segmentation, text) in worker processes write the same store as in the driver."""
from __future__ import annotations

from pathlib import Path

import pytest

from facebench.config import parse_config
from facebench.runner import RunOptions, run_benchmarks
from facebench.runner.execute.local import LocalExecutor
from facebench.runner.execute.pool import ProcessExecutor
from segmentation_helpers import CLASSES, IGNORE, write_segnet
from store_compare import store_contents
from test_text_task import clue_pair, needs_vocab

HERE = Path(__file__).parent
pytestmark = pytest.mark.slow  # real models fine-tuned twice (minutes on 2 cores)


def same_store(raw: dict, folder: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    stores = []
    for name, executor in (("seq", LocalExecutor()), ("par", ProcessExecutor(2))):
        run_raw = {**raw, "store": str(folder / name / "r.sqlite"), "cache_dir": str(folder / name / "cache")}
        summary = run_benchmarks(parse_config(run_raw, f"{name}.yaml"), RunOptions(device="cpu", quiet=True,
                                                                                   executor=executor))
        assert not summary.failed, summary.failed
        stores.append(store_contents(summary.store))
    assert stores[0]["ground_truth"] and stores[0]["scores"]
    assert stores[0] == stores[1]


def test_segmentation_in_two_workers(tmp_path, monkeypatch):
    write_segnet(tmp_path / "target", 8, 4)
    write_segnet(tmp_path / "source", 8, 2, seed=5)
    folder = {"type": "segnet-folder", "classes": CLASSES, "ignore_index": IGNORE}
    raw = {
        "name": "tiny-seg", "plugins": ["tiny_segmentation_plugin"], "metrics": ["logme", "leep", "face", "hscore"],
        "datasets": {"tiny-target": {**folder, "root": str(tmp_path / "target")},
                     "tiny-source": {**folder, "root": str(tmp_path / "source")}},
        "benchmarks": [{"task": "segmentation", "zoo": "tiny-segmentation", "targets": ["tiny-target"], "seeds": [0, 1],
                        "finetune": {"epochs": 1, "batch_size": 4, "warmup_iters": 0},
                        "options": {"pixels_per_class": 20, "pixels_per_image": 5}}],
    }
    same_store(raw, tmp_path, monkeypatch)


@needs_vocab
def test_text_in_two_workers(tmp_path, monkeypatch):
    raw = {"name": "tiny-text", "plugins": ["tiny_text_plugin"], "metrics": ["leep", "nce", "logme"],
           "datasets": clue_pair(tmp_path),
           "benchmarks": [{"task": "text", "zoo": "tiny-text", "targets": ["tiny-tnews"], "seeds": [0],
                           "finetune": {"lr": 1e-3, "epochs": 1, "batch_size": 4},
                           "options": {"max_length": 16, "num_threads": 1}}]}
    same_store(raw, tmp_path, monkeypatch)
