"""The Ray executor on a local 2-CPU cluster: the same store as the local executor; a killed worker is retried."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from facebench.config import load_config
from facebench.runner import RunOptions, run_benchmarks
from facebench.runner.execute.local import LocalExecutor
from facebench.runner.jobs import dependencies
from facebench.runner.execute.choose import make_executor
from store_compare import hold_at, killing_the_held_job, store_contents
from test_parallel_executor import toy_config

pytestmark = pytest.mark.usefixtures("toy_plugin")  # tests/conftest.py

ray = pytest.importorskip("ray")
from facebench.runner.execute.ray import RayExecutor  # noqa: E402

HERE = Path(__file__).parent
SLOW = pytest.mark.slow  # a Ray cluster starts (tens of seconds on 2 busy cores): the two tests
# (same store as the local executor; a killed worker retried) run in `make test` all the same


@pytest.fixture(scope="module")
def cluster():
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    path = os.pathsep.join([str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 1024**2,
             runtime_env={"env_vars": {"PYTHONPATH": path, "OMP_NUM_THREADS": "1"}})
    yield
    ray.shutdown()


def run(folder: Path, executor, **top):
    cfg = load_config(toy_config(folder, **top))
    return cfg, run_benchmarks(cfg, RunOptions(quiet=True, executor=executor))


def test_ray_writes_the_same_store_as_the_local_executor(tmp_path, cluster):
    cfg, local = run(tmp_path / "local", LocalExecutor())
    cfg2, remote = run(tmp_path / "ray", RayExecutor(max_retries=1))
    assert not local.failed and not remote.failed
    assert remote.done == local.done == 4 + 8 + 16 + 6
    assert store_contents(cfg.store) == store_contents(cfg2.store)
    again = run_benchmarks(cfg2, RunOptions(quiet=True, executor=RayExecutor()))
    assert again.done == 0 and again.skipped == remote.done  # resume works as locally


def test_a_worker_killed_mid_job_is_retried_and_the_store_is_the_same(tmp_path, cluster, monkeypatch):
    cfg, _ = run(tmp_path / "local", LocalExecutor())
    hold, env = hold_at(tmp_path, "finetune m1 tb 0")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # the pid the job wrote is its Ray worker's; the workers read TOY_HOLD_* from the job's
    # runtime env (the cluster was started before)
    with killing_the_held_job(hold, polls=2400) as killed:
        executor = RayExecutor(max_retries=2)
        executor.runtime_env = {"env_vars": env}
        cfg2, summary = run(tmp_path / "ray", executor)
    assert killed and killed[0] != os.getpid()
    assert not summary.failed
    assert store_contents(cfg.store) == store_contents(cfg2.store)


@SLOW
def test_a_job_that_always_kills_its_worker_is_failed_after_its_retries(tmp_path, cluster):
    executor = RayExecutor(max_retries=1)
    executor.runtime_env = {"env_vars": {"TOY_KILL_AT": "finetune m2 ta 1"}}
    cfg, summary = run(tmp_path, executor)
    assert [label for label, _ in summary.failed] == ["finetune m2 on ta (seed 1)"]
    assert summary.done == 4 + 8 + 16 + 6 - 1


def test_dependencies_follow_the_phases(tmp_path):
    from facebench.runner.run import _prepare

    cfg = load_config(toy_config(tmp_path))
    phases = _prepare(cfg, RunOptions(quiet=True), None).jobs["toy/toy-zoo"]
    needs = dependencies(phases)
    by_label = {job.label: job for phase in phases for job in phase}
    label = lambda job: job.label  # noqa: E731
    assert [label(d) for d in needs[id(by_label["pretrain m1"])]] == []
    assert [label(d) for d in needs[id(by_label["extract m1 on ta"])]] == ["pretrain m1"]
    assert [label(d) for d in needs[id(by_label["finetune m2 on tb (seed 1)"])]] == ["pretrain m2"]
    assert sorted(label(d) for d in needs[id(by_label["score face on toy/toy-zoo tb"])]) == [
        f"extract m{i} on tb" for i in range(4)]


def test_resources_come_from_the_config_per_kind_and_benchmark(tmp_path):
    path = toy_config(tmp_path, ray={"max_retries": 5, "address": "auto",
                                     "resources": {"default": {"num_cpus": 2}, "finetune": {"num_gpus": 1}}})
    import yaml

    raw = yaml.safe_load(path.read_text())
    raw["benchmarks"][0]["resources"] = {"finetune": {"memory": 1000}}
    path.write_text(yaml.safe_dump(raw))
    cfg = load_config(path)
    executor = make_executor(cfg, "ray")
    assert executor.address == "auto" and executor.max_retries == 5
    assert make_executor(cfg, "ray", address="ray://x:1").address == "ray://x:1"
    from facebench.runner.jobs import Job

    job = Job("k", "finetune", "l", lambda: None, "toy/toy-zoo")
    assert executor.resources_for(job) == {"num_cpus": 2, "num_gpus": 1, "memory": 1000}
    assert executor.resources_for(Job("k", "score", "l", lambda: None, "toy/toy-zoo")) == {"num_cpus": 2}


def test_ray_auth_mode_is_disabled_only_when_unset(monkeypatch):
    from facebench.runner.execute.ray import ensure_auth_mode

    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    ensure_auth_mode()
    assert os.environ["RAY_AUTH_MODE"] == "disabled"
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    ensure_auth_mode()
    assert os.environ["RAY_AUTH_MODE"] == "token"
