"""The parallel local executor (``--workers N``): same store as the sequential one, robust to crashes and Ctrl-C."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from facebench.config import load_config
from facebench.runner import RunOptions, run_benchmarks
from facebench.runner.execute.local import LocalExecutor
from facebench.runner.execute.choose import make_executor
from facebench.runner.execute.pool import ProcessExecutor
from store_compare import hold_at, killing_the_held_job, store_contents

HERE = Path(__file__).parent
ROOT = HERE.parent


pytestmark = pytest.mark.usefixtures("toy_plugin")  # tests/conftest.py


def toy_config(folder: Path, **top) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    raw = {
        "name": "toy", "metrics": ["face", "leep", "logme"],
        "store": str(folder / "results.sqlite"), "cache_dir": str(folder / "cache"),
        "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta", "tb"], "seeds": [0, 1],
                        "options": {"predictions": 40}, "diagnostics": ["variance_collapse"]}],
        **top,
    }
    path = folder / "toy.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def run(folder: Path, executor, **top):
    cfg = load_config(toy_config(folder, **top))
    return cfg, run_benchmarks(cfg, RunOptions(quiet=True, executor=executor))


def test_two_workers_write_the_same_store_as_the_sequential_executor(tmp_path):
    cfg, seq = run(tmp_path / "seq", LocalExecutor())
    cfg2, par = run(tmp_path / "par", ProcessExecutor(2))
    assert not seq.failed and not par.failed
    assert par.done == seq.done == 4 + 8 + 16 + 6
    a, b = store_contents(cfg.store), store_contents(cfg2.store)
    assert a["ground_truth"] and a["scores"] and a["diagnostics"] and a["job_costs"]
    assert a == b
    pids = {r[-2] for r in __import__("sqlite3").connect(cfg2.store).execute("SELECT * FROM job_costs "
                                                                            "WHERE kind='finetune'")}
    assert os.getpid() not in pids  # the jobs ran in the workers


@pytest.mark.slow  # worker processes start (seconds each)
def test_a_job_error_is_recorded_and_the_rest_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("TOY_FAIL_AT", "finetune m1 ta 0")
    cfg, seq = run(tmp_path / "seq", LocalExecutor())
    cfg2, par = run(tmp_path / "par", ProcessExecutor(2))
    assert [label for label, _ in par.failed] == ["finetune m1 on ta (seed 0)"]
    assert par.failed == seq.failed
    assert store_contents(cfg.store) == store_contents(cfg2.store)


@pytest.mark.slow  # worker processes start (seconds each)
def test_a_job_that_kills_its_worker_is_recorded_failed_and_the_others_finish(tmp_path, monkeypatch):
    monkeypatch.setenv("TOY_KILL_AT", "finetune m2 tb 1")
    cfg, summary = run(tmp_path, ProcessExecutor(2))
    assert [label for label, _ in summary.failed] == ["finetune m2 on tb (seed 1)"]
    assert "worker process died" in summary.failed[0][1] and "signal 9" in summary.failed[0][1]
    assert summary.done == 4 + 8 + 16 + 6 - 1
    import sqlite3

    states = dict(sqlite3.connect(cfg.store).execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
    assert states == {"done": summary.done, "failed": 1}


@pytest.mark.slow  # worker processes start (seconds each)
def test_a_worker_killed_from_outside_mid_job_is_run_again_and_the_store_is_the_same(tmp_path, monkeypatch):
    cfg, _ = run(tmp_path / "seq", LocalExecutor())
    hold, env = hold_at(tmp_path, "finetune m3 ta 1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with killing_the_held_job(hold, polls=1200) as killed:
        cfg2, summary = run(tmp_path / "par", ProcessExecutor(2))
    assert killed and killed[0] != os.getpid()
    assert not summary.failed
    assert store_contents(cfg.store) == store_contents(cfg2.store)


def test_workers_key_and_flag_choose_the_executor(tmp_path):
    cfg = load_config(toy_config(tmp_path, workers=3))
    assert cfg.workers == 3 and isinstance(make_executor(cfg), ProcessExecutor)
    assert make_executor(cfg).workers == 3
    assert isinstance(make_executor(cfg, workers=1), LocalExecutor)
    assert make_executor(cfg, workers=2).workers == 2
    assert load_config(toy_config(tmp_path / "b", workers=2)).digest == load_config(toy_config(tmp_path / "c")).digest
    with pytest.raises(Exception, match="'workers' must be an integer >= 1"):
        load_config(toy_config(tmp_path / "d", workers=0))


@contextmanager
def held_run(tmp_path: Path):
    """A ``facebench run --workers 2`` subprocess whose two workers are held inside fine-tuning jobs.

    Yields ``(process, worker pids)``; on the way out the held jobs are released, and the driver
    and its workers are killed if still alive.
    """
    hold, held = hold_at(tmp_path, "finetune")
    path = toy_config(tmp_path / "run")
    env = {**os.environ, **held, "FACEBENCH_PLUGINS": "toytask.plugin",
           "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "facebench", "run", str(path), "--workers", "2", "--quiet",
                             "--no-leaderboard"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    workers: list[int] = []
    try:
        deadline = time.time() + 120
        while len(list(hold.glob("*.pid"))) < 2 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        workers = [int(p.stem) for p in hold.glob("*.pid")]
        assert len(workers) == 2, proc.stderr.read().decode() if proc.poll() is not None else "workers never started"
        yield proc, workers
    finally:
        if proc.poll() is None:
            proc.kill()
        (hold / "release").touch()
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.mark.slow  # worker processes start (seconds each)
def test_ctrl_c_stops_the_run_and_its_workers(tmp_path):
    with held_run(tmp_path) as (proc, workers):
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=30)
        assert rc == 130, proc.stderr.read().decode()[-2000:]  # the CLI's exit status for an interrupt
        time.sleep(0.5)
        assert not [pid for pid in workers if alive(pid)]  # no worker outlives the run
    import sqlite3

    states = dict(sqlite3.connect(tmp_path / "run" / "results.sqlite").execute(
        "SELECT kind, COUNT(*) FROM jobs WHERE state='done' GROUP BY kind").fetchall())
    assert "finetune" not in states and states.get("extract") == 8  # nothing half-done; resume picks it up


def test_workers_exit_when_their_driver_is_killed(tmp_path):
    # SIGKILL cannot be handled: the driver leaves without terminating its pool, and the workers
    # (held inside a fine-tuning job) must notice and exit on their own.
    with held_run(tmp_path) as (proc, workers):
        proc.kill()
        proc.wait(timeout=30)
        deadline = time.time() + 15
        while any(alive(pid) for pid in workers) and time.time() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if alive(pid)], "workers outlived their killed driver"


def test_workers_are_pinned_to_one_gpu_each_round_robin(monkeypatch):
    from facebench.runner.execute.pool import pin_gpu

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    pin_gpu(5, 4)
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "1"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")  # the devices the driver was given
    pin_gpu(2, 2)
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "2"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    pin_gpu(3, 1)  # one GPU (or none): left as it is
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "7"


def test_copies_of_a_scorer_in_one_process_share_its_bundles():
    import pickle

    from facebench.runner.score import TargetScorer

    scorer = TargetScorer("b", "t", {"m": ("/x/features/k.npz", "k")})
    scorer._loaded["m"] = "a bundle"
    a, b = pickle.loads(pickle.dumps(scorer)), pickle.loads(pickle.dumps(scorer))
    assert a._loaded is b._loaded and a._loaded == {}  # travels without bundles; shared once arrived
    other = pickle.loads(pickle.dumps(TargetScorer("b", "t2", {"m": ("/x/features/k2.npz", "k2")})))
    assert other._loaded is not a._loaded
