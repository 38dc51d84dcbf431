"""Per-job cost (wall time, device, peak memory) in the store, and the boards' cost ratio recomputed from it."""
from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from facebench.config import load_config
from facebench.runner import RunOptions, run_benchmarks
from facebench.runner.execute.cost import measured
from test_parallel_executor import toy_config

pytestmark = pytest.mark.usefixtures("toy_plugin")  # tests/conftest.py


def test_peak_memory_is_the_jobs_own():
    big = measured(lambda: float(np.ones(40_000_000).sum()))  # 320 MB of float64
    small = measured(lambda: 1.0)
    seconds, value, cost = big()
    assert value == 40_000_000.0 and cost.device == "cpu" and seconds == cost.seconds >= 0
    if cost.peak_scope != "job":
        pytest.skip("this kernel cannot reset the peak RSS (/proc/self/clear_refs)")
    assert cost.peak_rss_bytes >= 320 * 1024**2
    _, _, after = small()  # the array is gone: the next job's peak is its own, far below
    assert after.peak_rss_bytes < cost.peak_rss_bytes - 250 * 1024**2
    assert after.peak_gpu_bytes is None


def test_every_job_has_its_cost_and_the_boards_show_the_ratio_from_the_store(tmp_path):
    cfg = load_config(toy_config(tmp_path))
    summary = run_benchmarks(cfg, RunOptions(quiet=True, leaderboard_dir=str(tmp_path / "boards")))
    db = sqlite3.connect(cfg.store)
    costs = db.execute("SELECT c.kind, c.seconds, j.seconds, c.device, c.peak_rss_bytes FROM job_costs c "
                       "JOIN jobs j ON j.key = c.key").fetchall()
    assert len(costs) == summary.done == db.execute("SELECT COUNT(*) FROM jobs WHERE state='done'").fetchone()[0]
    assert all(dev == "cpu" and peak > 0 and secs >= 0 for _, secs, _, dev, peak in costs)
    # the ratio, from the store's tables by hand: (extraction + the metric) / fine-tuning the zoo once
    bench = "toy/toy-zoo"
    extract = sum(r[0] for r in db.execute("SELECT seconds FROM jobs WHERE kind='extract' AND benchmark=?", (bench,)))
    per_run: dict[tuple, list[float]] = {}
    for target, model, secs in db.execute("SELECT target, model, seconds FROM jobs WHERE kind='finetune' "
                                          "AND benchmark=?", (bench,)):
        per_run.setdefault((target, model), []).append(secs)
    once = sum(sum(v) / len(v) for v in per_run.values())
    assert len(per_run) == 8 and all(len(v) == 2 for v in per_run.values())
    doc = json.loads((tmp_path / "boards" / "leaderboard.json").read_text())
    (board,) = [b for b in doc["benchmarks"] if b["benchmark"] == bench]
    markdown = (tmp_path / "boards" / "leaderboard.md").read_text()
    html = (tmp_path / "boards" / "leaderboard.html").read_text()
    for metric in ("face", "leep", "logme"):
        metric_secs = sum(r[0] for r in db.execute("SELECT seconds FROM metric_values WHERE benchmark=? AND metric=?",
                                                   (bench, metric)))
        expected = (extract + metric_secs) / once
        assert board["cost_ratio"]["ratio"][metric] == pytest.approx(expected, rel=1e-12)
        shown = f"{expected:.3g}×"
        assert shown in markdown and shown in html
    assert "Cost ratio" in markdown and "Cost ratio" in html
    kinds = {k["kind"]: k for k in board["job_costs"]}
    assert board["cost_ratio"]["finetune_once_seconds"] == pytest.approx(once, rel=1e-12)
    assert kinds["finetune"]["jobs"] == 16 and kinds["finetune"]["devices"] == ["cpu"]
    assert kinds["score"]["jobs"] == 6
