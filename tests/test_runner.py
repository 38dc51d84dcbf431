"""Runner and results store: planning, validation, caching, failure isolation and resume."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from facebench.config import load_config, parse_config
from facebench.errors import ConfigError
from facebench.runner import RunOptions, run_benchmarks

HERE = Path(__file__).parent


pytestmark = pytest.mark.usefixtures("toy_plugin")  # tests/conftest.py


def toy_config(tmp_path, **bench):
    raw = {
        "name": "toy",
        "metrics": ["face", "leep", "logme"],
        "store": str(tmp_path / "results.sqlite"),
        "cache_dir": str(tmp_path / "cache"),
        "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta", "tb"], "seeds": [0, 1], **bench}],
    }
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def dump(store_path):
    db = sqlite3.connect(store_path)
    out = {}
    for table in ("ground_truth", "scores"):
        rows = db.execute(f"SELECT * FROM {table}").fetchall()
        # drop timing columns: ground_truth's last column is seconds
        out[table] = sorted(tuple(r[:-1]) if table == "ground_truth" else tuple(r) for r in rows)
    return out


def test_run_records_everything_and_second_run_is_cached(tmp_path, toy_plugin):
    cfg = load_config(toy_config(tmp_path))
    summary = run_benchmarks(cfg, RunOptions(quiet=True))
    assert not summary.failed
    # 4 pretrain + 8 extract + 16 finetune + 2 targets x 3 metrics
    assert summary.done == 4 + 8 + 16 + 6
    data = dump(cfg.store)
    assert len([r for r in data["ground_truth"]]) == 16 * 2  # accuracy and loss
    assert {r[2] for r in data["scores"]} == {"face", "leep", "logme"}
    toy_plugin.CALLS.clear()
    again = run_benchmarks(cfg, RunOptions(quiet=True))
    assert again.done == 0 and again.skipped == summary.done
    assert toy_plugin.CALLS == []
    assert dump(cfg.store) == data


def test_correlations_on_the_board_match_scipy_and_none_are_stored(tmp_path):
    from scipy import stats

    from facebench.leaderboard import load

    cfg = load_config(toy_config(tmp_path))
    run_benchmarks(cfg, RunOptions(quiet=True))
    db = sqlite3.connect(cfg.store)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "correlations" not in tables
    scores = dict(db.execute("SELECT model, score FROM scores WHERE target='ta' AND metric='logme'").fetchall())
    acc = {}
    for model, value in db.execute("SELECT model, value FROM ground_truth WHERE target='ta' AND statistic='accuracy'"):
        acc.setdefault(model, []).append(value)
    models = sorted(scores)
    x = [scores[m] for m in models]
    y = [sum(acc[m]) / len(acc[m]) for m in models]
    board = load(cfg.store, n_boot=10)
    target = next(t for t in board.benchmarks[0].targets if t.target == "ta")
    assert target.value("logme", "accuracy", "tau_w") == pytest.approx(stats.weightedtau(x, y).statistic)


def test_failed_job_is_isolated_and_retried(tmp_path, toy_plugin, monkeypatch):
    cfg = load_config(toy_config(tmp_path))
    monkeypatch.setenv("TOY_FAIL_AT", "finetune m2 ta 1")
    summary = run_benchmarks(cfg, RunOptions(quiet=True))
    assert [label for label, _ in summary.failed] == ["finetune m2 on ta (seed 1)"]
    assert summary.done == 4 + 8 + 15 + 6
    monkeypatch.delenv("TOY_FAIL_AT")
    toy_plugin.CALLS.clear()
    again = run_benchmarks(cfg, RunOptions(quiet=True))
    assert not again.failed
    assert [c for c in toy_plugin.CALLS if c.startswith("finetune")] == ["finetune m2 ta 1"]
    # scores do not depend on the ground truth: nothing was scored again
    assert not [c for c in toy_plugin.CALLS if not c.startswith("finetune")]
    reference = tmp_path / "ref"
    reference.mkdir()
    ref_cfg = load_config(toy_config(reference))
    run_benchmarks(ref_cfg, RunOptions(quiet=True))
    assert dump(cfg.store) == dump(ref_cfg.store)


@pytest.mark.slow
def test_kill_9_then_resume_matches_uninterrupted(tmp_path):
    path = toy_config(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(HERE), "FACEBENCH_PLUGINS": "toytask.plugin", "TOY_KILL_AT": "finetune m1 tb 0"}
    cmd = [sys.executable, "-m", "facebench", "run", str(path), "--quiet", "--no-leaderboard"]
    killed = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert killed.returncode == -9
    env.pop("TOY_KILL_AT")
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    ref = tmp_path / "ref"
    ref.mkdir()
    ref_path = toy_config(ref)
    subprocess.run([*cmd[:4], str(ref_path), *cmd[5:]], env=env, check=True, capture_output=True)
    assert dump(tmp_path / "results.sqlite") == dump(ref / "results.sqlite")


def test_config_errors_name_the_problem(tmp_path):
    from facebench.runner.resolve import resolve_benchmarks
    from facebench.plugins import get_plugins

    base = {"benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta"]}]}
    for change, needle in [
        ({"task": "nope"}, "unknown task 'nope'"),
        ({"zoo": "nope"}, "unknown zoo 'nope'"),
        ({"targets": ["nope"]}, "unknown dataset 'nope'"),
    ]:
        raw = {"benchmarks": [{**base["benchmarks"][0], **change}]}
        with pytest.raises(ConfigError, match=needle):
            resolve_benchmarks(parse_config(raw, "x.yaml"), get_plugins())
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config({"benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta"], "epochs": 3}]})


def test_unknown_metric_and_validation_fail_before_any_job(tmp_path, toy_plugin):
    cfg = load_config(toy_config(tmp_path, options={"broken": True}))
    # the task says what is wrong; the runner says where (config block and benchmark), once
    with pytest.raises(ConfigError, match=r"^[^:]+\.yaml: benchmarks\[0\]: benchmark toy/toy-zoo: toy: option 'broken' is set$"):
        run_benchmarks(cfg, RunOptions(quiet=True))
    assert toy_plugin.CALLS == []
    raw = yaml.safe_load(toy_config(tmp_path).read_text())
    raw["metrics"] = ["face", "no-such-metric"]
    from facebench.errors import RegistryError

    with pytest.raises(RegistryError, match="no-such-metric"):
        run_benchmarks(parse_config(raw), RunOptions(quiet=True))
    assert toy_plugin.CALLS == []


def test_corrupt_feature_cache_is_recomputed(tmp_path, toy_plugin):
    cfg = load_config(toy_config(tmp_path))
    run_benchmarks(cfg, RunOptions(quiet=True))
    files = sorted((tmp_path / "cache" / "features").glob("*.npz"))
    assert files
    from facebench.runner.feature_cache import FeatureCache

    cache = FeatureCache(tmp_path / "cache")
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 2])
    assert cache.load(files[0].stem) is None  # detected, not trusted


def test_include_appends_benchmarks(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta"]}]}))
    (tmp_path / "main.yaml").write_text(yaml.safe_dump({"name": "x", "include": ["a.yaml"], "benchmarks": []}))
    cfg = load_config(tmp_path / "main.yaml")
    assert [b.targets for b in cfg.benchmarks] == [("ta",)]


@pytest.mark.parametrize("seeds, needle", [([0, -1], ">= 0"), ([0, 1, 1], "listed twice"), ([True], "integers"),
                                           ([], "non-empty")])
def test_bad_seeds_are_refused(seeds, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_config({"benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta"], "seeds": seeds}]})


@pytest.mark.parametrize("command", ["run", "leaderboard"])
def test_a_store_that_is_not_sqlite_is_one_line_and_left_unchanged(tmp_path, command):
    import hashlib
    import subprocess

    bad = tmp_path / "results.sqlite"
    bad.write_bytes(b"this is not a database, but somebody's notes\n" * 100)
    before = hashlib.sha256(bad.read_bytes()).hexdigest()
    args = ["--store", str(bad)] + (["--no-leaderboard"] if command == "run" else ["--out", str(tmp_path / "b")])
    proc = subprocess.run([sys.executable, "-m", "facebench", command, *args], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert f"{bad}: not a facebench results store" in proc.stderr
    assert hashlib.sha256(bad.read_bytes()).hexdigest() == before
    assert not (tmp_path / "results.sqlite-wal").exists() or (tmp_path / "results.sqlite-wal").stat().st_size == 0


def test_per_target_finetune_changes_that_targets_jobs_only(tmp_path, toy_plugin):
    # tb is fine-tuned for 5 epochs (its variance-collapse trace has 6 points), ta keeps the block's 3;
    # ta's jobs are the very jobs of a run without per_target (same keys), tb's are new ones.
    (tmp_path / "plain").mkdir()
    (tmp_path / "own").mkdir()
    plain = load_config(toy_config(tmp_path / "plain", diagnostics=["variance_collapse"]))
    own = load_config(toy_config(tmp_path / "own", diagnostics=["variance_collapse"],
                                 per_target={"tb": {"finetune": {"epochs": 5}}}))
    for cfg in (plain, own):
        assert not run_benchmarks(cfg, RunOptions(quiet=True)).failed

    def finetune_keys(cfg):
        db = sqlite3.connect(cfg.store)
        rows = db.execute("SELECT target, key FROM jobs WHERE kind='finetune'").fetchall()
        return {t: {k for tt, k in rows if tt == t} for t in ("ta", "tb")}

    def trace_lengths(cfg):
        db = sqlite3.connect(cfg.store)
        return dict(db.execute("SELECT target, MAX(epoch) + 1 FROM diagnostics GROUP BY target").fetchall())

    p, o = finetune_keys(plain), finetune_keys(own)
    assert p["ta"] == o["ta"] and len(o["ta"]) == 8
    assert not p["tb"] & o["tb"] and len(o["tb"]) == 8
    assert trace_lengths(plain) == {"ta": 4, "tb": 4} and trace_lengths(own) == {"ta": 4, "tb": 6}


@pytest.mark.parametrize("per_target, needle", [
    ({"tc": {"finetune": {"epochs": 5}}}, r"per_target: 'tc' is not one of this block's targets \(ta, tb\)"),
    ({"tb": {"seeds": [3]}}, r"per_target\.tb: unknown key\(s\) seeds"),
    ({"tb": {"finetune": 5}}, r"per_target\.tb\.finetune: must be a mapping"),
    ({"tb": [1]}, r"per_target\.tb: must be a mapping with 'finetune'"),
])
def test_bad_per_target_settings_are_named(tmp_path, per_target, needle):
    with pytest.raises(ConfigError, match=needle):
        load_config(toy_config(tmp_path, per_target=per_target))


def test_a_targets_own_hyper_parameters_are_validated_before_any_job(tmp_path):
    from facebench.plugins import get_plugins
    from facebench.runner.context import task_context
    from facebench.runner.resolve import resolve_benchmarks, validate_benchmarks

    raw = {"benchmarks": [{"task": "classification", "zoo": "embedded-classification", "targets": ["mnist-5k", "digits"],
                           "per_target": {"digits": {"finetune": {"optimizer": "lbfgs"}}}}]}
    cfg = parse_config(raw, "x.yaml")
    benches = resolve_benchmarks(cfg, get_plugins())
    with pytest.raises(ConfigError, match=r"benchmark classification/embedded-classification: per_target\.digits: "
                                          r"classification: unknown optimizer 'lbfgs'"):
        validate_benchmarks(benches, lambda rb: task_context(get_plugins(), cache_dir=tmp_path,
                                                             options=rb.config.options))


def test_plan_estimates_the_jobs_to_run_from_recorded_costs(tmp_path):
    """After a run, a plan with one more seed times the new fine-tunings from the recorded ones (rule 2
    of facebench.runner.estimate: same kind, benchmark, target and model), by hand from the store."""
    import statistics

    from facebench.runner import plan_run
    from facebench.runner.estimate import estimate
    from facebench.store import ResultsStore

    cfg = load_config(toy_config(tmp_path))
    run_benchmarks(cfg, RunOptions(quiet=True))
    raw = yaml.safe_load((tmp_path / "toy.yaml").read_text())
    raw["benchmarks"][0]["seeds"] = [*raw["benchmarks"][0]["seeds"], 9]
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(raw))
    plan = plan_run(load_config(tmp_path / "toy.yaml"), RunOptions(quiet=True))
    todo = [p.job for p in plan if not p.done]
    assert todo and all(j.kind == "finetune" and j.seed == 9 for j in todo)
    store = ResultsStore(cfg.store)
    costs = store.job_costs()
    store.close()
    by_hand = sum(statistics.median(c["seconds"] for c in costs if c["kind"] == "finetune" and c["model"] == j.model
                                    and c["target"] == j.target and c["benchmark"] == j.benchmark) for j in todo)
    assert plan.estimate.without_basis == 0
    assert plan.estimate.wall_seconds == pytest.approx(by_hand)  # one worker
    assert estimate(todo, [], 1).without_basis == len(todo)  # no records: no basis, said so
