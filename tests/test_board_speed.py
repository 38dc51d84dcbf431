"""The board's faster paths give what the straightforward ones give (benchmarks/board_speed.md).

* :mod:`facebench.evaluate.rowstats`: the statistics computed together from shared :class:`Rows`
  equal the one-statistic functions bit for bit (whatever the inputs' memory layout), and scipy's
  statistics computed row by row in a loop;
* the bootstrap intervals (the ground truth's resamples prepared once per target) equal a loop of
  scipy over the resamples;
* a scatter grid drawn on reused axes, titles pinned, has the pixels of one drawn on new axes with
  the titles placed by matplotlib;
* the sensitivity tables computed in the background for all the store's metrics, kept per benchmark,
  equal those computed per benchmark;
* :class:`facebench.leaderboard.parallel.Background` (its queue, its children's maps) and the figures
  started in the background;
* importing the leaderboard does not import matplotlib.
"""
from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest
from PIL import Image
from scipy import stats

from facebench.evaluate import rowstats
from facebench.evaluate.rowstats import ROW_STATISTICS, Rows, row_statistics
from facebench.leaderboard import plots
from facebench.leaderboard.bootstrap import bootstrap_indices, bootstrap_intervals
from facebench.leaderboard.parallel import Background
from facebench.leaderboard.tables import Cell, TargetData, TruthSpread


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.int64)  # NaN payloads and signed zeros too


def _cases(seed: int = 0):
    """(x, y) pairs of rows: continuous, tied, constant rows, resampled, large (numpy then reuses
    temporaries in place), broadcast and Fortran-ordered."""
    rng = np.random.default_rng(seed)
    yield rng.normal(size=(40, 9)), rng.normal(size=(40, 9))
    yield rng.integers(0, 3, size=(60, 7)).astype(float), rng.integers(0, 3, size=(60, 7)).astype(float)
    x = 9.0 + rng.integers(-2, 3, size=(30, 6)) * np.spacing(9.0)  # ties within float64 rounding
    y = rng.random((30, 6))
    y[0] = 0.0
    yield x, y
    base_x, base_y = rng.normal(size=11), rng.random(11)
    idx = np.sort(rng.integers(0, 11, size=(2500, 11)), axis=1)  # bootstrap-like, large
    yield base_x[idx], base_y[idx]
    dev = rng.normal(size=9)
    noise = rng.normal(size=(2000, 9))
    mu = np.broadcast_to(0.7 * dev, (2000, 9))  # as the noise ceiling's simulation passes it
    yield mu, mu + noise
    yield np.asfortranarray(rng.normal(size=(1500, 8))), rng.normal(size=(1500, 8))[:, ::-1]


# The one-statistic functions as they were before the statistics shared their work (each snaps its
# inputs and tests them for constancy itself): the board's numbers must not move by a bit.
def _snapped(x, y):
    from facebench.resolution import snap_ties

    return snap_ties(np.atleast_2d(x).astype(float), axis=1), snap_ties(np.atleast_2d(y).astype(float), axis=1)


def _const(v):
    from facebench.resolution import is_unresolved

    return is_unresolved(v, axis=1)


def _ref_signs(v):
    return np.sign(v[:, :, None] - v[:, None, :])


def _ref_tau(sx, sy, w):
    big_w = np.ones_like(sx) if w is None else w[:, :, None] + w[:, None, :]
    num = (big_w * sx * sy).sum(axis=(1, 2))
    den = np.sqrt((big_w * np.abs(sx)).sum(axis=(1, 2))) * np.sqrt((big_w * np.abs(sy)).sum(axis=(1, 2)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(num / den, -1.0, 1.0)


def _ref_weights(primary, secondary):
    b, n = primary.shape
    perm = np.lexsort((secondary, primary), axis=-1)[:, ::-1]
    rank = np.empty_like(perm)
    np.put_along_axis(rank, perm, np.broadcast_to(np.arange(n), (b, n)), axis=1)
    return 1.0 / (rank + 1.0)


def _ref_tau_w(x, y):
    x, y = _snapped(x, y)
    sx, sy = _ref_signs(x), _ref_signs(y)
    tau = 0.5 * (_ref_tau(sx, sy, _ref_weights(x, y)) + _ref_tau(sx, sy, _ref_weights(y, x)))
    return np.where(_const(x) | _const(y), np.nan, tau)


def _ref_kendall(x, y):
    x, y = _snapped(x, y)
    return np.where(_const(x) | _const(y), np.nan, _ref_tau(_ref_signs(x), _ref_signs(y), None))


def _ref_pearson(x, y):
    x, y = _snapped(x, y)
    xc, yc = x - x.mean(axis=1, keepdims=True), y - y.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=1) / np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    return np.where(_const(x) | _const(y), np.nan, np.clip(r, -1.0, 1.0))


def _ref_spearman(x, y):
    from scipy.stats import rankdata

    x, y = _snapped(x, y)
    return np.where(_const(x) | _const(y), np.nan, _ref_pearson(rankdata(x, axis=1), rankdata(y, axis=1)))


def _ref_top_pick(x, y):
    tied = x == x.max(axis=1, keepdims=True)
    return (y * tied).sum(axis=1) / tied.sum(axis=1)


def _ref_top1(x, y):
    x, y = _snapped(x, y)
    best = y.max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((best != 0) & ~_const(x), _ref_top_pick(x, y) / best, np.nan)


def _ref_regret1(x, y):
    x, y = _snapped(x, y)
    return np.where(~_const(x), y.max(axis=1) - _ref_top_pick(x, y), np.nan)


def _ref_top3(x, y, k=3):
    x, y = _snapped(x, y)
    above = (x[:, None, :] > x[:, :, None]).sum(axis=2)
    level = (x[:, None, :] == x[:, :, None]).sum(axis=2)
    p_in = np.clip((k - above) / level, 0.0, 1.0)
    hit = np.where(y == y.max(axis=1, keepdims=True), p_in, 0.0).max(axis=1)
    return np.where(~_const(x) & ~_const(y), hit, np.nan)


REFERENCE = {"tau_w": _ref_tau_w, "pearson": _ref_pearson, "spearman": _ref_spearman, "kendall": _ref_kendall,
             "top1_rel": _ref_top1, "regret1": _ref_regret1, "top3_hit": _ref_top3}


@pytest.mark.parametrize("case", range(6))
def test_shared_row_statistics_equal_the_one_statistic_functions_of_before_bit_for_bit(case):
    x, y = list(_cases())[case]
    together = row_statistics(x, y)
    shared_y = Rows(y)
    for stat, fn in ROW_STATISTICS.items():
        before = REFERENCE[stat](x, y)
        assert np.array_equal(_bits(before), _bits(fn(x, y))), stat
        assert np.array_equal(_bits(before), _bits(together[stat])), stat
        assert np.array_equal(_bits(before), _bits(row_statistics(Rows(x), shared_y, (stat,))[stat])), stat


def _scipy_row(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The statistics of one row the plain way: scipy, and the decision statistics by their definition."""
    if np.ptp(x) == 0:
        return dict.fromkeys(ROW_STATISTICS, math.nan)
    top = y[x == x.max()].mean()
    out = {"top1_rel": top / y.max() if y.max() != 0 else math.nan, "regret1": y.max() - top}
    if np.ptp(y) == 0:
        return {**dict.fromkeys(ROW_STATISTICS, math.nan), **out}
    above = np.array([(x > v).sum() for v in x])
    level = np.array([(x == v).sum() for v in x])
    out["top3_hit"] = float(np.max(np.where(y == y.max(), np.clip((3 - above) / level, 0, 1), 0)))
    out["tau_w"] = stats.weightedtau(x, y).statistic
    out["kendall"] = stats.kendalltau(x, y).statistic
    out["pearson"] = stats.pearsonr(x, y).statistic
    out["spearman"] = stats.spearmanr(x, y).statistic
    return out


def test_row_statistics_match_a_scipy_loop():
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(size=(150, 8)), 1)  # ties, and duplicated models
    y = np.round(rng.random((150, 8)), 2)
    x[:, 5] = x[:, 2]
    x[0] = 1.0  # a constant row
    y[1] = 0.5
    got = row_statistics(x, y)
    for stat in ROW_STATISTICS:
        want = [_scipy_row(a, b)[stat] for a, b in zip(x, y)]
        np.testing.assert_allclose(got[stat], want, rtol=1e-12, atol=1e-14, err_msg=stat)


def test_bootstrap_intervals_match_a_scipy_loop_over_the_resamples():
    rng = np.random.default_rng(11)
    n, n_boot, level = 9, 400, 0.9
    y = rng.random(n)
    idx = bootstrap_indices(n, n_boot, 3)
    for x in (rng.normal(size=n), rng.normal(size=n)):  # two metrics against one ground truth (its resamples reused)
        got = bootstrap_intervals(x, y, n_boot=n_boot, seed=3, level=level)
        for stat in ("tau_w", "kendall", "pearson", "spearman"):
            values = np.array([_scipy_row(x[i], y[i])[stat] if len(set(i)) >= 2 else math.nan for i in idx])
            ok = np.isfinite(values)
            low, high = np.quantile(values[ok], [(1 - level) / 2, (1 + level) / 2])
            assert got[stat].n_valid == ok.sum()
            assert got[stat].low == pytest.approx(low, rel=1e-12, abs=1e-14)
            assert got[stat].high == pytest.approx(high, rel=1e-12, abs=1e-14)
    # another ground truth of the same size is not taken for the cached one
    other = bootstrap_intervals(x, y[::-1].copy(), n_boot=n_boot, seed=3, level=level)
    assert other["tau_w"] != got["tau_w"]
    assert bootstrap_intervals(x, y, n_boot=n_boot, seed=3, level=level) == got


# -- scatter grids ---------------------------------------------------------------------------
def _target(name: str, metrics: list[str], n_models: int, *, seed: int, offset: float = 0.0,
            elsewhere: str | None = None) -> TargetData:
    """``offset``: ground truths offset + [0, 1e-5] (the y axis shows an offset); ``elsewhere``: a metric
    scored on other models only (its axes says "no scores")."""
    rng = np.random.default_rng(seed)
    models = [f"model-{i}" for i in range(n_models)]
    scale = 1e-5 if offset else 0.5
    mean = {m: offset + float(v) for m, v in zip(models, rng.random(n_models) * scale)}
    spread = {m: TruthSpread(3, v, float(rng.random()) * scale / 50, v, v) for m, v in mean.items()}
    scores = {k: {(f"other-{m}" if k == elsewhere else m): float(v) for m, v in zip(models, rng.normal(size=n_models))}
              for k in metrics}
    cells = {(k, "accuracy"): Cell({"tau_w": float(rng.random()), "pearson": float(rng.random())}, {}, n_models)
             for k in scores}
    return TargetData(name, ["accuracy"], {}, {"accuracy": mean}, {"accuracy": spread}, scores, cells, {}, {})


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def _fresh(job) -> bytes:
    """The grid drawn the plain way: new axes, titles placed by matplotlib."""
    plots._GRIDS.clear()
    try:
        return plots.scatter_grid(*job, title_clear_of_offsets=True)
    finally:
        plots._GRIDS.clear()


def test_scatter_grids_on_reused_axes_with_pinned_titles_have_the_pixels_of_the_plain_way():
    metrics = [f"metric-{i}" for i in range(7)]
    jobs = [
        (_target("a", metrics, 6, seed=1), "accuracy", metrics, "bench · a"),
        # 15 models: no labels; metric-3 has "no scores"
        (_target("b", metrics, 15, seed=2, elsewhere="metric-3"), "accuracy", metrics, "bench · b"),
        (_target("c", metrics, 5, seed=3, offset=0.95), "accuracy", metrics, "bench · c"),  # an offset on y
        (_target("d", metrics[:3], 4, seed=4), "accuracy", metrics[:3], "bench · d"),  # another layout
        (_target("e", metrics, 9, seed=5), "accuracy", metrics, "bench · e"),
    ]
    plots._GRIDS.clear()
    try:
        reused = [plots.scatter_grid(*job) for job in jobs]
    finally:
        plots._GRIDS.clear()
    for job, png in zip(jobs, reused):
        assert np.array_equal(_pixels(png), _pixels(_fresh(job))), job[3]


def test_the_scatter_grid_cases_are_what_they_say():
    metrics = [f"metric-{i}" for i in range(7)]
    plots._GRIDS.clear()
    try:
        plots.scatter_grid(_target("b", metrics, 15, seed=2, elsewhere="metric-3"), "accuracy", metrics, "b")
        axes = list(plots._GRIDS[(2, 4, 4)][1].flat)  # 2 x 4 panels, 15 models in a legend of 4 rows
        assert [t.get_text() for ax in axes for t in ax.texts] == ["no scores"]
        plots.scatter_grid(_target("c", metrics, 5, seed=3, offset=0.95), "accuracy", metrics, "c")
        axes = list(plots._GRIDS[(2, 4, 2)][1].flat)
        assert all(ax.yaxis.offsetText.get_text() for ax in axes[:7])
    finally:
        plots._GRIDS.clear()


def test_scatter_grid_names_each_model_once_in_one_colour_everywhere():
    """Each model has one colour in every panel, and the legend names it once with that colour;
    the panels share the y axis; past MAX_LABELLED_MODELS there is no legend."""
    from matplotlib.colors import to_rgba

    metrics = [f"metric-{i}" for i in range(6)]
    target = _target("d", metrics, 7, seed=4)
    plots._GRIDS.clear()
    try:
        plots.scatter_grid(target, "accuracy", metrics, "d")
        fig, axes = plots._GRIDS[(2, 4, 2)]
        (legend,) = fig.legends
        named = {t.get_text(): to_rgba(h.get_color()) for t, h in zip(legend.get_texts(), legend.legend_handles)}
        assert sorted(named) == sorted(target.truth_mean["accuracy"])  # every model, once
        assert len(set(named.values())) == 7  # told apart
        for ax, metric in zip(axes.flat, metrics):
            (points,) = [c for c in ax.collections if c.get_offsets().shape == (7, 2)]
            for (x, y), colour in zip(points.get_offsets(), points.get_facecolors()):
                model = next(m for m, v in target.scores[metric].items() if v == x)
                assert target.truth_mean["accuracy"][model] == y and tuple(colour) == named[model]
        assert len({ax.get_ylim() for ax in axes.flat[:6]}) == 1
        many = _target("e", metrics, plots.MAX_LABELLED_MODELS + 1, seed=5)
        plots.scatter_grid(many, "accuracy", metrics, "e")
        assert not plots._GRIDS[(2, 4, 0)][0].legends
    finally:
        plots._GRIDS.clear()


def test_figures_started_in_the_background_are_collected(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    metrics = ["m1", "m2"]
    targets = [_target(t, metrics, 5, seed=i) for i, t in enumerate("xyz")]
    jobs = [(plots.scatter_grid, (t, "accuracy", metrics, t.target)) for t in targets]
    want = [_pixels(_fresh(args)) for _, args in jobs]
    try:
        plots.start_figures(jobs[:2])
        plots.start_figures(jobs[2:], processes=1)
        assert [len(bg._children) for _, bg in plots._STARTED] == [2, 1]
        plots.draw_all(list(jobs))  # the same jobs: collected
        assert not plots._STARTED
        got = [plots.figure_png(plots.scatter_grid, t, "accuracy", list(metrics), t.target) for t in targets]
        assert [np.array_equal(_pixels(p), w) for p, w in zip(got, want)] == [True] * 3
    finally:
        plots.forget()
    assert not plots._READY and not plots._GRIDS
    try:
        plots.start_figures(jobs)
        # equal targets, but other objects: not the started figures (those are ended), drawn anew
        other = _target("x", metrics, 5, seed=0)
        plots.draw_all([(plots.scatter_grid, (other, "accuracy", metrics, "x"))])
        assert not plots._STARTED and len(plots._READY) == 1
        assert np.array_equal(_pixels(plots.figure_png(plots.scatter_grid, other, "accuracy", metrics, "x")), want[0])
    finally:
        plots.forget()


def test_a_figure_not_made_ready_is_drawn_when_asked_for():
    t = _target("x", ["m1"], 4, seed=0)
    job = (t, "accuracy", ["m1"], "x")
    plots.forget()
    assert np.array_equal(_pixels(plots.figure_png(plots.scatter_grid, *job)), _pixels(_fresh(job)))
    plots.forget()


def test_figures_are_told_apart_by_their_function_and_arguments():
    a, b = _target("x", ["m1"], 4, seed=0), _target("x", ["m1"], 4, seed=0)
    job = (plots.scatter_grid, (a, "accuracy", ["m1"], "x"))
    assert plots._find(job, [(plots.scatter_grid, (a, "accuracy", ["m1"], "x"))]) == 0  # equal strings and lists
    assert plots._find(job, [(plots.scatter_grid, (b, "accuracy", ["m1"], "x"))]) is None  # another target
    assert plots._find(job, [(plots.trace_plot, (a, "accuracy", ["m1"], "x"))]) is None
    assert plots._find(job, [(plots.scatter_grid, (a, "accuracy", ["m2"], "x"))]) is None
    assert plots._find(job, [(plots.scatter_grid, (a, "accuracy", ["m1"], "y")), job]) == 1


def test_importing_the_leaderboard_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, facebench.leaderboard; print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- sensitivity tables computed in the background ---------------------------------------------
def _two_benchmark_store(root):
    """face on benchmark "a" only, face-cf on "a" and "b" (two targets), real feature files."""
    from facebench.bundle import FeatureBundle
    from facebench.checksum import write_sidecar
    from facebench.plugins import get_plugins
    from facebench.store import ResultsStore

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 8)
    plugins = get_plugins()
    store = ResultsStore(root / "r.sqlite")
    store.begin_run("dig", "two", "name: two\n")
    for bench, targets, metrics in (("cls/a", ["t1"], ["face", "face-cf"]), ("cls/b", ["t1", "t2"], ["face-cf"])):
        for target in targets:
            store.add_benchmark(bench, "classification", bench[-1], target, "dig")
            bundles = {}
            for i in range(5):
                model = f"m{i}"
                x = rng.normal(size=(3, 6))[labels] * (0.4 + 0.5 * i) + rng.normal(size=(labels.size, 6))
                bundles[model] = FeatureBundle.from_arrays(x, labels, name=model)
                path = root / f"{bench[-1]}-{target}-{model}.npz"
                bundles[model].save_npz(path)
                write_sidecar(path)
                store.record_features(f"x{bench}{target}{model}", bench, target, model, "train", str(path), "ck",
                                      labels.size, 6, 0.1)
                for seed in (0, 1):
                    store.record_ground_truth(f"g{bench}{target}{model}{seed}", bench, target, model, seed,
                                              {"accuracy": 0.5 + 0.05 * i + 0.01 * rng.normal()}, 1.0)
            for name in metrics:
                metric = plugins.create_metric(name)
                raw = {m: metric.score(b) for m, b in bundles.items()}
                store.record_scores(f"s{bench}{target}{name}", bench, target, name, metric.params(), raw,
                                    {m: 0.01 for m in bundles}, {}, metric.combine(raw), [])
    store.close()
    return root / "r.sqlite"


def test_sensitivity_tables_from_the_background_are_those_of_each_benchmark(tmp_path):
    from facebench.leaderboard.cards import store_plugins
    from facebench.leaderboard.sensitivity import (board_sensitivity, configured_grids, sensitivity_tables,
                                                   start_sensitivity_tables)
    from facebench.leaderboard.tables import load_leaderboard
    from facebench.store import ResultsStore

    path = _two_benchmark_store(tmp_path)
    started = start_sensitivity_tables(path)
    store = ResultsStore(path)
    try:
        board = load_leaderboard(store, n_boot=20)
        plugins, grids = store_plugins(store), configured_grids(store)
        want = [t for b in board.benchmarks for t in sensitivity_tables(
            store, plugins, b.benchmark, [x.target for x in b.targets], b.metrics, grids)]
    finally:
        store.close()
    got = board_sensitivity(board, started)
    assert [(t.benchmark, t.metric) for t in want] == [("cls/a", "face"), ("cls/a", "face-cf"), ("cls/b", "face-cf")]
    assert [t.as_dict() for t in got] == [t.as_dict() for t in want]
    assert got[2].targets == ["t1", "t2"]


# -- Background ------------------------------------------------------------------------------
def _square(x: int) -> int:
    return x * x


def test_background_maps_in_order_here_or_in_children(monkeypatch):
    assert Background(_square, range(7)).results() == [x * x for x in range(7)]
    assert Background(_square, [3]).results() == [9]  # one child, when there are two cores
    assert Background(_square, []).results() == []
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # one core: mapped here
    assert Background(_square, range(3)).results() == [0, 1, 4]


def test_background_children_take_the_next_item_when_done(monkeypatch, tmp_path):
    import time

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    parent = os.getpid()

    def last_first(x: int) -> int:
        """Item 0 is done once every other item is (or after 10 s)."""
        if x and os.getpid() != parent:
            (tmp_path / str(x)).touch()
        deadline = time.monotonic() + 10
        while x == 0 and len(list(tmp_path.iterdir())) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        return os.getpid()

    pids = Background(last_first, range(6)).results()
    assert parent not in pids and len(set(pids)) == 2
    assert pids[0] not in pids[1:]  # the other child took every other item (dealt out: items 2 and 4 too)


def test_background_deals_out_more_items_than_it_queues(monkeypatch):
    from facebench.leaderboard import parallel

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(parallel, "QUEUED", 3)
    started = Background(_square, range(7))
    assert [indices for _, _, indices in started._children] == [[0, 2, 4, 6], [1, 3, 5]]
    assert started.results() == [x * x for x in range(7)]
    queued = Background(_square, range(3))
    assert [indices for _, _, indices in queued._children] == [None, None]
    assert queued.results() == [0, 1, 4]
    one = Background(_square, range(5), processes=1)
    assert [indices for _, _, indices in one._children] == [[0, 1, 2, 3, 4]]
    assert one.results() == [x * x for x in range(5)]


def _pid(_: int) -> int:
    return os.getpid()


def test_maps_in_a_background_child_stay_in_it_on_two_cores(monkeypatch):
    from facebench.leaderboard.parallel import fork_map

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert os.getpid() not in fork_map(_pid, range(3))  # here: on two forked workers
    (child, mapped), = Background(lambda _: (os.getpid(), fork_map(_pid, range(3))), [0]).results()
    assert mapped == [child] * 3  # in the child: one after the other (its parent uses the other core)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    (child, mapped), = Background(lambda _: (os.getpid(), fork_map(_pid, range(3))), [0]).results()
    assert child not in mapped and os.getpid() not in mapped  # 4 cores: two left, for its forked workers


def test_background_maps_here_what_a_child_failed_on():
    parent = os.getpid()

    def fails_in_children(x: int) -> tuple[int, int]:
        if os.getpid() != parent and x == 2:
            raise RuntimeError("only in a child")
        return x, os.getpid()

    got = Background(fails_in_children, range(4)).results()
    assert [x for x, _ in got] == [0, 1, 2, 3]
    assert got[2][1] == parent  # mapped here again

    def always_fails(x: int) -> int:
        raise ValueError(f"bad item {x}")

    with pytest.raises(ValueError, match="bad item"):  # raised here, with its traceback
        Background(always_fails, range(3)).results()


def test_background_maps_here_what_a_killed_child_did_not_send():
    import signal
    import time

    parent = os.getpid()

    def slow_in_children(x: int) -> int:
        if os.getpid() != parent:
            time.sleep(60)
        return -x

    started = Background(slow_in_children, range(4))
    for pid, _, _ in started._children:
        os.kill(pid, signal.SIGKILL)
    t0 = time.monotonic()
    assert started.results() == [0, -1, -2, -3]
    assert time.monotonic() - t0 < 30


def test_background_children_never_collected_are_ended():
    started = Background(_square, range(4))
    pids = [pid for pid, _, _ in started._children]
    del started  # its finalizer stops and reaps them
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_rowstats_exports():
    # the one-statistic functions keep their names (reliability, significance, stability, chance use them)
    for name in ("weighted_tau_rows", "kendall_rows", "pearson_rows", "spearman_rows", "top1_rows", "regret1_rows",
                 "top3_hit_rows"):
        assert callable(getattr(rowstats, name))
