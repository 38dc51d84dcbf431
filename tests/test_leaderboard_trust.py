"""Reliability, noise ceiling and metric groups on every board, from a store with KNOWN noise."""
from __future__ import annotations

import csv
import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from facebench.leaderboard import build_leaderboards
from facebench.store import ResultsStore

from leaderboard_fixtures import BENCHMARKS, METRICS, MODELS, SEEDS, TRUTH_SD, make_store

DATE = "2026-11-26"


def _read(out: Path) -> dict:
    return {"md": (out / "leaderboard.md").read_text(), "html": (out / "leaderboard.html").read_text(),
            "json": json.loads((out / "leaderboard.json").read_text()),
            "csv": list(csv.DictReader((out / "leaderboard.csv").open()))}


@pytest.fixture(scope="module")
def boards(tmp_path_factory):
    root = tmp_path_factory.mktemp("trust")
    true_means: dict = {}
    store = make_store(root / "results.sqlite", true_means=true_means)
    out = {}
    for name, threshold in (("default", 0.8), ("strict", 1.0)):
        build_leaderboards(store, root / name, date=DATE, figures=False, reliability_threshold=threshold, n_boot=300)
        out[name] = _read(root / name)
    return {"store": store, "true_means": true_means, **out}


def _split_half_brute_force(values: np.ndarray) -> float:
    """Mean scipy weighted tau between the half means of every balanced split (3 seeds: 1 vs 1)."""
    return float(np.mean(_split_taus_brute_force(values)))


def _split_taus_brute_force(values: np.ndarray) -> list[float]:
    """scipy weighted tau between the half means of each balanced split, one per split."""
    s = values.shape[1]
    h = s // 2
    taus = []
    for a in itertools.combinations(range(s), h):
        for b in itertools.combinations([k for k in range(s) if k not in a], h):
            if a < b:
                taus.append(stats.weightedtau(values[:, list(a)].mean(1), values[:, list(b)].mean(1)).statistic)
    return taus


def test_reliability_per_target_recomputed_from_the_store(boards):
    doc = {b["benchmark"]: b for b in boards["default"]["json"]["benchmarks"]}
    store = ResultsStore(boards["store"])
    try:
        for bench, (_, _, targets, truths) in BENCHMARKS.items():
            for target in targets:
                for truth in truths:
                    gt = store.ground_truth(bench, target, truth)
                    values = np.array([[gt[m][s] for s in SEEDS] for m in MODELS])
                    r = doc[bench]["reliability"][target][truth]
                    assert r["n_models"] == len(MODELS) and r["n_seeds"] == len(SEEDS) and r["n_test"] == 0
                    assert r["seeds_tau_w"] == pytest.approx(_split_half_brute_force(values), rel=1e-12)
                    taus = _split_taus_brute_force(values)
                    assert r["seeds_tau_w_low"] == pytest.approx(min(taus), rel=1e-12)
                    assert r["seeds_tau_w_high"] == pytest.approx(max(taus), rel=1e-12)
                    assert r["reliability"] == r["full_tau_w"] >= r["seeds_tau_w"] - 1e-12
                    assert r["test_tau_w"] is None and r["both_tau_w"] is None
                    # the pooled seed sd estimates the KNOWN noise (18 residual degrees of freedom)
                    assert 0.5 * TRUTH_SD < r["seed_sd"] < 1.6 * TRUTH_SD
                    assert r["flagged"] == (r["reliability"] < 0.8)
    finally:
        store.close()


def test_noise_ceiling_near_the_brute_force_truth_of_the_known_noise(boards):
    rng = np.random.default_rng(0)
    doc = {b["benchmark"]: b for b in boards["default"]["json"]["benchmarks"]}
    for (bench, target, truth), mu in boards["true_means"].items():
        noisy = mu + rng.normal(0, TRUTH_SD / math.sqrt(len(SEEDS)), size=(300, mu.size))
        true_ceiling = np.mean([stats.weightedtau(mu, y).statistic for y in noisy])
        got = doc[bench]["reliability"][target][truth]["ceiling_tau_w"]
        assert abs(got - true_ceiling) < 0.05, (bench, target, truth, got, true_ceiling)


def test_full_seed_reliability_near_the_brute_force_truth_of_the_known_noise(boards):
    """The agreement of two fresh replications with every seed, from the fixture's known means and noise."""
    rng = np.random.default_rng(1)
    doc = {b["benchmark"]: b for b in boards["default"]["json"]["benchmarks"]}
    errors = []
    for (bench, target, truth), mu in boards["true_means"].items():
        sd = TRUTH_SD / math.sqrt(len(SEEDS))
        true_full = np.mean([stats.weightedtau(mu + rng.normal(0, sd, mu.size), mu + rng.normal(0, sd, mu.size)).statistic
                             for _ in range(300)])
        errors.append(doc[bench]["reliability"][target][truth]["full_tau_w"] - true_full)
    assert abs(np.mean(errors)) < 0.05 and max(map(abs, errors)) < 0.2, errors


def test_csv_rows_carry_the_json_figures(boards):
    b = boards["default"]
    rows = [r for r in b["csv"] if r["metric"] == ""]
    doc = {x["benchmark"]: x for x in b["json"]["benchmarks"]}
    assert len(rows) == 7 * 12  # 7 (target, truth) pairs x the figures of RELIABILITY_STATISTICS
    for r in rows:
        want = doc[r["benchmark"]]["reliability"][r["target"]][r["truth"]][
            {"reliability_seeds_tau_w": "seeds_tau_w", "reliability_seeds_kendall": "seeds_kendall",
             "reliability_seeds_tau_w_low": "seeds_tau_w_low", "reliability_seeds_tau_w_high": "seeds_tau_w_high",
             "reliability_test_tau_w": "test_tau_w", "reliability_test_kendall": "test_kendall",
             "reliability_both_tau_w": "both_tau_w", "reliability_both_kendall": "both_kendall",
             "noise_ceiling_tau_w": "ceiling_tau_w", "noise_ceiling_kendall": "ceiling_kendall",
             "reliability": "reliability", "reliability_full_tau_w": "full_tau_w"}[r["statistic"]]]
        assert (None if r["value"] == "" else float(r["value"])) == want


def test_metric_comparison_on_every_board(boards):
    b = boards["default"]
    index = {(r["benchmark"], r["target"], r["metric"], r["truth"]): float(r["value"])
             for r in b["csv"] if r["statistic"] == "tau_w" and r["value"] != ""}
    scopes = {"(all)": b["json"]["significance"]}
    scopes.update({x["benchmark"]: x["significance"] for x in b["json"]["benchmarks"]})
    deltas = {(r["benchmark"], r["metric"], r["versus"]): r for r in b["csv"] if r["statistic"] == "delta_mean_tau_w"}
    for scope, comp in scopes.items():
        targets = [(bench, t, truths) for bench, (_, _, ts, truths) in BENCHMARKS.items() for t in ts
                   if scope in ("(all)", bench)]
        assert comp["targets"] == len(targets) and comp["n_boot"] == 300 and comp["correction"] == "maxt"

        def tau(metric, bench, t, truths):  # a target with several truths counts once
            return np.mean([index[(bench, t, metric, truth)] for truth in truths])

        w = {(bench, t): comp["weights"][f"{bench} {t}"] for bench, t, _ in targets}  # precision weights
        assert sum(w.values()) == pytest.approx(1.0)
        means = {m: sum(w[(x[0], x[1])] * tau(m, *x) for x in targets) for m in METRICS}
        assert [x["metric"] for x in comp["metrics"]] == sorted(METRICS, key=lambda m: -means[m])
        for x in comp["metrics"]:
            assert x["mean_tau_w"] == pytest.approx(means[x["metric"]], rel=1e-12)
        for p in comp["pairs"]:
            assert p["delta_mean_tau_w"] == pytest.approx(means[p["a"]] - means[p["b"]], rel=1e-9, abs=1e-14)
            assert p["ci_low"] <= p["delta_mean_tau_w"] + 0.3 and p["ci_low"] <= p["ci_high"]
            assert p["significant"] == (p["p_adjusted"] < 0.05)
            row = deltas[(scope, p["a"], p["b"])]
            assert float(row["value"]) == p["delta_mean_tau_w"] and float(row["ci_low"]) == p["ci_low"]
        # letters: two metrics share one exactly when their pair is not significant
        sig = {frozenset((p["a"], p["b"])) for p in comp["pairs"] if p["significant"]}
        letters = {x["metric"]: set(x["letters"]) for x in comp["metrics"]}
        for m1, m2 in itertools.combinations(letters, 2):
            assert bool(letters[m1] & letters[m2]) == (frozenset((m1, m2)) not in sig)
        for g in comp["groups"]:
            assert not any(frozenset(pair) in sig for pair in itertools.combinations(g, 2))
    overall = b["json"]["significance"]
    assert overall["metrics"][0]["metric"] == "face" and overall["metrics"][-1]["metric"] == "noise"
    assert not set(overall["metrics"][0]["letters"]) & set(overall["metrics"][-1]["letters"])
    md, html = b["md"], b["html"]
    assert "## Which metrics can be told apart?" in md and "**All benchmarks** (5 targets;" in md
    assert "<h2>Which metrics can be told apart?</h2>" in html  # (its diagrams: test_leaderboard.py)


def test_flagged_targets_are_marked(boards):
    default, strict = boards["default"], boards["strict"]
    # the threshold 1.0 flags every target whose split halves do not agree perfectly
    flags = [r["flagged"] for x in strict["json"]["benchmarks"] for t in x["reliability"].values() for r in t.values()]
    n_flagged = sum(flags)
    assert n_flagged >= 1 and strict["json"]["reliability_threshold"] == 1.0
    assert strict["md"].count("⚠ below 1.00") == n_flagged
    assert "† measured against a ground truth whose reliability is below 1.00 or not measurable" in strict["md"]
    assert re.search(r"<td class=\"(best |second )?unreliable\">", strict["html"])
    assert "Greyed: measured against a ground truth" in strict["html"]
    # with the default threshold, a target is flagged exactly when its reliability is below 0.8
    default_flags = [r for x in default["json"]["benchmarks"] for t in x["reliability"].values() for r in t.values()]
    assert all(r["flagged"] == (r["reliability"] < 0.8) for r in default_flags)
    if not any(r["flagged"] for r in default_flags):
        assert "†" not in default["md"] and "unreliable\"" not in default["html"]
    assert "**Ground-truth reliability**" in default["md"] and "<h3>Ground-truth reliability</h3>" in default["html"]


def test_one_seed_gives_no_reliability_and_a_flag(tmp_path):
    from facebench.evaluate.correlations import correlations

    store = ResultsStore(tmp_path / "one.sqlite")
    rng = np.random.default_rng(3)
    store.add_benchmark("b/z", "classification", "z", "t", "r")
    acc = {f"m{i}": 0.5 + 0.05 * i for i in range(5)}
    for m, a in acc.items():
        store.record_ground_truth(f"ft:{m}", "b/z", "t", m, 0, {"accuracy": a}, 1.0)
    for metric in ("good", "bad"):
        scores = {m: a + (0.01 if metric == "good" else 1.0) * rng.normal() for m, a in acc.items()}
        store.record_scores(f"s:{metric}", "b/z", "t", metric, {}, scores, {m: 0.1 for m in acc}, {}, scores, [])
    store.close()
    out = build_leaderboards(tmp_path / "one.sqlite", tmp_path / "out", date=DATE, figures=True, n_boot=100)
    doc = json.loads(out[2].read_text())
    r = doc["benchmarks"][0]["reliability"]["t"]["accuracy"]
    assert r["n_seeds"] == 1 and r["n_splits"] == 0 and r["flagged"]
    assert r["reliability"] is None and r["ceiling_tau_w"] is None
    assert "⚠ not measurable" in out[0].read_text() and " †" in out[0].read_text()
    assert [m["metric"] for m in doc["significance"]["metrics"]] == ["good", "bad"]


def test_bad_threshold_and_correction_are_named(tmp_path):
    from facebench.errors import FacebenchError

    store = make_store(tmp_path / "s.sqlite")
    with pytest.raises(FacebenchError, match="reliability threshold"):
        build_leaderboards(store, tmp_path / "o", reliability_threshold=2.0)
    with pytest.raises(FacebenchError, match="correction"):
        build_leaderboards(store, tmp_path / "o", correction="bonferroni")


def test_runner_stores_test_predictions_and_the_board_resamples_them(tmp_path, monkeypatch):
    """End to end: the toy task returns per-sample predictions; the runner caches them and the
    store records them; the board's reliability then includes the test-set bootstrap."""
    runner = pytest.importorskip("facebench.runner")
    import yaml

    from facebench.config import load_config
    from facebench.plugins import reset_plugins_cache
    from facebench.predictions import load_predictions

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setenv("FACEBENCH_PLUGINS", "toytask.plugin")
    reset_plugins_cache()
    try:
        raw = {"name": "toy", "metrics": ["face", "logme"], "store": str(tmp_path / "r.sqlite"),
               "cache_dir": str(tmp_path / "cache"),
               "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta"], "seeds": [0, 1, 2, 3],
                               "options": {"predictions": 120}}]}
        (tmp_path / "toy.yaml").write_text(yaml.safe_dump(raw))
        cfg = load_config(tmp_path / "toy.yaml")
        summary = runner.run_benchmarks(cfg, runner.RunOptions(quiet=True), (tmp_path / "toy.yaml").read_text())
        assert not summary.failed
    finally:
        reset_plugins_cache()
    store = ResultsStore(cfg.store)
    try:
        paths = store.prediction_paths("toy/toy-zoo", "ta")
        truth = store.ground_truth("toy/toy-zoo", "ta", "accuracy")
    finally:
        store.close()
    assert len(paths) == 4 * 4  # 4 models x 4 seeds
    for (model, seed), path in paths.items():
        assert Path(path).parent == tmp_path / "cache" / "predictions" and Path(path).with_suffix(".sha256").is_file()
        preds = load_predictions(path)
        assert preds.n == 120 and preds.correct.mean() == truth[model][seed]
    out = build_leaderboards(cfg.store, tmp_path / "out", date=DATE, figures=False, n_boot=100)
    rel = json.loads(out[2].read_text())["benchmarks"][0]["reliability"]["ta"]["accuracy"]
    assert rel["n_test"] == 120 and rel["reliability"] == rel["seeds_tau_w"]
    assert math.isfinite(rel["test_tau_w"]) and math.isfinite(rel["both_tau_w"])
    # a corrupted file: the board says so and falls back to the seeds
    victim = next(iter(paths.values()))
    Path(victim).write_bytes(b"garbage")
    out = build_leaderboards(cfg.store, tmp_path / "out2", date=DATE, figures=False, n_boot=100)
    doc = json.loads(out[2].read_text())["benchmarks"][0]
    assert doc["reliability"]["ta"]["accuracy"]["n_test"] == 0
    assert any("unreadable or failing their checksum" in n for n in doc["reliability_notes"])
    assert "failing their checksum" in out[0].read_text()


def test_cli_leaderboard_threshold_and_correction(tmp_path, capsys):
    from facebench.cli import main

    store = make_store(tmp_path / "s.sqlite")
    main(["leaderboard", "--store", str(store), "--out", str(tmp_path / "out"), "--no-figures", "--n-boot", "50",
          "--reliability-threshold", "1.0", "--correction", "none", "--date", DATE])
    doc = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert doc["reliability_threshold"] == 1.0 and doc["significance"]["correction"] == "none"
    assert all(p["p_adjusted"] == p["p"] for p in doc["significance"]["pairs"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["leaderboard", "--store", str(store), "--out", str(tmp_path / "o2"), "--reliability-threshold", "3"])
    assert exc.value.code == 2 and "reliability threshold must be in [-1, 1]" in capsys.readouterr().err


def test_flagged_targets_can_be_left_out_of_the_verdict(tmp_path):
    """exclude_flagged: the targets whose primary ground truth is below the threshold leave the comparisons."""
    from facebench.leaderboard.build import load
    from leaderboard_fixtures import make_store

    path = make_store(tmp_path / "r.sqlite", seed=3)
    kept = load(path, n_boot=50, sensitivity=False)
    full = {(b.benchmark, t): r.full_tau_w for b in kept.benchmarks for (t, truth), r in b.reliability.items()
            if truth == b.targets[0].truths[0]}
    values = sorted(full.values())
    threshold = (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2  # about half the targets below
    below = {key for key, v in full.items() if v < threshold}
    assert below and len(below) < len(full)
    out = load(path, n_boot=50, sensitivity=False, reliability_threshold=threshold, exclude_flagged=True)
    for b in out.benchmarks:
        left_out = {(b.benchmark, t) for t in b.excluded}
        assert left_out == {k for k in below if k[0] == b.benchmark}
        remaining = len(b.targets) - len(b.excluded)
        assert (b.significance.n_targets if b.significance else 0) == remaining
        for t in b.excluded:
            assert any(n.startswith(f"{t}: left out of the verdict") for n in b.trust_notes)
    assert out.significance.n_targets == len(full) - len(below)
    # the same from a recorded config's verdict block
    from facebench.store import ResultsStore

    store = ResultsStore(path)
    store.begin_run("d2", "again", f"name: again\nverdict: {{reliability_threshold: {threshold!r}, exclude_flagged: true}}\n")
    store.close()
    again = load(path, n_boot=50, sensitivity=False)
    assert again.exclude_flagged and again.reliability_threshold == threshold
    assert again.significance.n_targets == out.significance.n_targets
