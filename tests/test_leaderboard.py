"""Leaderboards from a synthetic results store, checked against numbers recomputed from the store."""
from __future__ import annotations

import base64
import csv
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from facebench import __version__
from facebench.errors import FacebenchError
from facebench.evaluate.correlations import STATISTICS
from facebench.leaderboard import build_leaderboards
from facebench.leaderboard.bootstrap import bootstrap_intervals
from facebench.evaluate.rowstats import weighted_tau_rows
from facebench.leaderboard.fmt import fmt, marks
from facebench.store import ResultsStore

from leaderboard_fixtures import BENCHMARKS, CONFIG, METRICS, MODELS, NC_EPOCHS, SEEDS, make_store

DATE = "2026-11-26"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("lb")
    store = make_store(root / "results.sqlite")
    paths = build_leaderboards(store, root / "out", date=DATE)
    rows = list(csv.DictReader((root / "out" / "leaderboard.csv").open()))
    doc = json.loads((root / "out" / "leaderboard.json").read_text())
    return {"root": root, "store": store, "paths": paths, "rows": rows, "json": doc,
            "md": (root / "out" / "leaderboard.md").read_text(),
            "html": (root / "out" / "leaderboard.html").read_text()}


def _f(text: str) -> float:
    return float(text) if text != "" else math.nan


def _truth_means(store: ResultsStore, bench: str, target: str, truth: str) -> dict[str, float]:
    by_model = store.ground_truth(bench, target, truth)
    return {m: float(np.mean(list(v.values()))) for m, v in by_model.items()}


def _metric_rows(rows):
    """The rows of a metric's statistic (not the reliability / comparison rows)."""
    return [r for r in rows if r["statistic"] in STATISTICS]


def _index(rows):
    return {(r["benchmark"], r["target"], r["metric"], r["truth"], r["statistic"]): r for r in _metric_rows(rows)}


# --------------------------------------------------------------------------------------------
def test_files_and_header(built):
    assert [p.name for p in built["paths"]] == ["leaderboard.md", "leaderboard.csv", "leaderboard.json",
                                               "leaderboard.html"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in built["paths"])
    md = built["md"]
    assert md.startswith("# facebench leaderboard")
    assert f"Generated {DATE} by facebench {__version__}" in md
    assert CONFIG.strip() in md  # the config recorded with the run
    doc = built["json"]
    assert doc["date"] == DATE and doc["facebench_version"] == __version__ and doc["config"] == CONFIG
    assert doc["bootstrap"] == {"n_boot": 1000, "seed": 0, "level": 0.95}


def test_csv_has_one_row_per_metric_benchmark_target_truth_statistic(built):
    rows = built["rows"]
    assert list(rows[0]) == ["task", "zoo", "benchmark", "target", "metric", "truth", "statistic", "value",
                             "ci_low", "ci_high", "versus"]
    expected = sum(len(targets) * len(truths) for _, _, targets, truths in BENCHMARKS.values()) * len(METRICS) * len(STATISTICS)
    assert len(_metric_rows(rows)) == expected == len(_index(rows))
    assert built["json"]["rows"] == [
        {k: (v if k not in ("value", "ci_low", "ci_high") else (None if v == "" else float(v))) for k, v in r.items()}
        for r in rows
    ]


def test_csv_numbers_recomputed_from_scores_and_ground_truth(built):
    index = _index(built["rows"])
    store = ResultsStore(built["store"])
    try:
        for bench, (task, zoo, targets, truths) in BENCHMARKS.items():
            for target in targets:
                for truth in truths:
                    acc = _truth_means(store, bench, target, truth)
                    for metric in METRICS:
                        scores = store.scores(bench, target, metric)
                        x = np.array([scores[m] for m in MODELS])
                        y = np.array([acc[m] for m in MODELS])
                        expect = {
                            "tau_w": stats.weightedtau(x, y).statistic,
                            "pearson": stats.pearsonr(x, y).statistic,
                            "spearman": stats.spearmanr(x, y).statistic,
                            "kendall": stats.kendalltau(x, y).statistic,
                            "top1_rel": y[np.argmax(x)] / y.max(),
                        }
                        for stat, value in expect.items():
                            row = index[(bench, target, metric, truth, stat)]
                            assert (row["task"], row["zoo"]) == (task, zoo)
                            assert _f(row["value"]) == pytest.approx(value, rel=1e-12, abs=1e-14), (bench, target, metric, stat)
    finally:
        store.close()


def test_bootstrap_interval_contains_the_point_estimate(built):
    checked = 0
    for r in _metric_rows(built["rows"]):
        value, lo, hi = _f(r["value"]), _f(r["ci_low"]), _f(r["ci_high"])
        assert -1.0 - 1e-12 <= lo <= hi <= 1.0 + 1e-12
        if r["statistic"] == "tau_w":
            assert lo - 1e-12 <= value <= hi + 1e-12, r
            checked += 1
    assert checked == 21


def test_bootstrap_is_reproducible_and_matches_scipy():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=8), rng.normal(size=8)
    a = bootstrap_intervals(x, y, n_boot=300, seed=5)
    assert a == bootstrap_intervals(x, y, n_boot=300, seed=5)
    assert a != bootstrap_intervals(x, y, n_boot=300, seed=6)
    # the vectorised weighted tau is scipy's, ties and duplicated models included
    xs = np.round(rng.normal(size=(200, 7)), 1)
    ys = np.round(rng.normal(size=(200, 7)), 1)
    xs[:, 3] = xs[:, 1]
    ys[:, 3] = ys[:, 1]
    got = weighted_tau_rows(xs, ys)
    want = [stats.weightedtau(a, b).statistic for a, b in zip(xs, ys)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # degenerate resamples are skipped; too few usable ones give no interval
    constant = bootstrap_intervals(np.ones(6), np.arange(6.0), n_boot=50)
    assert math.isnan(constant["tau_w"].low) and constant["tau_w"].n_valid == 0


def _md_table(md: str, section: str, title: str) -> tuple[list[str], dict[str, list[str]]]:
    """The Markdown table after ``title`` within the section ``## section``: header, metric -> cells."""
    body = md.split(f"## {section}\n", 1)[1]
    body = body[body.index(title):]
    lines = [ln for ln in body.splitlines()[2:]]
    table = []
    for ln in lines:
        if not ln.startswith("|"):
            break
        table.append([c.strip() for c in ln.strip("|").split(" | ")])
    header, rows = table[0], table[2:]
    return header, {r[0]: r[1:] for r in rows}


def test_best_bold_second_underlined(built):
    index = _index(built["rows"])
    md = built["md"]
    for bench, (_, _, targets, truths) in BENCHMARKS.items():
        for truth in truths:
            for stat, label in (("tau_w", "Kendall τ_w"), ("pearson", "Pearson ρ")):
                header, cells = _md_table(md, bench, f"**{label}** (ground truth: {truth})")
                assert header == ["Metric", *targets, "Avg."]
                if stat == "tau_w":  # a row for what random rankings score (test_verdict.py checks the band)
                    band = cells.pop("*random ranking: 95% band*")
                    assert all(c.startswith("[") for c in band[:-1]) and band[-1] == ""
                assert sorted(cells) == sorted(METRICS)
                for j, target in enumerate(targets + ["Avg."]):
                    if target == "Avg.":
                        values = {m: np.mean([_f(index[(bench, t, m, truth, stat)]["value"]) for t in targets])
                                  for m in METRICS}
                    else:
                        values = {m: _f(index[(bench, target, m, truth, stat)]["value"]) for m in METRICS}
                    shown = {m: round(v, 2) for m, v in values.items()}
                    ordered = sorted(set(shown.values()), reverse=True)
                    for m in METRICS:
                        cell = cells[m][j]
                        text = f"{values[m]:.2f}".replace("-0.00", "0.00")
                        if shown[m] == ordered[0]:
                            assert cell == f"**{text}**", (bench, truth, stat, target, m, cell)
                        elif len(ordered) > 1 and shown[m] == ordered[1]:
                            assert cell == f"<ins>{text}</ins>", (bench, truth, stat, target, m, cell)
                        else:
                            assert cell == text, (bench, truth, stat, target, m, cell)
    # the HTML marks the same cells (first benchmark, tau_w table)
    table = re.search(r"<caption>Kendall τ_w — ground truth: accuracy</caption>(.*?)</table>", built["html"]).group(1)
    _, md_cells = _md_table(md, "classification/toy-zoo", "**Kendall τ_w** (ground truth: accuracy)")
    for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1]):
        cells = re.findall(r'<td(?: class="(\w+)")?>(.*?)</td>', row)
        metric = cells[0][1]
        if metric == "random ranking: 95% band":
            continue
        for (cls, text), md_cell in zip(cells[1:], md_cells[metric], strict=True):
            want = "best" if md_cell.startswith("**") else "second" if md_cell.startswith("<ins>") else ""
            assert (cls, text) == (want, re.sub(r"\*\*|</?ins>", "", md_cell))


def test_marks_rule():
    assert marks([0.5, 0.81, 0.8149, float("nan"), 0.7]) == ["", "best", "best", "", "second"]
    assert marks([0.3, 0.3]) == ["best", "best"]
    assert marks([float("nan")]) == [""]
    assert marks([-0.2, -0.1]) == ["second", "best"]
    assert fmt(-0.001) == "0.00" and fmt(-0.006) == "-0.01" and fmt(float("nan")) == "—"


def test_mean_tau_w_and_ranks_per_task_and_overall(built):
    index = _index(built["rows"])
    per_target: dict[str, dict[tuple[str, str], float]] = {m: {} for m in METRICS}
    task_of = {}
    for bench, (task, _, targets, truths) in BENCHMARKS.items():
        for target in targets:
            task_of[(bench, target)] = task
            for m in METRICS:  # a target with two truths counts once: average its tau_w first
                per_target[m][(bench, target)] = np.mean([_f(index[(bench, target, m, t, "tau_w")]["value"]) for t in truths])

    def expected(scope, weights):
        """Precision-weighted means with the board's weights (the weights themselves: test_verdict.py)."""
        w = {k: weights[f"{k[0]} {k[1]}"] for k in per_target[METRICS[0]] if scope(k)}
        assert sum(w.values()) == pytest.approx(1.0)
        means = {m: sum(w[k] * v for k, v in per_target[m].items() if scope(k)) for m in METRICS}
        order = sorted(METRICS, key=lambda m: -means[m])
        return [(i + 1, m, means[m]) for i, m in enumerate(order)]

    ranking = built["json"]["ranking"]
    overall_weights = built["json"]["significance"]["weights"]
    got = [(r["rank"], r["metric"], r["mean_tau_w"]) for r in ranking["overall"]]
    for (rank, metric, mean), (erank, emetric, emean) in zip(got, expected(lambda k: True, overall_weights), strict=True):
        assert (rank, metric) == (erank, emetric) and mean == pytest.approx(emean, rel=1e-12)
    assert all(r["targets_covered"] == r["targets_total"] == 5 for r in ranking["overall"])
    assert set(ranking["by_task"]) == {"classification", "segmentation"}
    for task, rows in ranking["by_task"].items():
        exp = expected(lambda k, task=task: task_of[k] == task, built["json"]["task_significance"][task]["weights"])
        assert [(r["rank"], r["metric"]) for r in rows] == [(a, b) for a, b, _ in exp]
        assert [r["mean_tau_w"] for r in rows] == pytest.approx([c for _, _, c in exp], rel=1e-12)
    # the Markdown ranking table shows the same order
    table = built["md"].split("## Ranking\n\n", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    assert [ln.split(" | ")[1] for ln in table] == [m for _, m, _ in expected(lambda k: True, overall_weights)]


def test_ground_truth_spread_cost_and_nc_trace(built):
    doc = {b["benchmark"]: b for b in built["json"]["benchmarks"]}
    store = ResultsStore(built["store"])
    try:
        cls = doc["classification/toy-zoo"]
        assert cls["models"] == MODELS and cls["seeds"] == SEEDS
        assert cls["cost"]["finetune_seconds"] == pytest.approx(60.0 * len(MODELS) * len(SEEDS) * 3)
        assert cls["cost"]["extract_seconds"] == pytest.approx(2.0 * len(MODELS) * 3)
        assert cls["cost"]["pretrain_seconds"] == pytest.approx(10.0 * len(MODELS))
        for i, m in enumerate(METRICS):
            assert cls["cost"]["scoring_seconds"][m]["total"] == pytest.approx(0.01 * (1 + i) * len(MODELS) * 3)
        assert cls["cost"]["scoring_total_seconds"] == pytest.approx(sum(0.01 * (1 + i) * 18 for i in range(3)))
        seg = doc["segmentation/toy-seg"]
        assert seg["truths"] == ["miou", "pixel_acc"] and seg["diagnostics"] == {}
        for bench, b in doc.items():
            for target, truths in b["ground_truth"].items():
                for truth, models in truths.items():
                    for model, s in models.items():
                        values = list(store.ground_truth(bench, target, truth)[model].values())
                        assert s["n"] == 3 and s["mean"] == pytest.approx(np.mean(values))
                        assert s["std"] == pytest.approx(np.std(values, ddof=1))
                        assert (s["min"], s["max"]) == (min(values), max(values))
        for target in ("alpha", "beta", "gamma"):
            traces = store.diagnostic_traces("classification/toy-zoo", target)["variance_collapse"]
            curves = {m: np.mean([traces[m][s] for s in SEEDS], axis=0) for m in MODELS}
            want = stats.kendalltau([curves[m][0] for m in MODELS], [curves[m][-1] for m in MODELS]).statistic
            nc = cls["diagnostics"]["variance_collapse"][target]
            assert nc["epochs"] == NC_EPOCHS
            assert nc["kendall_epoch0_vs_last"] == pytest.approx(want)
            assert nc["curves"]["vgg16"] == pytest.approx(list(curves["vgg16"]))
    finally:
        store.close()
    md = built["md"]
    assert "Kendall τ (epoch 0 vs last)" in md and "Zoo totals: scoring" in md and "fine-tuning 54.0 min" in md


def test_html_is_self_contained(built):
    html = built["html"]
    assert "<title>facebench leaderboard</title>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html and "<link" not in html
    images = re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,([^"]+)"', html)
    # 1 ranking + a scatter grid per (target, truth): 3 + 2 x 2, + an NC plot per classification target,
    # + a critical-difference diagram overall, per task (2) and per benchmark
    assert len(images) == 1 + 7 + 3 + 3 + 2
    for _, data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    # ranking; per benchmark and truth 2 main + 6 detail tables, a stability table and a ground-truth table; cost, zoo
    # totals and cost ratio per benchmark (this store records no per-job costs: no "where the jobs ran");
    # the NC table of the classification benchmark; a reliability table per benchmark; a group table and
    # a pairwise table overall, per task (2) and per benchmark; the segmentation benchmark's ground truths compared
    assert html.count("<table") == 1 + (9 + 1) * 1 + (9 + 1) * 2 + 2 * 3 + 1 + 2 + 2 * 3 + 2 * 2 + 1


def test_rebuild_is_identical(built, tmp_path):
    again = build_leaderboards(built["store"], tmp_path, date=DATE, config_text="name: other\n", figures=False)
    assert again[1].read_bytes() == built["paths"][1].read_bytes()  # CSV: same numbers, same intervals
    assert "name: other" in again[0].read_text() and "name: other" in again[3].read_text()


def test_failing_metric_and_coverage(tmp_path):
    store = make_store(tmp_path / "s.sqlite", failing=True)
    build_leaderboards(store, tmp_path / "out", date=DATE, figures=False, n_boot=200)
    rows = _index(csv.DictReader((tmp_path / "out" / "leaderboard.csv").open()))
    row = rows[("segmentation/toy-seg", "voc", "brittle", "miou", "tau_w")]
    assert row["value"] == row["ci_low"] == row["ci_high"] == ""
    doc = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    last = doc["ranking"]["overall"][-1]
    assert (last["metric"], last["targets_covered"], last["targets_total"], last["rank"]) == ("brittle", 4, 5, 4)
    assert doc["benchmarks"][1]["notes"]["voc"] == {"brittle": ["error: metric 'brittle' needs at least 9 models"]}
    md = (tmp_path / "out" / "leaderboard.md").read_text()
    _, cells = _md_table(md, "segmentation/toy-seg", "**Kendall τ_w** (ground truth: miou)")
    assert cells["brittle"][1] == "—" and cells["brittle"][2].endswith("*")
    assert "needs at least 9 models" in md
    assert "<img" not in (tmp_path / "out" / "leaderboard.html").read_text()


def test_empty_and_missing_store(tmp_path):
    ResultsStore(tmp_path / "empty.sqlite").close()
    paths = build_leaderboards(tmp_path / "empty.sqlite", tmp_path / "out", date=DATE)
    assert "No scored benchmark" in paths[0].read_text()
    assert paths[1].read_text().strip().count("\n") == 0  # header only
    with pytest.raises(FacebenchError, match="no results store"):
        build_leaderboards(tmp_path / "missing.sqlite", tmp_path / "out2")


# --------------------------------------------------------------------------------------------
def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None, reason="needs headless Chromium")
def test_html_opens_in_headless_chromium(built, tmp_path):
    page = built["root"] / "out" / "leaderboard.html"
    dom = _chromium("--dump-dom", page.as_uri(), profile=tmp_path / "p1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "<title>facebench leaderboard</title>" in html
    assert "<h1>facebench leaderboard</h1>" in html
    for bench in BENCHMARKS:
        assert f">{bench}</h2>" in html
    assert html.count("<table") == built["html"].count("<table")
    assert html.count("<img") == 16 and html.count('src="data:image/png;base64,') == 16
    assert 'class="best"' in html and 'class="second"' in html

    shot = tmp_path / "shot.png"
    proc = _chromium("--hide-scrollbars", "--window-size=1280,2400", f"--screenshot={shot}", page.as_uri(),
                     profile=tmp_path / "p2")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2400, 1280)
    ink = (pixels.mean(axis=2) < 0.6).mean()  # dark pixels: text, tables, plots
    assert 0.005 < ink < 0.5
    assert (np.abs(pixels[..., 0] - pixels[..., 1]) > 0.2).any()  # colour: the highlighted cells and plots


def test_leaderboard_of_a_real_runner_store_matches_scipy(tmp_path, monkeypatch):
    """End to end: the toy benchmark through the runner, then the leaderboard of its store, whose
    correlations (computed at board time; the store keeps none) match scipy on the stored scores."""
    runner = pytest.importorskip("facebench.runner")
    import yaml

    from facebench.config import load_config
    from facebench.plugins import reset_plugins_cache

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setenv("FACEBENCH_PLUGINS", "toytask.plugin")
    reset_plugins_cache()
    try:
        raw = {"name": "toy", "metrics": ["face", "logme"], "store": str(tmp_path / "r.sqlite"),
               "cache_dir": str(tmp_path / "cache"),
               "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta"], "seeds": [0, 1],
                               "diagnostics": ["variance_collapse"]}]}
        (tmp_path / "toy.yaml").write_text(yaml.safe_dump(raw))
        cfg = load_config(tmp_path / "toy.yaml")
        summary = runner.run_benchmarks(cfg, runner.RunOptions(quiet=True), (tmp_path / "toy.yaml").read_text())
        assert not summary.failed
    finally:
        reset_plugins_cache()
    paths = build_leaderboards(cfg.store, tmp_path / "out", date=DATE, figures=False, n_boot=100)
    rows = _index(csv.DictReader(paths[1].open()))
    store = ResultsStore(cfg.store)
    try:
        assert len(rows) == 2 * 2 * len(STATISTICS)  # metrics x truths (accuracy, loss) x statistics
        for metric in ("face", "logme"):
            scores = store.scores("toy/toy-zoo", "ta", metric)
            for truth in ("accuracy", "loss"):
                by_seed = store.ground_truth("toy/toy-zoo", "ta", truth)
                models = sorted(scores)
                x = [scores[m] for m in models]
                y = [np.mean(list(by_seed[m].values())) for m in models]
                key = ("toy/toy-zoo", "ta", metric, truth)
                assert _f(rows[(*key, "tau_w")]["value"]) == pytest.approx(stats.weightedtau(x, y).statistic, rel=1e-12)
                assert _f(rows[(*key, "pearson")]["value"]) == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-12)
    finally:
        store.close()
    doc = json.loads(paths[2].read_text())
    assert doc["benchmarks"][0]["diagnostics"]["variance_collapse"]["ta"]["epochs"] == 4  # the toy's 3 epochs + epoch 0
    assert "name: toy" in paths[0].read_text()


def test_ground_truths_compared_against_the_primary(built):
    """Each further ground truth's model ranking against the primary's: τ_w from the stored seeds, by scipy."""
    from facebench.leaderboard.tables import load_leaderboard

    store = ResultsStore(built["store"])
    board = load_leaderboard(store, n_boot=20)
    rows = [a for b in board.benchmarks for a in b.truth_agreement()]
    assert rows, "the fixture's segmentation benchmark has several ground truths"
    for b in board.benchmarks:
        for a in b.truth_agreement():
            primary = _truth_means(store, b.benchmark, a.target, a.primary)
            other = _truth_means(store, b.benchmark, a.target, a.truth)
            common = sorted(set(primary) & set(other))
            expected = stats.weightedtau([other[m] for m in common], [primary[m] for m in common]).statistic
            assert a.truth != a.primary and a.n_models == len(common)
            assert a.tau_w == pytest.approx(expected, abs=1e-12)
            assert a.best_primary == max(common, key=primary.get) and a.best_truth == max(common, key=other.get)
            for model, rank_p, rank_o in a.moved:
                assert rank_p == 1 + sum(primary[o] > primary[model] for o in common)
                assert rank_o == 1 + sum(other[o] > other[model] for o in common) and rank_p != rank_o
    assert "**Ground truths compared**" in built["md"] and "<h3>Ground truths compared</h3>" in built["html"]


def test_board_says_what_the_zoo_is_and_the_configs_notes(tmp_path):
    """A registered zoo's summary and the benchmark's ``notes`` from the recorded config, under its heading."""
    import yaml

    from facebench.config import parse_config
    from facebench.errors import ConfigError
    from facebench.plugins import get_plugins

    note = "What the recipe favours: small   nets."
    config = ("name: n\nbenchmarks:\n  - task: classification\n    zoo: embedded-classification\n"
              f"    targets: [digits]\n    notes: '{note}'\n")
    assert parse_config(yaml.safe_load(config)).benchmarks[0].notes == "What the recipe favours: small nets."
    with pytest.raises(ConfigError, match="'notes' must be text"):
        parse_config(yaml.safe_load(config.replace(f"'{note}'", "[1, 2]")))
    store = ResultsStore(tmp_path / "r.sqlite")
    store.begin_run("d", "n", config)
    bench = "classification/embedded-classification"
    store.add_benchmark(bench, "classification", "embedded-classification", "digits", "d")
    for i, model in enumerate(["a", "b", "c"]):
        store.record_ground_truth(f"k{i}", bench, "digits", model, 0, {"accuracy": 0.5 + 0.1 * i}, 1.0)
    store.close()
    paths = build_leaderboards(tmp_path / "r.sqlite", tmp_path / "out", date=DATE, figures=False, sensitivity=False)
    md = paths[0].read_text()
    summary = get_plugins().zoos.get("embedded-classification").summary
    assert f"Zoo: {summary}." in md and "What the recipe favours: small nets." in md
    html = (tmp_path / "out" / "leaderboard.html").read_text()
    assert "What the recipe favours: small nets." in html
