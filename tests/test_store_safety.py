"""One run per store (a lock naming its holder, recovered when its holder dies), and a full disk or
read-only directory during a run: one clear line, nothing finished lost, the store intact."""
from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from facebench.config import load_config
from facebench.errors import FacebenchError, StoreError
from facebench.plugins import reset_plugins_cache
from facebench.runner import RunOptions, run_benchmarks
from facebench.runner.run_lock import RunLock, lock_path
from facebench.store import SCHEMA_VERSION, ResultsStore

HERE = Path(__file__).parent


pytestmark = pytest.mark.usefixtures("toy_plugin")  # tests/conftest.py


def config(tmp_path, metrics=("face", "leep")):
    raw = {"name": "toy", "metrics": list(metrics), "store": str(tmp_path / "s.sqlite"),
           "cache_dir": str(tmp_path / "cache"), "scoring": {"isolation": "in-process"},
           "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta", "tb"], "seeds": [0, 1]}]}
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path)


def results(store_path):
    db = sqlite3.connect(store_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {
            "truth": sorted(r[:-1] for r in db.execute("SELECT * FROM ground_truth")),
            "scores": sorted(db.execute("SELECT * FROM scores")),
            "done": sorted(r[0] for r in db.execute("SELECT key FROM jobs WHERE state='done'")),
        }
    finally:
        db.close()


def reference(tmp_path):
    ref = tmp_path / "reference"
    ref.mkdir()
    cfg = config(ref)
    run_benchmarks(cfg, RunOptions(quiet=True))
    return results(cfg.store)


HOLD = """
import sys, time
from facebench.runner.run_lock import RunLock
lock = RunLock(sys.argv[1]); lock.acquire(); print("held", flush=True); time.sleep(600)
"""


def test_a_second_run_is_refused_naming_the_holder_and_a_killed_holders_lock_is_recovered(tmp_path):
    cfg = config(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, cfg.store], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreError) as info:
            run_benchmarks(cfg, RunOptions(quiet=True))
        message = str(info.value)
        assert f"in use by facebench run pid {holder.pid} on host " in message and "started 20" in message
        assert not Path(cfg.store).exists()  # refused before writing anything
    finally:
        holder.kill()  # SIGKILL: the lock is left behind, stale
        holder.wait()
    assert json.loads(lock_path(cfg.store).read_text())["pid"] == holder.pid  # the dead holder's record is still there
    summary = run_benchmarks(cfg, RunOptions(quiet=True))  # recovered
    assert not summary.failed
    assert results(cfg.store) == reference(tmp_path)


def test_the_lock_is_released_when_a_run_fails(tmp_path, monkeypatch):
    cfg = config(tmp_path)
    monkeypatch.setattr("facebench.store.ResultsStore.finish_run", lambda *a: (_ for _ in ()).throw(StoreError("x")))
    with pytest.raises(StoreError):
        run_benchmarks(cfg, RunOptions(quiet=True))
    monkeypatch.undo()
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("FACEBENCH_PLUGINS", "toytask.plugin")
    with RunLock(cfg.store):  # free again
        pass


def test_score_store_and_run_exclude_each_other_naming_the_holder(tmp_path):
    # `facebench score --store` records scores: it takes the store's lock like a run does.
    from facebench.plugins import get_plugins
    from facebench.runner.only_score import score_store

    cfg = config(tmp_path)
    run_benchmarks(cfg, RunOptions(quiet=True))
    before = results(cfg.store)
    spec = {"logme": {}}
    with RunLock(cfg.store):  # a run holds the store
        with pytest.raises(StoreError, match=f"in use by facebench run pid {os.getpid()} on host "):
            score_store(cfg.store, spec, get_plugins().metrics)
    assert results(cfg.store) == before  # refused before writing anything
    with RunLock(cfg.store, command="facebench score --store"):  # a scorer holds it
        with pytest.raises(StoreError, match=f"in use by facebench score --store pid {os.getpid()} on host "):
            run_benchmarks(cfg, RunOptions(quiet=True))
    out = score_store(cfg.store, spec, get_plugins().metrics)  # free again: it scores and records
    assert not out.errors and out.results and results(cfg.store)["scores"] != before["scores"]


@pytest.mark.slow
def test_two_runs_started_together_do_each_job_once(tmp_path):
    path = tmp_path / "toy.yaml"
    config(tmp_path)
    env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{HERE.parent}", "FACEBENCH_PLUGINS": "toytask.plugin",
           "FACEBENCH_PHASE_DELAY": "0.05"}
    cmd = [sys.executable, "-m", "facebench", "run", str(path), "--quiet", "--no-leaderboard"]
    procs = [subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [(p.wait(120), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in outs)
    assert codes in ([0, 0], [0, 2]), outs  # both (one after the other) or one refused
    for code, err in outs:
        if code == 2:
            assert "in use by facebench run pid" in err and "Traceback" not in err
    assert results(tmp_path / "s.sqlite") == reference(tmp_path)


def _inject(monkeypatch, mod, name: str, err: int, after: int = 0):
    """Make ``mod.name`` raise OSError(err) from its ``after``-th call on."""
    real = getattr(mod, name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) > after:
            raise OSError(err, os.strerror(err), str(args[0]) if args else None)
        return real(*args, **kwargs)

    monkeypatch.setattr(mod, name, failing)


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS])
def test_a_full_disk_or_read_only_cache_stops_the_run_in_one_line_and_loses_nothing(tmp_path, monkeypatch, err):
    cfg = config(tmp_path)
    _inject(monkeypatch, os, "replace", err, after=6)  # the third feature file's writes fail
    with pytest.raises(FacebenchError) as info:
        run_benchmarks(cfg, RunOptions(quiet=True))
    message = str(info.value)
    assert "\n" not in message and os.strerror(err) in message and "run again to resume" in message
    partial = results(cfg.store)  # integrity_check passes
    assert partial["truth"] == [] and len(partial["done"]) == 4 + 2  # pretraining, two extractions
    leftovers = [p for p in (tmp_path / "cache").rglob("*") if ".tmp" in p.name]
    assert leftovers == []
    monkeypatch.undo()
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("FACEBENCH_PLUGINS", "toytask.plugin")
    reset_plugins_cache()
    run_benchmarks(cfg, RunOptions(quiet=True))
    assert results(cfg.store) == reference(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_really_read_only_cache_directory(tmp_path):
    cfg = config(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o555)
    try:
        with pytest.raises(FacebenchError, match="cannot write"):
            run_benchmarks(cfg, RunOptions(quiet=True))
    finally:
        cache.chmod(0o755)
    assert results(cfg.store)["truth"] == []


class _FullDisk:
    """A connection proxy whose writes to ``table`` fail like SQLite on a full disk."""

    def __init__(self, db, table):
        self.db, self.table = db, table

    def execute(self, sql, *args):
        if self.table in sql and sql.lstrip().upper().startswith("INSERT"):
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.db, name)


def test_a_store_write_on_a_full_disk_is_rolled_back_whole(tmp_path):
    store = ResultsStore(tmp_path / "s.sqlite")
    store.db = _FullDisk(store.db, "diagnostics")
    with pytest.raises(StoreError, match="cannot write to the results store \\(database or disk is full\\)"):
        store.record_ground_truth("k", "b", "t", "m", 0, {"accuracy": 0.5}, 1.0, {"variance_collapse": [1.0, 0.5]})
    store.db = store.db.db
    assert not store.job_done("k")
    assert store.ground_truth("b", "t", "accuracy") == {}  # the accuracy written before the failure was rolled back
    store.close()


def test_a_store_from_a_newer_schema_is_refused_unchanged(tmp_path):
    path = tmp_path / "s.sqlite"
    ResultsStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer facebench"):
        ResultsStore(path)
    assert path.read_bytes() == before


def test_a_board_directory_that_cannot_be_written_is_one_line(tmp_path, monkeypatch):
    cfg = config(tmp_path)
    run_benchmarks(cfg, RunOptions(quiet=True))
    _inject(monkeypatch, os, "replace", errno.ENOSPC)
    with pytest.raises(FacebenchError, match="leaderboard.md: cannot write the leaderboard \\(No space left on device\\)"):
        run_benchmarks(cfg, RunOptions(quiet=True, leaderboard_dir=str(tmp_path / "boards")))
    assert list((tmp_path / "boards").iterdir()) == []
