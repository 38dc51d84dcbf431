"""The board's verdict: a metric comparison that can reject when the data say so, and only then.

Checked on simulations with a known answer (a null of two equally good metrics must not reject
more often than the level; a perfect metric must be told from a random one among 21 metrics on
8 targets of 12 models), and the letter display against its definition on random graphs.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facebench.evaluate.reliability import GroundTruth
from facebench.evaluate.significance import (TargetData, compare, letter_display, min_attainable_p, stepdown_maxt,
                                             target_draws)


# -- the letter display ---------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.integers(1, 9).flatmap(lambda n: st.tuples(
    st.just(n), st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))))))
def test_two_metrics_share_a_letter_exactly_when_they_do_not_differ(case):
    n, edges = case
    names = [f"m{i}" for i in range(n)]
    differ = {frozenset((names[i], names[j])) for i, j in edges if i != j}
    letters = letter_display(names, lambda a, b: frozenset((a, b)) in differ)
    assert all(letters[m] for m in names)  # every metric has a letter
    for a, b in itertools.combinations(names, 2):
        share = bool(set(letters[a]) & set(letters[b]))
        assert share == (frozenset((a, b)) not in differ), (a, b, letters, differ)


def test_letters_start_at_the_best_metric():
    letters = letter_display(["best", "mid", "worst"], lambda a, b: {a, b} == {"best", "worst"})
    assert letters["best"].startswith("a") and letters["worst"] == "b"


# -- the step-down max-T --------------------------------------------------------------------------
def test_stepdown_maxt_hand_worked():
    t_obs = np.array([3.0, 1.0, 2.0])
    boot = np.array([[0.5, 2.5, 0.1],  # row maxima over all pairs: 2.5, 3.5, 0.5, 1.5
                     [3.5, 0.2, 0.2],
                     [0.1, 0.5, 0.4],
                     [1.0, 1.5, 1.2]])
    # step 1 (pair 0, |t| = 3): maxima over all pairs >= 3 -> 1 row (3.5): p = (1 + 1) / 5 = 0.4
    # step 2 (pair 2, |t| = 2): maxima over pairs {2, 1}: 2.5, 0.2, 0.5, 1.5 -> 1 row >= 2: p = 0.4
    # step 3 (pair 1, |t| = 1): pair 1 alone: 2.5, 0.2, 0.5, 1.5 -> 2 rows >= 1: p = 0.6
    np.testing.assert_allclose(stepdown_maxt(t_obs, boot), [0.4, 0.6, 0.4])


def test_the_smallest_attainable_p_does_not_grow_with_the_pairs():
    assert min_attainable_p("maxt", 210, 1000) == pytest.approx(1 / 1001)
    assert min_attainable_p("holm", 210, 1000) == pytest.approx(210 / 1001)


def test_the_floor_is_what_a_certain_difference_gets():
    """A perfect and a reversed metric on noisy targets: every replicate separates them, so each
    correction's p is its floor, which the board states."""
    rng = np.random.default_rng(5)
    targets = []
    for t in range(6):
        q = rng.standard_normal(10)
        gt = GroundTruth(tuple(f"m{i}" for i in range(10)), tuple(range(4)), q[:, None] + 0.3 * rng.standard_normal((10, 4)))
        targets.append(TargetData("sim/zoo", f"t{t}", (gt,), {"perfect": q, "reversed": -q, "random": rng.standard_normal(10)}))
    draws = [target_draws(t, n_boot=300, seed=0) for t in targets]
    for correction in ("maxt", "holm", "none"):
        c = compare(draws, correction=correction)
        pair = c.pair("perfect", "reversed")
        assert pair.p_adjusted == pytest.approx(min_attainable_p(correction, len(c.pairs), 300)), correction


def test_stepdown_maxt_counts_only_the_replicates_with_a_value():
    # one pair, defined on 3 of 5 replicates: its p is the per-pair p over those 3, not over 5
    t_obs = np.array([2.0])
    boot = np.array([[0.5], [np.nan], [3.0], [np.nan], [1.0]])
    np.testing.assert_allclose(stepdown_maxt(t_obs, boot), [(1 + 1) / (3 + 1)])
    # two pairs: a replicate counts for a step when some pair of that step has a value there
    t_obs = np.array([3.0, 1.0])
    boot = np.array([[np.nan, 0.5], [np.nan, np.nan], [3.5, 0.2], [0.1, 1.5]])
    # step 1 (pair 0): maxima 0.5, -, 3.5, 1.5 over 3 counted replicates, 1 >= 3: (1 + 1) / 4
    # step 2 (pair 1): 0.5, -, 0.2, 1.5 over 3, 1 >= 1: (1 + 1) / 4, and never below step 1
    np.testing.assert_allclose(stepdown_maxt(t_obs, boot), [0.5, 0.5])


def test_a_difference_that_never_varies_is_not_tested():
    """Three models, no noise: every replicate gives Delta = 2 exactly or within rounding; the
    bootstrap has nothing to say, whatever the rounding of the spread (it was 'significant' at
    some zoo sizes and not at others)."""
    for n in (3, 4, 5, 6, 8):
        q = np.arange(n, dtype=float)
        gt = GroundTruth(tuple(f"m{i}" for i in range(n)), (0, 1), np.column_stack([q, q]))
        draws = [target_draws(TargetData("b/z", "t", (gt,), {"perfect": q * 1.1, "reversed": -q}), n_boot=200, seed=1)]
        (pair,) = compare(draws).pairs
        assert pair.delta == pytest.approx(2.0) and not pair.significant, (n, pair)


# -- simulations with a known answer ---------------------------------------------------------------
def simulated_targets(rng, metric_noise: dict[str, float | None], *, n_targets=8, n_models=12, n_seeds=6,
                      seed_sd=0.35):
    """Targets whose models have a true quality q ~ N(0, 1); a seed's result is q + N(0, seed_sd);
    a metric scores q + N(0, noise) (None: a random score that knows nothing)."""
    out = []
    for t in range(n_targets):
        q = rng.standard_normal(n_models)
        values = q[:, None] + seed_sd * rng.standard_normal((n_models, n_seeds))
        gt = GroundTruth(tuple(f"m{i:02d}" for i in range(n_models)), tuple(range(n_seeds)), values)
        scores = {name: (rng.standard_normal(n_models) if noise is None else q + noise * rng.standard_normal(n_models))
                  for name, noise in metric_noise.items()}
        out.append(TargetData("sim/zoo", f"t{t}", (gt,), scores))
    return out


def test_a_null_of_two_equally_good_metrics_rejects_at_most_at_the_level():
    rng = np.random.default_rng(2026)
    replicates, rejected = 200, 0
    for r in range(replicates):
        targets = simulated_targets(rng, {"a": 0.8, "b": 0.8})
        draws = [target_draws(t, n_boot=400, seed=r) for t in targets]
        (pair,) = compare(draws, level=0.95).pairs
        rejected += pair.significant
    assert rejected / replicates <= 0.05, rejected


def test_a_perfect_metric_is_told_from_a_random_one_among_21():
    rng = np.random.default_rng(7)
    noise: dict[str, float | None] = {"perfect": 0.0, "random": None}
    noise.update({f"metric{k:02d}": float(s) for k, s in enumerate(np.geomspace(0.2, 5.0, 19))})
    targets = simulated_targets(rng, noise)
    c = compare([target_draws(t, n_boot=1000, seed=0) for t in targets], level=0.95)
    assert len(c.pairs) == 210
    pair = c.pair("perfect", "random")
    assert pair.significant and pair.delta > 0.5, pair
    assert not set(c.letters["perfect"]) & set(c.letters["random"])


# -- ties at the values' own resolution -----------------------------------------------------------
def test_an_offset_does_not_make_real_gaps_a_tie():
    from facebench.resolution import is_unresolved

    gaps = np.array([0.0, 1e-5, 2e-5, 3e-5])
    assert not is_unresolved(1e6 + gaps)  # 8e4 ulps apart at 1e6: real differences
    truth = {f"m{i}": v for i, v in enumerate([0.1, 0.2, 0.3, 0.4])}
    from facebench.evaluate.correlations import correlations

    plain = correlations(dict(zip(truth, gaps)), truth)["tau_w"]
    shifted = correlations(dict(zip(truth, 1e6 + gaps)), truth)["tau_w"]
    assert plain == shifted == pytest.approx(1.0)


def test_two_models_that_differ_by_rounding_are_tied_inside_tau_w():
    from scipy import stats

    from facebench.evaluate.correlations import correlations

    truth = {"a": 0.5, "b": 0.7, "c": 0.6, "d": 0.9}
    up = {"a": 1.0, "b": 9.000000000000002, "c": 8.999999999999998, "d": 20.0}
    down = {"a": 1.0, "b": 8.999999999999998, "c": 9.000000000000002, "d": 20.0}
    tied = [1.0, 9.0, 9.0, 20.0]  # by hand: b and c tied
    want = stats.weightedtau(tied, [0.5, 0.7, 0.6, 0.9]).statistic
    assert correlations(up, truth)["tau_w"] == pytest.approx(want, rel=1e-12)
    assert correlations(down, truth)["tau_w"] == pytest.approx(want, rel=1e-12)


# -- decision statistics --------------------------------------------------------------------------
def test_regret_and_top3_hand_worked():
    from facebench.evaluate.correlations import correlations

    truth = {"a": 0.70, "b": 0.90, "c": 0.80, "d": 0.60, "e": 0.75}
    # the metric picks c first (regret 0.90 - 0.80 = 0.10) and ranks b 2nd: b is in its top 3
    scores = {"a": 1.0, "b": 4.0, "c": 5.0, "d": 2.0, "e": 3.0}
    out = correlations(scores, truth)
    assert out["regret1"] == pytest.approx(0.10) and out["top3_hit"] == 1.0
    # b ranked 4th: miss
    out = correlations({**scores, "b": 1.5}, truth)
    assert out["top3_hit"] == 0.0
    # a tie for 3rd place between b and d (two models for one place): hit with probability 1/2
    out = correlations({"a": 1.0, "b": 2.0, "c": 5.0, "d": 2.0, "e": 3.0}, truth)
    assert out["top3_hit"] == pytest.approx(0.5)
    # a tie at the top between b and d: the expected pick is (0.90 + 0.60) / 2, regret 0.15
    out = correlations({"a": 1.0, "b": 5.0, "c": 2.0, "d": 5.0, "e": 3.0}, truth)
    assert out["regret1"] == pytest.approx(0.15) and out["top1_rel"] == pytest.approx(0.75 / 0.90)


def test_row_statistics_match_the_scalar_ones():
    from facebench.evaluate.correlations import STATISTICS, correlations
    from facebench.evaluate.rowstats import ROW_STATISTICS

    rng = np.random.default_rng(3)
    x = np.round(rng.normal(size=(50, 7)), 1)  # ties on purpose
    y = np.round(rng.uniform(0.5, 0.9, size=(50, 7)), 2)
    names = [f"m{i}" for i in range(7)]
    for stat in STATISTICS:
        rows = ROW_STATISTICS[stat](x, y)
        for b in range(50):
            want = correlations(dict(zip(names, x[b])), dict(zip(names, y[b])))[stat]
            assert rows[b] == pytest.approx(want, rel=1e-12, abs=1e-12, nan_ok=True), (stat, b)


# -- precision-weighted aggregation ---------------------------------------------------------------
def test_precision_weights_and_the_weighted_delta_by_hand():
    from facebench.evaluate.significance import TauDraws

    rng = np.random.default_rng(5)
    # target 0: tau_w noisy (sd 0.4); target 1: precise (sd 0.1): weights 1/0.16 : 1/0.01
    draws = []
    for t, (sd, a, b) in enumerate([(0.4, 0.2, 0.6), (0.1, 0.8, 0.3)]):
        boot = np.column_stack([a + sd * rng.standard_normal(2000), b + sd * rng.standard_normal(2000)])
        draws.append(TauDraws(("a", "b"), np.array([a, b]), boot, f"t{t}"))
    c = compare(draws)
    v = [np.mean(np.var(d.boot, axis=0, ddof=1)) for d in draws]
    w = np.array([1 / v[0], 1 / v[1]]) / (1 / v[0] + 1 / v[1])
    assert c.extra["weights"] == pytest.approx({"t0": w[0], "t1": w[1]})
    assert w[1] > 0.9  # the precise target carries the verdict
    assert c.mean_tau_w["a"] == pytest.approx(w[0] * 0.2 + w[1] * 0.8)
    assert c.pair("a", "b").delta == pytest.approx(w[0] * (0.2 - 0.6) + w[1] * (0.8 - 0.3))
    equal = compare(draws, weighting="equal")
    assert equal.mean_tau_w["a"] == pytest.approx(0.5)


# -- stability over the zoo -----------------------------------------------------------------------
def test_zoo_stability_is_the_spread_over_leave_two_out_subsets_by_brute_force():
    from scipy import stats

    from facebench.evaluate.stability import subsets, zoo_stability

    rng = np.random.default_rng(4)
    x, y = rng.normal(size=7), rng.normal(size=7)
    taus = [stats.weightedtau(np.delete(x, pair), np.delete(y, pair)).statistic
            for pair in itertools.combinations(range(7), 2)]
    st = zoo_stability(x, y)
    assert st.n_subsets == 21 and subsets(7).shape == (21, 5)
    assert st.sd == pytest.approx(np.std(taus, ddof=1), rel=1e-12)
    assert (st.low, st.high) == pytest.approx((min(taus), max(taus)), rel=1e-12)
    big = subsets(30, max_subsets=50, seed=1)
    assert big.shape == (50, 28) and len({tuple(r) for r in big}) == 50


# -- end to end: a task plugin from outside the repository -----------------------------------------
KNOWN_QUALITY_PLUGIN = '''
"""A task whose models have a known quality on each target, a metric that reads it and one that knows nothing."""
import zlib

import numpy as np

from facebench import hookimpl
from facebench.bundle import FeatureBundle
from facebench.metrics.base import Metric
from facebench.tasks.base import DatasetSpec, FinetuneResult, ModelSpec, Task, Zoo

TARGETS = [f"t{i}" for i in range(8)]


def _rng(*parts):
    return np.random.default_rng(zlib.crc32("/".join(map(str, parts)).encode()))


def quality(model, target):
    """The model's true fine-tuned accuracy on the target: its own level plus a target-specific part."""
    return 0.6 + 0.02 * model.options["level"] + 0.03 * _rng(model.name, target).standard_normal()


class KnownTask(Task):
    name = "known"
    summary = "models of known quality"
    ground_truth = ("accuracy",)

    def validate(self, benchmark, ctx):
        pass

    def pretrain(self, model, ctx):
        pass

    def extract(self, model, dataset, ctx):
        rng = _rng("x", model.name, dataset)
        y = np.repeat(np.arange(3), 20)
        x = rng.normal(size=(60, 5)) + np.eye(3, 5)[y]
        return FeatureBundle.from_arrays(x, y, rng.dirichlet(np.ones(4), size=60), name=model.name,
                                         meta={"quality": quality(model, dataset)})

    def finetune(self, model, dataset, seed, hparams, ctx):
        noise = 0.005 * _rng("seed", model.name, dataset, seed).standard_normal()
        return FinetuneResult({"accuracy": quality(model, dataset) + noise})


class Knowing(Metric):
    name = "knowing"
    summary = "reads the model's true quality"

    def compute(self, bundle):
        return float(bundle.meta["quality"])


class Unknowing(Metric):
    name = "unknowing"
    summary = "a random score that knows nothing"

    def compute(self, bundle):
        return float(_rng("random", bundle.name, bundle.meta["quality"]).standard_normal())


@hookimpl
def facebench_tasks():
    return [KnownTask()]


@hookimpl
def facebench_zoos():
    models = tuple(ModelSpec(f"k{i:02d}", "known", options={"level": i}) for i in range(12))
    return [Zoo("known-zoo", "12 models of known quality", "known", models, offline=True)]


@hookimpl
def facebench_datasets():
    return [DatasetSpec(t, "a target", "known", load=lambda split, ctx, **p: None, offline=True) for t in TARGETS]


@hookimpl
def facebench_metrics():
    return [Knowing, Unknowing]
'''


def test_a_task_plugin_with_known_quality_separates_the_knowing_metric_from_the_unknowing(tmp_path, monkeypatch):
    """An external plugin (written here, outside the repository), run with every registered metric:
    the board must call the metric that knows the models' quality and the one that knows nothing different."""
    import json

    import yaml

    from facebench.config import load_config
    from facebench.leaderboard import build_leaderboards
    from facebench.plugins import reset_plugins_cache
    from facebench.runner import RunOptions, run_benchmarks

    (tmp_path / "known_quality_plugin.py").write_text(KNOWN_QUALITY_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("FACEBENCH_PLUGINS", raising=False)
    reset_plugins_cache()
    raw = {"name": "known", "plugins": ["known_quality_plugin"], "metrics": "all",
           "store": str(tmp_path / "r.sqlite"), "cache_dir": str(tmp_path / "cache"),
           "scoring": {"isolation": "in-process"},
           "benchmarks": [{"task": "known", "zoo": "known-zoo", "targets": [f"t{i}" for i in range(8)],
                           "seeds": [0, 1, 2]}]}
    (tmp_path / "known.yaml").write_text(yaml.safe_dump(raw))
    cfg = load_config(tmp_path / "known.yaml")
    summary = run_benchmarks(cfg, RunOptions(quiet=True, device="cpu"))
    assert not summary.failed
    build_leaderboards(cfg.store, tmp_path / "out", date="2026-12-04", figures=False, n_boot=1000,
                       sensitivity=False)
    doc = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    comp = doc["significance"]
    assert len(comp["metrics"]) >= 21 + 2  # every registered metric and the plugin's two
    (pair,) = [p for p in comp["pairs"] if {p["a"], p["b"]} == {"knowing", "unknowing"}]
    assert pair["significant"], pair
    assert doc["ranking"]["overall"][0]["metric"] == "knowing"
    reset_plugins_cache()


def test_the_random_ranking_band_is_that_of_random_permutations_by_brute_force():
    from scipy import stats

    from facebench.evaluate.chance import random_ranking_band

    y = np.array([0.61, 0.7, 0.64, 0.8, 0.75, 0.69, 0.9, 0.55])
    band = random_ranking_band(y, draws=3000, seed=0)
    rng = np.random.default_rng(1)
    taus = [stats.weightedtau(rng.permutation(8), y).statistic for _ in range(3000)]
    assert abs(band.mean - np.mean(taus)) < 0.02 and abs(band.mean) < 0.05
    assert band.low == pytest.approx(np.quantile(taus, 0.025), abs=0.05)
    assert band.high == pytest.approx(np.quantile(taus, 0.975), abs=0.05)


def test_targets_needed_by_hand():
    from scipy.stats import norm

    from facebench.evaluate.significance import targets_needed

    # se 0.1 over 5 targets, delta 0.1, one pair: (z_.975 + z_.8)^2 = 7.849 -> ceil(5 * 7.849) = 40
    z = norm.ppf(0.975) + norm.ppf(0.8)
    assert targets_needed(0.1, 0.1, 5, 1) == np.ceil(5 * z**2) == 40
    # more pairs need more targets; no difference needs infinitely many
    assert targets_needed(0.1, 0.1, 5, 210) > 40 and targets_needed(0.0, 0.1, 5, 1) == float("inf")
