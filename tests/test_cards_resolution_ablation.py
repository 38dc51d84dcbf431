"""Constant-up-to-rounding scores, metric cards and the sensitivity tables on the boards."""
from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

sys.path.insert(0, os.path.dirname(__file__))
import reference_impls as ref  # noqa: E402

from facebench.bundle import FeatureBundle  # noqa: E402
from facebench.checksum import write_sidecar  # noqa: E402
from facebench.cli import cli  # noqa: E402
from facebench.evaluate.correlations import STATISTICS, correlations, undefined_reason  # noqa: E402
from facebench.leaderboard import build_leaderboards  # noqa: E402
from facebench.leaderboard.bootstrap import bootstrap_intervals  # noqa: E402
from facebench.plugins import get_plugins  # noqa: E402
from facebench.resolution import is_unresolved  # noqa: E402
from facebench.store import ResultsStore  # noqa: E402

DATE = "2026-01-01"


# ------------------------------------------------------------------------------------------
# Constant up to rounding
# ------------------------------------------------------------------------------------------
ROUNDING = {"a": 9.0, "b": 9.000000000000002, "c": 8.999999999999998}  # H-score, n <= d, measured in issue 7
TRUTH = {"a": 0.6, "b": 0.8, "c": 0.7}


def test_rounding_noise_is_constant():
    assert is_unresolved(np.array(list(ROUNDING.values())))
    assert not is_unresolved(np.array([9.0, 9.0 + 1e-8, 9.0]))  # 1e-9 relative: a real difference
    assert is_unresolved(np.array([0.0, 0.0]))
    assert not is_unresolved(np.array([0.0, 1e-300]))


def test_no_statistic_for_rounding_noise():
    corr = correlations(ROUNDING, TRUTH)
    assert all(math.isnan(corr[s]) for s in STATISTICS), corr  # top1_rel too: no argmax over ties
    assert "constant" in undefined_reason(ROUNDING, TRUTH)
    assert undefined_reason({"a": 1.0, "b": 2.0, "c": 3.0}, TRUTH) is None


def test_top1_over_tied_scores_is_the_mean_of_the_tied_models():
    scores = {"a": 2.0, "b": 2.0, "c": 1.0}
    truth = {"a": 0.5, "b": 0.9, "c": 1.0}
    # a and b tie for the top score: expected truth under a random tie-break (0.5 + 0.9)/2 = 0.7
    assert correlations(scores, truth)["top1_rel"] == pytest.approx(0.7 / 1.0, rel=1e-12)


def test_bootstrap_gives_no_interval_for_constant_scores():
    x = np.array([9.0, 9.000000000000002, 8.999999999999998, 9.0])
    y = np.array([0.1, 0.4, 0.3, 0.2])
    intervals = bootstrap_intervals(x, y, n_boot=200)
    assert all(math.isnan(iv.low) and math.isnan(iv.high) for iv in intervals.values())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hscore_is_k_minus_one_when_n_at_most_d(seed):
    # n = 40 <= d = 64: the centred samples span 39 dims containing every centred class mean, so
    # H = tr(Q P) = tr(Q) = K - 1 whatever the features (derivation on H-score's docstring/card).
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), 10)
    x = rng.normal(size=(4, 64))[y] * rng.uniform(0.1, 3) + rng.normal(size=(40, 64))
    value = get_plugins().create_metric("hscore").score(FeatureBundle.from_arrays(x, y))
    assert value == pytest.approx(3.0, rel=1e-9)
    card = get_plugins().create_metric("hscore").card()
    assert any("n <= d" in d for d in card.departures)


# ------------------------------------------------------------------------------------------
# Metric cards
# ------------------------------------------------------------------------------------------
def test_every_builtin_metric_has_a_source_and_a_card():
    plugins = get_plugins()
    for entry in plugins.metrics.entries():
        if entry.plugin != "facebench.metrics.builtin":
            continue
        card = plugins.create_metric(entry.name).card()
        assert card.source, entry.name
        assert card.name == entry.name and card.summary
        assert all(isinstance(d, str) and d and "\n" not in d for d in card.departures), entry.name


def test_face_cards_say_which_reading():
    plugins = get_plugins()
    for name in ("face", "face-cf", "face-literal", "face-cf-literal"):
        notes = " ".join(plugins.create_metric(name).card().departures)
        assert "j != i" in notes, name
    assert "includes j = i" in " ".join(plugins.create_metric("face-cf-with-self").card().departures)
    assert "PCA to 8 dims" in " ".join(plugins.create_metric("face-cf", pca_dim=8).card().departures)


def test_gbc_spherical_card_credits_stable_transfer():
    card = get_plugins().create_metric("gbc", gaussian="spherical").card()
    assert "stable_transfer" in card.reference_code
    assert any("absolute 1e-4" in d for d in card.departures)


def test_list_metrics_verbose_prints_cards():
    result = CliRunner().invoke(cli, ["list", "metrics", "--verbose"])
    assert result.exit_code == 0, result.output
    names = get_plugins().metrics.names()
    assert result.output.count("    parameters:") == len(names)
    assert result.output.count("    source:") >= len(names) - 1  # external plugins may lack one
    assert "row='others'" in result.output


# ------------------------------------------------------------------------------------------
# The boards: a store with real feature files
# ------------------------------------------------------------------------------------------
K, PER, D = 5, 12, 24
MODELS = [f"m{i}" for i in range(5)]


@pytest.fixture(scope="module")
def board_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("cards")
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(K), PER)
    bundles, truth = {}, {}
    for i, m in enumerate(MODELS):
        x = rng.normal(size=(K, D))[y] * (0.4 + 0.5 * i) + rng.normal(size=(y.size, D)) * rng.uniform(0.5, 2, D)
        bundles[m] = FeatureBundle.from_arrays(x, y, name=m)
        truth[m] = 0.5 + 0.08 * i + 0.01 * rng.normal()
    store = ResultsStore(root / "r.sqlite")
    store.begin_run("dig", "cards", "name: cards\nmetrics: [face, hscore]\n")
    bench = "classification/toy"
    store.add_benchmark(bench, "classification", "toy", "tgt", "dig")
    for m, b in bundles.items():
        path = root / f"{m}.npz"
        b.save_npz(path)
        write_sidecar(path)  # as the feature cache writes it
        store.record_features(f"x{m}", bench, "tgt", m, "train", str(path), "ck", b.n, b.dim, 0.1)
        for seed in (0, 1):
            store.record_ground_truth(f"g{m}{seed}", bench, "tgt", m, seed, {"accuracy": truth[m]}, 1.0)
    plugins = get_plugins()
    face = plugins.create_metric("face")
    raw = {m: face.score(b) for m, b in bundles.items()}
    store.record_scores("sf", bench, "tgt", "face", face.params(), raw, {m: 0.01 for m in MODELS}, {},
                        face.combine(raw), [])
    cf = plugins.create_metric("face-cf")
    raw_cf = {m: cf.score(b) for m, b in bundles.items()}
    store.record_scores("sc", bench, "tgt", "face-cf", cf.params(), raw_cf, {m: 0.01 for m in MODELS}, {},
                        cf.combine(raw_cf), [])
    flat = dict(zip(MODELS, [9.0, 9.000000000000002, 8.999999999999998, 9.0, 9.0]))
    store.record_scores("sh", bench, "tgt", "hscore", {}, flat, {m: 0.01 for m in MODELS}, {}, flat, [])
    store.close()
    out = root / "out"
    build_leaderboards(root / "r.sqlite", out, date=DATE, figures=False, n_boot=100)
    return {"root": root, "out": out, "bundles": bundles, "truth": truth, "y": y}


def test_board_shows_no_statistic_for_constant_scores(board_store):
    doc = json.loads((board_store["out"] / "leaderboard.json").read_text())
    rows = [r for r in doc["rows"] if r["metric"] == "hscore"]
    assert rows and all(r["value"] is None for r in rows)
    md = (board_store["out"] / "leaderboard.md").read_text()
    assert "`hscore` on tgt: no statistic against accuracy: scores constant over the zoo" in md


def test_board_has_metric_cards_with_stored_parameters(board_store):
    doc = json.loads((board_store["out"] / "leaderboard.json").read_text())
    cards = {c["name"]: c for c in doc["metrics"]}
    assert set(cards) == {"face", "face-cf", "hscore"}
    assert cards["face"]["params"] == {"t": 0.05, "pca_dim": 64, "covariance": "diagonal", "row": "others"}
    assert any("j != i" in d for d in cards["face"]["departures"])
    assert cards["hscore"]["source"].startswith("Bao")
    md = (board_store["out"] / "leaderboard.md").read_text()
    html = (board_store["out"] / "leaderboard.html").read_text()
    assert "## Metrics" in md and "**`face`**" in md
    assert "id='metrics'" in html and "departs:" in html


def test_sensitivity_tables_recomputed_from_cached_features(board_store):
    doc = json.loads((board_store["out"] / "leaderboard.json").read_text())
    tables = {t["metric"]: t for t in doc["sensitivity"]}
    assert set(tables) == {"face", "face-cf"}  # hscore names no parameters worth varying
    y, truth, bundles = board_store["y"], board_store["truth"], board_store["bundles"]
    models = sorted(bundles)
    acc = [truth[m] for m in models]
    for name, table in tables.items():
        assert table["targets"] == ["tgt"] and len(table["rows"]) == 16
        (default,) = [r for r in table["rows"] if r["default"]]
        assert default["params"] == {"row": "others", "covariance": "diagonal", "pca_dim": 64}
    checked = 0
    for row in tables["face-cf"]["rows"]:
        if row["params"]["covariance"] != "diagonal":
            continue
        # independent: the brute-force F of the reference implementations, then scipy's tau_w
        f = [ref.fairness_pca_diag(bundles[m].features, y, t=0.05, pca_dim=row["params"]["pca_dim"],
                                   row=row["params"]["row"]) for m in models]
        expected = stats.weightedtau(f, acc).statistic
        assert row["tau_w"]["tgt"] == pytest.approx(expected, rel=1e-9, abs=1e-12), row
        checked += 1
    assert checked == 8
    for row in tables["face"]["rows"]:  # FaCe = minmax(C) + minmax(F), both terms by the reference loops
        if row["params"]["covariance"] != "diagonal":
            continue
        values = {m: {"C": ref.variance_collapse(bundles[m].features, y),
                      "F": ref.fairness_pca_diag(bundles[m].features, y, t=0.05, pca_dim=row["params"]["pca_dim"],
                                                 row=row["params"]["row"])} for m in models}
        s_ref = ref.face_combine(values)
        expected = stats.weightedtau([s_ref[m] for m in models], acc).statistic
        assert row["tau_w"]["tgt"] == pytest.approx(expected, rel=1e-9, abs=1e-12), row
    md = (board_store["out"] / "leaderboard.md").read_text()
    assert "## Sensitivity to parameters" in md and "**row=others, covariance=diagonal, pca_dim=64 (default)**" in md


PLUGIN_SOURCE = '''
import numpy as np
import facebench
from facebench.metrics.base import Metric


class ColumnMean(Metric):
    """Test metric: the mean of feature column k (so each k ranks the zoo its own way)."""

    name = "column-mean"
    sensitivity = {"k": (0, 1, 2)}

    def __init__(self, k: int = 3) -> None:
        self.k = int(k)

    def compute(self, bundle):
        return float(np.mean(bundle.features[:, self.k]))


@facebench.hookimpl
def facebench_metrics():
    return [ColumnMean]
'''


def _store_with(root, config_text: str, metrics: dict, bundles, truth):
    """A store holding ``bundles``' feature files, two seeds of ``truth`` and each metric's scores."""
    store = ResultsStore(root / "r.sqlite")
    store.begin_run("dig", "plugin", config_text)
    bench = "classification/toy"
    store.add_benchmark(bench, "classification", "toy", "tgt", "dig")
    for m, b in bundles.items():
        path = root / f"{m}.npz"
        b.save_npz(path)
        write_sidecar(path)
        store.record_features(f"x{m}", bench, "tgt", m, "train", str(path), "ck", b.n, b.dim, 0.1)
        for seed in (0, 1):
            store.record_ground_truth(f"g{m}{seed}", bench, "tgt", m, seed, {"accuracy": truth[m]}, 1.0)
    for name, metric in metrics.items():
        raw = {m: metric.score(b) for m, b in bundles.items()}
        store.record_scores(f"s{name}", bench, "tgt", name, metric.params(), raw, {m: 0.01 for m in bundles}, {},
                            metric.combine(raw), [])
    store.close()


def test_a_plugin_metric_gets_a_sensitivity_table_without_code_in_facebench(board_store, tmp_path, monkeypatch):
    (tmp_path / "colmean_plugin.py").write_text(PLUGIN_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = get_plugins(("colmean_plugin",))
    bundles, truth = board_store["bundles"], board_store["truth"]
    _store_with(tmp_path, "name: plugin\nplugins: [colmean_plugin]\n",
                {"column-mean": plugins.create_metric("column-mean")}, bundles, truth)
    build_leaderboards(tmp_path / "r.sqlite", tmp_path / "out", date=DATE, figures=False, n_boot=50)
    (table,) = json.loads((tmp_path / "out" / "leaderboard.json").read_text())["sensitivity"]
    assert table["metric"] == "column-mean" and table["params"] == {"k": 3}
    rows = table["rows"]
    assert [r["params"]["k"] for r in rows] == [3, 0, 1, 2]  # the scored value, not in the grid, comes first
    assert [r["default"] for r in rows] == [True, False, False, False]
    models = sorted(bundles)
    for row in rows:
        k = row["params"]["k"]
        expected = stats.weightedtau([bundles[m].features[:, k].mean() for m in models],
                                     [truth[m] for m in models]).statistic
        assert row["tau_w"]["tgt"] == pytest.approx(expected, rel=1e-12), row


def test_the_config_names_the_grid_or_turns_it_off(board_store, tmp_path):
    plugins = get_plugins()
    bundles, truth = board_store["bundles"], board_store["truth"]
    cases = {"grid": ("sensitivity: {face: {pca_dim: [8, 64]}, face-cf: {}}", 1),
             "off": ("sensitivity: {face: {}, face-cf: {}}", 0)}
    for case, (block, n_tables) in cases.items():
        root = tmp_path / case
        root.mkdir()
        _store_with(root, f"name: grid\n{block}\n",
                    {"face": plugins.create_metric("face"), "face-cf": plugins.create_metric("face-cf")}, bundles, truth)
        build_leaderboards(root / "r.sqlite", root / "out", date=DATE, figures=False, n_boot=50)
        tables = json.loads((root / "out" / "leaderboard.json").read_text())["sensitivity"]
        assert len(tables) == n_tables, case
        if n_tables:
            assert [r["params"] for r in tables[0]["rows"]] == [{"pca_dim": 8}, {"pca_dim": 64}]
            assert [r["default"] for r in tables[0]["rows"]] == [False, True]


def test_a_config_grid_is_checked_before_any_job(tmp_path):
    from facebench.config import parse_config
    from facebench.errors import ConfigError
    from facebench.runner.resolve import resolve_metrics

    plugins = get_plugins()
    bench = [{"task": "classification", "zoo": "embedded", "targets": ["digits"]}]
    cfg = parse_config({"name": "x", "metrics": ["face"], "benchmarks": bench,
                        "sensitivity": {"face": {"covariance": ["diagonal", "ful"]}}})
    with pytest.raises(ConfigError, match="sensitivity.face.covariance: value 'ful'"):
        resolve_metrics(cfg, plugins)
    with pytest.raises(ConfigError, match="non-empty list"):
        parse_config({"name": "x", "benchmarks": bench, "sensitivity": {"face": {"pca_dim": 8}}})


def test_sensitivity_skips_a_feature_file_that_fails_its_checksum(board_store, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(board_store["root"], root)
    store = ResultsStore(root / "r.sqlite")
    store.db.execute("UPDATE features SET path = ? || '/' || model || '.npz'", (str(root),))
    store.close()
    victim = root / "m2.npz"
    victim.write_bytes(victim.read_bytes()[:-7] + b"garbage")
    build_leaderboards(root / "r.sqlite", root / "out", date=DATE, figures=False, n_boot=50)
    doc = json.loads((root / "out" / "leaderboard.json").read_text())
    for table in doc["sensitivity"]:
        assert table["targets"] == [] and "checksum" in table["skipped"]["tgt"] and "m2" in table["skipped"]["tgt"]


def test_sensitivity_is_skipped_with_a_reason_when_features_are_gone(board_store, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(board_store["root"], root)
    store = ResultsStore(root / "r.sqlite")
    store.db.execute("UPDATE features SET path = '/nonexistent/' || model || '.npz'")
    store.close()
    build_leaderboards(root / "r.sqlite", root / "out", date=DATE, figures=False, n_boot=50)
    doc = json.loads((root / "out" / "leaderboard.json").read_text())
    for table in doc["sensitivity"]:
        assert table["targets"] == [] and "missing" in table["skipped"]["tgt"]
