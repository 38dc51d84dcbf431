"""Plugin isolation: a metric that raises, returns NaN/inf, hangs, leaks or crashes is reported and
recorded as failed, and every other metric of the run completes (facebench.isolation)."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import yaml

from facebench.config import load_config, parse_config
from facebench.errors import ConfigError
from facebench.isolation import IsolationError, Limits, run_limited
from facebench.runner import RunOptions, run_benchmarks

HERE = Path(__file__).parent
HOSTILE = ["boom", "nan-metric", "inf-metric", "hang", "leak", "crash"]


pytestmark = pytest.mark.usefixtures("toy_and_hostile_plugins")  # tests/conftest.py


def write_config(tmp_path, metrics, scoring):
    raw = {"name": "hostile", "metrics": metrics, "store": str(tmp_path / "s.sqlite"),
           "cache_dir": str(tmp_path / "cache"), "scoring": scoring,
           "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta"], "seeds": [0]}]}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path)


def test_every_hostile_metric_is_reported_and_the_others_complete(tmp_path):
    # the limit also bounds `leak`, whose first model writes 256 MB before its MemoryError: 0.2-0.7 s
    # as a rule, 4.4 s once in 10 (page faults); at 2 s the test failed 2 runs in 20 on an idle machine
    limit = 8.0
    cfg = write_config(tmp_path, ["face", "leep", *HOSTILE], {"time_limit_s": limit, "memory_limit_mb": 256})
    t0 = time.perf_counter()
    summary = run_benchmarks(cfg, RunOptions(quiet=True))
    elapsed = time.perf_counter() - t0
    failed = dict(summary.failed)
    assert set(failed) == {f"score {m} (plugin hostile_plugin) on toy/toy-zoo ta" for m in ("hang", "crash")}
    assert f"time limit of {limit:g}s" in failed["score hang (plugin hostile_plugin) on toy/toy-zoo ta"]
    assert "SIGSEGV" in failed["score crash (plugin hostile_plugin) on toy/toy-zoo ta"]
    assert "metric 'hang' (plugin module hostile_plugin) on toy/toy-zoo ta" in failed[
        "score hang (plugin hostile_plugin) on toy/toy-zoo ta"]
    # raise / NaN / inf / a leak stopped by the memory limit (a MemoryError in the worker): recorded per
    # model as errors and reported with the plugin and benchmark
    for metric, needle in (("boom", "boom plugin exploded"), ("nan-metric", "non-finite"), ("inf-metric", "non-finite"),
                           ("leak", "MemoryError")):
        lines = [e for e in summary.metric_errors if e.startswith(f"score {metric} (plugin hostile_plugin) on toy/toy-zoo ta")]
        assert len(lines) == 4 and all(needle in e for e in lines), summary.metric_errors  # one per model
    assert elapsed < 60  # the hung metric was stopped: the run did not wait for it
    db = sqlite3.connect(cfg.store)
    scores = db.execute("SELECT metric, COUNT(*) FROM scores GROUP BY metric").fetchall()
    assert dict(scores) == {"face": 4, "leep": 4}  # nothing non-finite reached the scores table
    states = dict(db.execute("SELECT state, COUNT(*) FROM jobs WHERE kind='score' GROUP BY state").fetchall())
    assert states == {"done": 6, "failed": 2}
    errors = db.execute("SELECT metric, COUNT(*) FROM metric_values WHERE error IS NOT NULL GROUP BY metric").fetchall()
    assert dict(errors) == {"boom": 4, "inf-metric": 4, "nan-metric": 4, "leak": 4}


def test_a_leak_past_the_limit_is_stopped_in_the_worker():
    import numpy as np

    def leak():
        kept = []
        while True:
            kept.append(np.ones(8 * 2**20))

    with pytest.raises(IsolationError, match="leaker: memory limit exceeded \\(200 MB"):
        run_limited(leak, Limits(memory_limit_mb=200), "leaker")


def test_a_hung_computation_is_stopped_within_its_limit():
    t0 = time.perf_counter()
    with pytest.raises(IsolationError, match="time limit of 0.5s"):
        run_limited(lambda: time.sleep(60), Limits(time_limit_s=0.5), "sleeper")
    assert time.perf_counter() - t0 < 10


def test_results_and_facebench_errors_come_back_from_the_worker():
    assert run_limited(lambda: {"a": 1.5}, Limits(), "ok") == {"a": 1.5}
    from facebench.errors import MetricInputError

    def bad():
        raise MetricInputError("bundle x: too few samples")

    with pytest.raises(IsolationError, match="bad one: bundle x: too few samples"):
        run_limited(bad, Limits(), "bad one")


def test_openmp_used_before_the_fork_does_not_hang_the_worker():
    """libgomp is not fork-safe: without the worker's one-thread OpenMP limit this hangs."""
    import numpy as np
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    x = np.random.default_rng(0).normal(size=(2000, 8))
    with threadpool_limits(2, user_api="openmp"):
        KMeans(3, n_init=1, random_state=0).fit(x)  # an OpenMP team in this process
        fit = run_limited(lambda: KMeans(3, n_init=1, random_state=0).fit(x).inertia_, Limits(time_limit_s=120), "km")
    assert fit == pytest.approx(KMeans(3, n_init=1, random_state=0).fit(x).inertia_)


def test_in_process_mode_runs_here_for_debugging():
    import os

    assert run_limited(os.getpid, Limits(isolation="in-process"), "pid") == os.getpid()
    assert run_limited(os.getpid, Limits(), "pid") != os.getpid()


@pytest.mark.parametrize("scoring, needle", [
    ({"isolation": "thread"}, "scoring.isolation must be one of"),
    ({"time_limit_s": -1}, "scoring.time_limit_s must be a positive number"),
    ({"memory_limit_mb": "lots"}, "scoring.memory_limit_mb must be a positive number"),
    ({"time_limit": 3}, "did you mean time_limit_s"),
    ("fast", "'scoring' must be a mapping"),
])
def test_bad_scoring_limits_are_refused(scoring, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_config({"scoring": scoring, "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta"]}]})


def test_scoring_limits_do_not_change_the_config_digest():
    base = {"benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta"]}]}
    assert parse_config(base).digest == parse_config({**base, "scoring": {"time_limit_s": 5}}).digest
    assert parse_config({**base, "scoring": {"time_limit_s": None}}).scoring.time_limit_s is None


def test_an_installed_plugin_whose_import_fails_is_left_out_and_named(monkeypatch):
    """An entry point that cannot be imported does not take the other plugins down."""
    import importlib.metadata

    from facebench.plugins import Plugins

    class BrokenEntryPoint:
        name, value, dist = "facebench-broken", "facebench_broken.plugin", None

        def load(self):
            raise ImportError("No module named 'torch_scatter'")

    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **kw: [BrokenEntryPoint()] if kw.get("group") == "facebench" else real(**kw))
    plugins = Plugins()
    assert plugins.broken == {"facebench-broken": "facebench_broken.plugin: ImportError: No module named 'torch_scatter'"}
    assert "face" in plugins.metrics and "hang" in plugins.metrics  # built-ins and the env's modules still load
