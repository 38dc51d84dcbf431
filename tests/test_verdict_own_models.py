"""Each metric is compared on the models it scored: one metric's missing models (a plugin's bug on
one model, a data-free control undefined for a model) leave the other metrics' values untouched."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import weightedtau

from facebench.evaluate import significance
from facebench.evaluate.reliability import GroundTruth
from facebench.evaluate.significance import TargetData, compare, target_draws
from facebench.resolution import snap_ties


def _target(rng, n_models=9, n_seeds=4, missing=(0, 5)):
    q = rng.standard_normal(n_models)
    values = q[:, None] + 0.3 * rng.standard_normal((n_models, n_seeds))
    gt = GroundTruth(tuple(f"m{i}" for i in range(n_models)), tuple(range(n_seeds)), values)
    full = q + 0.5 * rng.standard_normal(n_models)
    partial = q + 0.5 * rng.standard_normal(n_models)
    partial[list(missing)] = np.nan
    return gt, {"full": full, "other": q + rng.standard_normal(n_models)}, partial


def _tau(x, y):
    return weightedtau(snap_ties(np.asarray(x, float)), snap_ties(np.asarray(y, float)))[0]


def test_a_metric_with_missing_models_leaves_the_others_bit_identical():
    gt, scores, partial = _target(np.random.default_rng(3))
    without = target_draws(TargetData("b/z", "t", (gt,), scores), n_boot=300, seed=5)
    with_it = target_draws(TargetData("b/z", "t", (gt,), {**scores, "partial": partial}), n_boot=300, seed=5)
    for m in ("full", "other"):
        i, j = without.metrics.index(m), with_it.metrics.index(m)
        assert without.observed[i] == with_it.observed[j]
        np.testing.assert_array_equal(without.boot[:, i], with_it.boot[:, j])


def test_the_partial_metric_is_measured_on_the_drawn_models_it_scored_by_brute_force():
    gt, scores, partial = _target(np.random.default_rng(4))
    target = TargetData("b/z", "t", (gt,), {**scores, "partial": partial})
    draws = target_draws(target, n_boot=200, seed=1)
    j = draws.metrics.index("partial")
    scored = np.isfinite(partial)
    assert draws.observed[j] == pytest.approx(_tau(partial[scored], gt.mean[scored]), abs=1e-12)
    # the replicates, drawn as the module docstring says, each recomputed with scipy
    n, s = gt.values.shape
    rng = significance._rng(1, target)
    idx = np.sort(rng.integers(0, n, size=(200, n)), axis=1)
    seed_counts = significance.resample_counts(s, 200, rng)
    truth = seed_counts @ gt.values.T / s  # (B, n): no test predictions here
    for r in range(200):
        keep = idx[r][scored[idx[r]]]
        if len(set(keep)) < 2:
            assert np.isnan(draws.boot[r, j])
            continue
        assert draws.boot[r, j] == pytest.approx(_tau(partial[keep], truth[r, keep]), abs=1e-12), r


def test_a_metric_on_fewer_than_two_models_has_no_value():
    gt, scores, partial = _target(np.random.default_rng(5), missing=tuple(range(1, 9)))
    draws = target_draws(TargetData("b/z", "t", (gt,), {**scores, "partial": partial}), n_boot=50, seed=0)
    j = draws.metrics.index("partial")
    assert np.isnan(draws.observed[j]) and np.isnan(draws.boot[:, j]).all()
    c = compare([draws])
    assert "partial" not in c.mean_tau_w and set(c.mean_tau_w) == {"full", "other"}


def test_a_null_with_a_partial_metric_rejects_at_most_at_the_level():
    """Two equally good metrics, one of which misses 2 of 12 models on every target."""
    rng = np.random.default_rng(11)
    replicates, rejected = 150, 0
    for r in range(replicates):
        draws = []
        for t in range(6):
            q = rng.standard_normal(12)
            gt = GroundTruth(tuple(f"m{i:02d}" for i in range(12)), tuple(range(5)),
                             q[:, None] + 0.35 * rng.standard_normal((12, 5)))
            b = q + 0.8 * rng.standard_normal(12)
            b[rng.choice(12, size=2, replace=False)] = np.nan
            draws.append(target_draws(TargetData("sim/z", f"t{t}", (gt,), {"a": q + 0.8 * rng.standard_normal(12), "b": b}),
                                      n_boot=300, seed=r))
        (pair,) = compare(draws, level=0.95).pairs
        rejected += pair.significant
    assert rejected / replicates <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / replicates), rejected


def test_a_perfect_metric_missing_models_is_told_from_a_random_one():
    rng = np.random.default_rng(12)
    draws = []
    for t in range(8):
        q = rng.standard_normal(12)
        gt = GroundTruth(tuple(f"m{i:02d}" for i in range(12)), tuple(range(5)), q[:, None] + 0.35 * rng.standard_normal((12, 5)))
        perfect = q.copy()
        perfect[rng.choice(12, size=2, replace=False)] = np.nan
        draws.append(target_draws(TargetData("sim/z", f"t{t}", (gt,), {"perfect": perfect, "random": rng.standard_normal(12)}),
                                  n_boot=1000, seed=0))
    (pair,) = compare(draws, level=0.95).pairs
    assert (pair.a, pair.b) == ("perfect", "random") and pair.significant and pair.delta > 0.5, pair


def test_the_board_lists_missing_models_and_its_ranking_agrees_with_its_comparison(tmp_path):
    """A plugin metric fails on 2 of 6 models of one target: the board says which and why, and every
    metric's mean tau_w in the Ranking equals the comparison's (both measure it on its own models)."""
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from leaderboard_fixtures import BENCHMARKS, MODELS, make_store

    from facebench.leaderboard import build_leaderboards
    from facebench.leaderboard.tables import missing_models_note
    from facebench.store import ResultsStore

    path = make_store(tmp_path / "s.sqlite", seed=3)
    bench = next(iter(BENCHMARKS))
    targets = BENCHMARKS[bench][2]
    rng = np.random.default_rng(0)
    store = ResultsStore(path)
    for target in targets:
        # as the runner words them: the bundle and the metric first (the note keeps the reason only)
        errors = {m: f"{m}@{target}: metric 'partial': KeyError: 'oops' (at plugin.py:3 in compute)"
                  for m in MODELS[:2]} if target == targets[0] else {}
        scores = {m: float(rng.normal()) for m in MODELS if m not in errors}
        store.record_scores(f"score:{bench}:{target}:partial", bench, target, "partial", {}, dict(scores),
                            {m: 0.1 for m in MODELS}, errors, scores, [])
    store.close()
    build_leaderboards(path, tmp_path / "out", date="2026-12-04", figures=False, n_boot=200)
    doc = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    expected = f"no value on 2 of {len(MODELS)} models: {MODELS[0]}, {MODELS[1]} (KeyError: 'oops' (at plugin.py:3 in compute))"
    assert doc["benchmarks"][0]["notes"][targets[0]] == {"partial": [expected]}
    assert expected in (tmp_path / "out" / "leaderboard.md").read_text()
    ranking = {r["metric"]: r["mean_tau_w"] for r in doc["ranking"]["overall"]}
    compared = {m["metric"]: m["mean_tau_w"] for m in doc["significance"]["metrics"]}
    assert set(compared) == set(ranking)
    for metric, value in compared.items():
        assert ranking[metric] == pytest.approx(value, abs=1e-12), metric
    # grouping by message, most models first, and the count of what is not shown
    note = missing_models_note({"a": "x", "b": "y", "c": "y", "d": "z", "e": "w"}, 1, shown=2)
    assert note == "no value on 5 of 6 models: b, c (y); a (x); 2 more messages on 2 models"


def _shared_zoo_targets(rng, noise: dict[str, float], rho: float, *, zoo: bool, n_targets=8, n_models=12, n_seeds=6):
    """Targets of one zoo: a model's quality is partly the zoo's (shared by the targets), and each
    metric's error on a model is a persistent part (weight rho, the same on every target) plus a fresh one."""
    z = rng.standard_normal(n_models)
    persistent = {k: rng.standard_normal(n_models) for k in noise}
    models = tuple(f"m{i:02d}" for i in range(n_models))
    out = []
    for t in range(n_targets):
        q = np.sqrt(0.5) * z + np.sqrt(0.5) * rng.standard_normal(n_models)
        gt = GroundTruth(models, tuple(range(n_seeds)), q[:, None] + 0.35 * rng.standard_normal((n_models, n_seeds)))
        scores = {k: q + sd * (np.sqrt(rho) * persistent[k] + np.sqrt(1 - rho) * rng.standard_normal(n_models))
                  for k, sd in noise.items()}
        out.append(TargetData("sim/zoo", f"t{t}", (gt,), scores, zoo=models if zoo else ()))
    return out


def test_a_null_on_targets_sharing_a_zoo_rejects_at_most_at_the_level():
    """Two equally good metrics whose errors on a model persist across the zoo's targets (rho 0.9).
    Drawing each target's models apart rejected 14% of such nulls (docs/statistics.md, "Targets that share a zoo")."""
    rng = np.random.default_rng(21)
    replicates, rejected = 200, 0
    for r in range(replicates):
        targets = _shared_zoo_targets(rng, {"a": 0.8, "b": 0.8}, 0.9, zoo=True)
        (pair,) = compare([target_draws(t, n_boot=400, seed=r) for t in targets], level=0.95).pairs
        rejected += pair.significant
    assert rejected / replicates <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / replicates), rejected


def test_a_real_difference_on_a_shared_zoo_is_found():
    rng = np.random.default_rng(22)
    found = 0
    for r in range(20):
        targets = _shared_zoo_targets(rng, {"good": 0.3, "poor": 1.5}, 0.5, zoo=True)
        (pair,) = compare([target_draws(t, n_boot=400, seed=r) for t in targets], level=0.95).pairs
        found += pair.significant and pair.a == "good"
    assert found >= 16, found


def test_the_targets_of_a_zoo_share_their_model_draws():
    rng = np.random.default_rng(23)
    t0, t1 = _shared_zoo_targets(rng, {"a": 0.5}, 0.5, zoo=True, n_targets=2)
    i0 = significance._model_draws(t0, 50, 3, significance._rng(3, t0))
    i1 = significance._model_draws(t1, 50, 3, significance._rng(3, t1))
    np.testing.assert_array_equal(i0, i1)
    apart = [significance._model_draws(TargetData(t.benchmark, t.target, t.truths, t.scores), 50, 3,
                                       significance._rng(3, t)) for t in (t0, t1)]
    assert not np.array_equal(*apart)


def _truth_target(results: dict[str, dict[int, float]]):
    from types import SimpleNamespace

    return SimpleNamespace(target="t0", truth_values={"accuracy": results})


def test_an_extra_seed_on_one_model_costs_that_seed_not_the_other_models():
    from facebench.leaderboard.trust import complete_truth, complete_truth_note

    results = {f"m{i}": {0: 0.1 * i, 1: 0.1 * i + 0.01, 2: 0.1 * i + 0.02} for i in range(8)}
    results["m0"][3] = 0.5
    t = _truth_target(results)
    models, seeds, values = complete_truth(t, "accuracy")
    assert models == tuple(f"m{i}" for i in range(8)) and seeds == (0, 1, 2)
    np.testing.assert_array_equal(values[2], [results["m2"][s] for s in (0, 1, 2)])
    assert complete_truth_note(t, "accuracy", models, seeds).endswith("left out: seed 3")


def test_a_model_with_one_seed_of_six_costs_that_model_not_five_seeds():
    from facebench.leaderboard.trust import complete_truth, complete_truth_note

    results = {f"m{i}": {s: 0.1 * i + 0.01 * s for s in range(6)} for i in range(11)}
    results["m3"] = {0: 0.3}
    results["m4"][2] = float("nan")  # a failed run counts as missing
    t = _truth_target(results)
    models, seeds, _ = complete_truth(t, "accuracy")
    # by brute force over every subset of models: the most complete results, then the most models
    names = sorted(results)
    finite = {m: {s for s, v in results[m].items() if np.isfinite(v)} for m in names}
    best = max(((len(c) * len(set.intersection(*(finite[m] for m in c))), len(c), c)
                for r in range(1, len(names) + 1) for c in itertools.combinations(names, r)), key=lambda b: (b[0], b[1]))
    assert len(models) * len(seeds) == best[0] and len(models) == best[1]
    assert models == tuple(m for m in names if m not in ("m3", "m4")) and seeds == tuple(range(6))
    assert complete_truth_note(t, "accuracy", models, seeds).endswith("left out: models m3, m4")
    assert complete_truth_note(_truth_target({"a": {0: 1.0}, "b": {0: 2.0}}), "accuracy", ("a", "b"), (0,)) == ""


def test_the_largest_complete_matrix_is_found_where_a_greedy_pass_misses_it():
    """A model with many seeds, only two of which the others have: 10 x 5 results, not 11 x 2; and a
    model whose seeds the others lack entirely does not take the target for itself."""
    from facebench.leaderboard.trust import complete_truth

    results = {f"m{i}": {s: 0.1 * i + 0.01 * s for s in range(5)} for i in range(10)}
    results["odd"] = {s: 0.5 for s in (0, 1, 5, 6, 7, 8)}
    models, seeds, _ = complete_truth(_truth_target(results), "accuracy")
    assert seeds == tuple(range(5)) and models == tuple(f"m{i}" for i in range(10))
    results["odd"] = {s: 0.5 for s in range(5, 11)}
    models, seeds, _ = complete_truth(_truth_target(results), "accuracy")
    assert seeds == tuple(range(5)) and len(models) == 10


def _board_doc(path, out):
    import json

    from facebench.leaderboard import build_leaderboards

    build_leaderboards(path, out, date="2026-12-04", figures=False, n_boot=200)
    return json.loads((out / "leaderboard.json").read_text())


def _fixture_store(tmp_path, name):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from leaderboard_fixtures import make_store

    return make_store(tmp_path / name, seed=5)


def test_a_model_with_no_ground_truth_leaves_the_comparison_unchanged(tmp_path):
    """A model only a metric scored (its fine-tuning failed everywhere) is in no target's verdict: it is
    not in the zoo the models are drawn from either."""
    from facebench.store import ResultsStore

    plain = _board_doc(_fixture_store(tmp_path, "a.sqlite"), tmp_path / "a")
    path = _fixture_store(tmp_path, "b.sqlite")
    store = ResultsStore(path)
    bench, target = "classification/toy-zoo", "alpha"
    scores = dict(store.scores(bench, target, "noise"))
    scores["ghost"] = 0.5
    store.record_scores(f"score:{bench}:{target}:noise", bench, target, "noise", {}, dict(scores),
                        {m: 0.1 for m in scores}, {}, scores, [])
    store.close()
    ghost = _board_doc(path, tmp_path / "b")
    assert ghost["significance"] == plain["significance"]


def test_with_a_seed_left_out_the_ranking_still_agrees_with_the_comparison(tmp_path):
    """One model with an extra seed on one target: the complete matrix leaves that seed out, the
    board says so, and each metric's mean in the comparison is still the Ranking's."""
    from facebench.store import ResultsStore

    path = _fixture_store(tmp_path, "s.sqlite")
    store = ResultsStore(path)
    store.record_ground_truth("ft:extra", "classification/toy-zoo", "alpha", "vgg16", 3, {"accuracy": 0.99}, 1.0)
    store.close()
    doc = _board_doc(path, tmp_path / "out")
    ranking = {r["metric"]: r["mean_tau_w"] for r in doc["ranking"]["overall"]}
    compared = {m["metric"]: m["mean_tau_w"] for m in doc["significance"]["metrics"]}
    assert compared and set(compared) == set(ranking)
    for metric, value in compared.items():
        assert ranking[metric] == pytest.approx(value, abs=1e-12), metric
    md = (tmp_path / "out" / "leaderboard.md").read_text()
    assert "alpha: accuracy: the reliability and the comparison use 6 models x 3 seeds" in md and "left out: seed 3" in md
