"""The run's ETA: the --plan estimate of the jobs still to run (facebench.runner.estimate.Remaining),
kept up to date as jobs finish, and shown by the run's progress bar (facebench.cli.run.Progress)."""
from __future__ import annotations

import pytest
import yaml
from tqdm import tqdm

from facebench.cli.run import Progress, eta_text
from facebench.config import load_config
from facebench.runner import RunOptions, plan_run, run_benchmarks
from facebench.runner.estimate import PhaseEstimate, Remaining, RunEstimate, estimate
from facebench.runner.jobs import Job


def job(key, kind, model, target="t", metric=None):
    return Job(key=key, kind=kind, label=key, fn=lambda: None, benchmark="b", target=target, model=model,
               metric=metric)


def cost(key, kind, model, seconds, target="t", metric=None):
    return {"key": key, "kind": kind, "benchmark": "b", "target": target, "model": model, "metric": metric,
            "seconds": seconds}


# The store's records: m1's fine-tunings on t took 10 s and 30 s (median 20), its extraction 4 s; a
# score job of metric 'face' on t took 2 s. Nothing recorded for model m2.
COSTS = [cost("old-ft-0", "finetune", "m1", 10.0), cost("old-ft-1", "finetune", "m1", 30.0),
         cost("old-ex", "extract", "m1", 4.0), cost("old-sc", "score", None, 2.0, metric="face")]


def todo():
    return [job("ex-m1", "extract", "m1"), job("ex-m2", "extract", "m2"),
            job("ft-m1-a", "finetune", "m1"), job("ft-m1-b", "finetune", "m1"), job("ft-m2", "finetune", "m2"),
            job("sc", "score", None, metric="face")]


def test_remaining_starts_as_the_plan_estimate_and_follows_the_jobs_that_finish():
    jobs = todo()
    left = Remaining(jobs, COSTS, workers=1)
    first = left.estimate()
    plan = estimate(jobs, COSTS, 1)
    assert first.wall_seconds == plan.wall_seconds and first.without_basis == plan.without_basis
    # by hand: extract 4 (m1; m2 none) + finetune 20 + 20 (m1; m2 none) + score 2
    assert first.wall_seconds == pytest.approx(4 + 20 + 20 + 2) and first.without_basis == 2

    assert left.finished(jobs[0], 5.0)  # ex-m1 ran in 5 s: it leaves the estimate (its store basis was 4)
    assert left.estimate().wall_seconds == pytest.approx(20 + 20 + 2)
    # ex-m2 has no record in the store: rule 3 (same kind and model) finds none in this run either
    assert left.estimate().without_basis == 2
    assert left.finished(jobs[4], 50.0)  # ft-m2 ran in 50 s: leaves; nothing else of m2's is left to time
    assert left.estimate().wall_seconds == pytest.approx(20 + 20 + 2)
    assert left.finished(jobs[2], 12.0)  # ft-m1-a: the other m1 fine-tuning keeps the store's median (20)
    est = left.estimate()
    assert est.wall_seconds == pytest.approx(20 + 2) and est.without_basis == 1
    assert not left.finished(job("elsewhere", "score", None, metric="leep"))  # not counted: nothing changes
    assert left.finished(jobs[3])  # failed: leaves, with no measurement
    assert left.estimate().wall_seconds == pytest.approx(2)
    assert left.jobs == 2


def test_jobs_without_a_basis_are_timed_by_this_runs_measurements():
    jobs = [job("ex-m2", "extract", "m2", target="t1"), job("ex-m2-t2", "extract", "m2", target="t2"),
            job("ex-m2-t3", "extract", "m2", target="t3"), job("ex-m3", "extract", "m3")]
    left = Remaining(jobs, COSTS, workers=2)
    assert left.estimate().without_basis == 4 and left.estimate().wall_seconds == 0
    left.finished(jobs[0], 6.0)
    left.finished(jobs[1], 8.0)
    est = left.estimate()
    # ex-m2-t3: rule 3 over this run's m2 extractions, median(6, 8) = 7; ex-m3: none; two workers share the phase
    assert est.without_basis == 1
    (phase,) = est.phases
    assert phase.jobs == 2 and phase.job_seconds == pytest.approx(7.0)
    assert est.wall_seconds == pytest.approx(7.0 / 2)


def test_the_bar_shows_the_estimate_as_its_eta():
    progress = Progress(quiet=False)
    progress.start(6)
    try:
        jobs = todo()
        left = Remaining([j for j in jobs if j.model != "m2"], COSTS)  # every job with a basis
        progress.estimate(left.estimate())
        by_hand = 4 + 20 + 20 + 2
        assert f"<{tqdm.format_interval(by_hand)} est," in str(progress.bar)
        left.finished(jobs[2], 18.0)
        progress.estimate(left.estimate())
        assert f"<{tqdm.format_interval(by_hand - 20)} est," in str(progress.bar)

        progress.estimate(Remaining(jobs, COSTS).estimate())  # two jobs of m2's have no basis: said so
        assert f"<{tqdm.format_interval(by_hand)}+ est, 2 unestimated," in str(progress.bar)

        progress.estimate(Remaining(jobs, []).estimate())  # no basis at all: tqdm's own ETA, from its rate
        assert progress.bar.bar_format is None and " est" not in str(progress.bar)
    finally:
        progress.close()


def test_eta_text():
    assert eta_text(RunEstimate([PhaseEstimate("score", 3, 3, 250.0, 250.0)])) == "04:10 est"
    assert eta_text(RunEstimate([PhaseEstimate("score", 3, 0)])) is None
    assert eta_text(RunEstimate([])) is None


@pytest.mark.usefixtures("toy_plugin")
def test_a_run_reports_the_plan_estimate_first_then_one_per_job(tmp_path):
    """After a run, one more seed: the run's first estimate is --plan's, then one per job that ran, down to 0."""
    from test_runner import toy_config

    path = toy_config(tmp_path)
    run_benchmarks(load_config(path), RunOptions(quiet=True))
    raw = yaml.safe_load(path.read_text())
    raw["benchmarks"][0]["seeds"] = [*raw["benchmarks"][0]["seeds"], 9]
    path.write_text(yaml.safe_dump(raw))
    cfg = load_config(path)
    plan = plan_run(cfg, RunOptions(quiet=True))
    seen: list[RunEstimate] = []
    summary = run_benchmarks(cfg, RunOptions(quiet=True, on_estimate=seen.append))
    assert summary.done == len([p for p in plan if not p.done]) > 0
    assert len(seen) == 1 + summary.done
    assert seen[0].wall_seconds == pytest.approx(plan.estimate.wall_seconds) and seen[0].without_basis == 0
    walls = [e.wall_seconds for e in seen]
    assert all(a > b for a, b in zip(walls, walls[1:])) and walls[-1] == 0


@pytest.mark.usefixtures("toy_plugin")
def test_an_extraction_that_only_reads_the_cache_records_no_cost(tmp_path):
    """A new store over a cache that holds the features: the extract jobs run (their records are new)
    but only read the files, so they leave no cost for --plan to take as an extraction's."""
    from facebench.store import ResultsStore
    from test_runner import toy_config

    cfg = load_config(toy_config(tmp_path))
    run_benchmarks(cfg, RunOptions(quiet=True))
    store = ResultsStore(cfg.store)
    first = {c["key"] for c in store.job_costs() if c["kind"] == "extract"}
    store.close()
    assert len(first) == 8
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"results.sqlite{suffix}").unlink(missing_ok=True)
    seen: list[RunEstimate] = []
    summary = run_benchmarks(cfg, RunOptions(quiet=True, on_estimate=seen.append))
    assert not summary.failed and summary.done == 4 + 8 + 16 + 6
    store = ResultsStore(cfg.store)
    costs = store.job_costs()
    extracted = store.db.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'extract' AND state = 'done'").fetchone()[0]
    store.close()
    assert extracted == 8  # done and recorded...
    assert not [c for c in costs if c["kind"] == "extract"]  # ...with no cost
    assert {c["kind"] for c in costs} == {"pretrain", "finetune", "score"}
    assert seen[-1].wall_seconds == 0
