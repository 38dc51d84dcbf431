"""A catalogue of bad inputs at every entry point, each tried as a new user would (the CLI).

Config files, plugin modules, results stores, feature bundles, ground-truth CSVs and each task's
datasets. Every case must give one line on stderr naming the input and the problem, no traceback,
a non-zero exit status, and leave the results store byte for byte as it was.
"""
from __future__ import annotations

import hashlib
import shutil
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from facebench.cli import main
from facebench.plugins import reset_plugins_cache

HERE = Path(__file__).parent
TOY_BENCH = {"task": "toy", "zoo": "toy-zoo", "targets": ["ta"], "seeds": [0]}


@pytest.fixture(scope="module")
def good_store(tmp_path_factory):
    """A store with one finished toy run (the store every run case points at)."""
    from facebench.config import parse_config
    from facebench.runner import RunOptions, run_benchmarks

    root = tmp_path_factory.mktemp("good")
    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(str(HERE))
    mp.setenv("FACEBENCH_PLUGINS", "toytask.plugin")
    reset_plugins_cache()
    cfg = parse_config({"metrics": ["face", "leep"], "store": str(root / "s.sqlite"), "cache_dir": str(root / "cache"),
                        "scoring": {"isolation": "in-process"}, "benchmarks": [TOY_BENCH]})
    run_benchmarks(cfg, RunOptions(quiet=True))
    mp.undo()
    reset_plugins_cache()
    return root / "s.sqlite"


@pytest.fixture
def env(tmp_path, monkeypatch, good_store):
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.syspath_prepend(str(tmp_path))  # plugin modules written by a case
    monkeypatch.setenv("FACEBENCH_PLUGINS", "toytask.plugin")
    monkeypatch.chdir(tmp_path)
    reset_plugins_cache()
    store = tmp_path / "s.sqlite"
    shutil.copy(good_store, store)
    yield tmp_path, store
    reset_plugins_cache()
    for name in [n for n in sys.modules if n.startswith("fbbad_")]:
        del sys.modules[name]


def config(tmp: Path, store: Path, name: str = "c.yaml", **changes) -> str:
    raw = {"name": "bad", "store": str(store), "cache_dir": str(tmp / "cache"), "metrics": ["face", "leep"],
           "benchmarks": [dict(TOY_BENCH)]}
    bench = changes.pop("bench", None)
    if bench is not None:
        raw["benchmarks"] = [{**TOY_BENCH, **bench}]
    raw.update(changes)
    (tmp / name).write_text(yaml.safe_dump(raw))
    return name


def run_args(name: str) -> list[str]:
    return ["run", name, "--quiet", "--no-leaderboard", "--device", "cpu"]


def bundle_dir(tmp: Path, **arrays_per_model) -> str:
    d = tmp / "bundles"
    d.mkdir()
    rng = np.random.default_rng(0)
    for model, arrays in arrays_per_model.items():
        if isinstance(arrays, bytes):
            (d / f"{model}.npz").write_bytes(arrays)
        else:
            np.savez(d / f"{model}.npz", **arrays)
    good = {"features": rng.normal(size=(40, 4)), "labels": np.repeat(np.arange(4), 10)}
    np.savez(d / "good.npz", **good)
    return str(d)


def plugin(tmp: Path, name: str, text: str) -> str:
    (tmp / f"{name}.py").write_text(text)
    return name


METRIC_PLUGIN = """
from facebench import hookimpl
from facebench.metrics.base import Metric
class Dup(Metric):
    '''A metric that takes a built-in's name.'''
    name = {name!r}
    summary = "dup"
    def compute(self, bundle):
        return 0.0
@hookimpl
def facebench_metrics():
    {body}
"""


def newer_store(store: Path) -> None:
    db = sqlite3.connect(store)
    db.execute("PRAGMA user_version=99")
    db.close()


def image_folder(tmp: Path, classes: int) -> str:
    from PIL import Image

    root = tmp / "images"
    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (8, 8), (40 * c, 10 * i, 0)).save(root / f"class{c}" / f"{i}.png")
    return str(root)


def _cases():
    """(id, setup(tmp, store) -> argv, text the one line must contain)."""
    c = config
    yield "config-unknown-key", lambda t, s: run_args(c(t, s, metric=["face"])), "unknown key(s) metric; did you mean metrics"
    yield "config-unknown-bench-key", lambda t, s: run_args(c(t, s, bench={"seed": [0]})), "did you mean seeds"
    yield "config-seeds-type", lambda t, s: run_args(c(t, s, bench={"seeds": "zero"})), "'seeds' must be a non-empty list of integers"
    yield "config-negative-seed", lambda t, s: run_args(c(t, s, bench={"seeds": [0, -3]})), "'seeds' must be >= 0"
    yield "config-duplicate-seeds", lambda t, s: run_args(c(t, s, bench={"seeds": [1, 1]})), "seed(s) [1] listed twice"
    yield "config-empty-benchmarks", lambda t, s: run_args(c(t, s, benchmarks=[])), "'benchmarks' is empty"
    yield "config-benchmarks-type", lambda t, s: run_args(c(t, s, benchmarks={"task": "toy"})), "'benchmarks' must be a list"
    yield "config-empty-targets", lambda t, s: run_args(c(t, s, bench={"targets": []})), "'targets' is empty"
    yield "config-empty-zoo", lambda t, s: run_args(c(t, s, bench={"zoo": ""})), "'zoo' must be a non-empty name"
    yield "config-null-task", lambda t, s: run_args(c(t, s, bench={"task": None})), "'task' must be a non-empty name"
    yield "config-unknown-task", lambda t, s: run_args(c(t, s, bench={"task": "tyo"})), "unknown task 'tyo'"
    yield "config-unknown-zoo", lambda t, s: run_args(c(t, s, bench={"zoo": "toy-zo"})), "unknown zoo 'toy-zo'"
    yield "config-zoo-of-other-task", lambda t, s: run_args(c(t, s, bench={"zoo": "embedded-text"})), "is a text zoo, not toy"
    yield "config-unknown-target", lambda t, s: run_args(c(t, s, bench={"targets": ["tc"]})), "'tc'"
    yield "config-unknown-metric", lambda t, s: run_args(c(t, s, metrics=["leeep"])), "did you mean leep"
    yield "config-metric-param", lambda t, s: run_args(c(t, s, metrics={"face": {"no_such_param": 1}})), "no_such_param"
    yield "config-metric-params-type", lambda t, s: run_args(c(t, s, metrics={"face": 3})), "metrics.face: parameters must be a mapping"
    yield "config-metrics-type", lambda t, s: run_args(c(t, s, metrics=5)), "'metrics' must be"
    yield "config-finetune-type", lambda t, s: run_args(c(t, s, bench={"finetune": [1]})), "'finetune' must be a mapping"
    yield "config-options-type", lambda t, s: run_args(c(t, s, bench={"options": "big"})), "'options' must be a mapping"
    yield "config-download-type", lambda t, s: run_args(c(t, s, download="yes")), "'download' must be true or false"
    yield "config-dataset-without-type", lambda t, s: run_args(c(t, s, datasets={"mine": {"root": "x"}})), "datasets.mine: needs a 'type'"
    yield "config-dataset-unknown-type", lambda t, s: run_args(c(t, s, datasets={"mine": {"type": "imagefolder"}})), "unknown dataset type 'imagefolder'"
    yield "config-scoring-limit", lambda t, s: run_args(c(t, s, scoring={"time_limit_s": 0})), "scoring.time_limit_s must be a positive number"

    def cycle(t, s):
        (t / "a.yaml").write_text("include: [b.yaml]\nbenchmarks: []\n")
        (t / "b.yaml").write_text("include: [a.yaml]\nbenchmarks: []\n")
        return run_args("a.yaml")

    yield "config-include-cycle", cycle, "include cycle"

    def missing_include(t, s):
        (t / "a.yaml").write_text("include: [nowhere.yaml]\nbenchmarks: []\n")
        return run_args("a.yaml")

    yield "config-include-missing", missing_include, "included config 'nowhere.yaml' not found"

    def bad_yaml(t, s):
        (t / "a.yaml").write_text("benchmarks:\n  - task: toy\n   zoo: [unclosed\n")
        return run_args("a.yaml")

    yield "config-unparsable-yaml", bad_yaml, "a.yaml: invalid YAML (line 3, column 4: expected <block end>"

    def not_mapping(t, s):
        (t / "a.yaml").write_text("- just\n- a list\n")
        return run_args("a.yaml")

    yield "config-not-a-mapping", not_mapping, "a config must be a YAML mapping"
    yield "config-missing-file", lambda t, s: run_args("nowhere.yaml"), "nowhere.yaml: config not found"

    # plugin modules
    yield "plugin-missing-module", lambda t, s: run_args(c(t, s, plugins=["fbbad_nowhere"])), "cannot import plugin module 'fbbad_nowhere'"
    yield "plugin-syntax-error", lambda t, s: run_args(c(t, s, plugins=[plugin(t, "fbbad_syntax", "def f(:\n")])), \
        "cannot import plugin module 'fbbad_syntax': SyntaxError"
    yield "plugin-raises-at-import", lambda t, s: run_args(c(t, s, plugins=[plugin(t, "fbbad_raise", "raise RuntimeError('no GPU here')\n")])), \
        "cannot import plugin module 'fbbad_raise': RuntimeError: no GPU here"
    yield "plugin-duplicate-name", lambda t, s: run_args(c(t, s, plugins=[plugin(t, "fbbad_dup", METRIC_PLUGIN.format(name="leep", body="return [Dup]"))])), \
        "duplicate metric name 'leep'"
    yield "plugin-hook-raises", lambda t, s: run_args(c(t, s, plugins=[plugin(t, "fbbad_hook", METRIC_PLUGIN.format(name="x", body="raise ValueError('bad hook')"))])), \
        "plugin 'fbbad_hook': hook facebench_metrics raised ValueError: bad hook"
    yield "plugin-misspelt-hook", lambda t, s: run_args(c(t, s, plugins=[plugin(t, "fbbad_hookname", "from facebench import hookimpl\n@hookimpl\ndef facebench_metric():\n    return []\n")])), \
        "fbbad_hookname"

    # results stores
    def not_sqlite(t, s):
        s.write_bytes(b"not a database\n" * 50)
        return run_args(c(t, s))

    yield "store-not-sqlite-run", not_sqlite, "not a facebench results store"

    def not_sqlite_board(t, s):
        s.write_bytes(b"not a database\n" * 50)
        return ["leaderboard", "--store", str(s), "--out", str(t / "boards")]

    yield "store-not-sqlite-leaderboard", not_sqlite_board, "not a facebench results store"

    def newer(t, s):
        newer_store(s)
        return run_args(c(t, s))

    yield "store-newer-schema-run", newer, "written by a newer facebench (store schema 99"

    def newer_board(t, s):
        newer_store(s)
        return ["leaderboard", "--store", str(s), "--out", str(t / "boards")]

    yield "store-newer-schema-leaderboard", newer_board, "written by a newer facebench"

    def newer_score(t, s):
        newer_store(s)
        return ["score", "--store", str(s), "-m", "leep"]

    yield "store-newer-schema-score", newer_score, "written by a newer facebench"
    yield "store-is-a-directory", lambda t, s: run_args(c(t, t)), "is a directory, not a results store"

    # feature bundles (facebench score DIR)
    yield "bundle-not-npz", lambda t, s: ["score", bundle_dir(t, m1=b"garbage" * 10), "-m", "hscore"], "m1.npz"
    yield "bundle-no-labels", lambda t, s: ["score", bundle_dir(t, m1={"features": np.ones((5, 2))}), "-m", "hscore"], "m1.npz: missing array(s) labels"
    yield "bundle-nan-features", lambda t, s: ["score", bundle_dir(t, m1={"features": np.full((8, 2), np.nan), "labels": np.arange(8) % 2}), "-m", "hscore"], "m1"
    yield "bundle-length-mismatch", lambda t, s: ["score", bundle_dir(t, m1={"features": np.ones((8, 2)), "labels": np.arange(5)}), "-m", "hscore"], "m1.npz"
    yield "bundle-dir-missing", lambda t, s: ["score", str(t / "nowhere"), "-m", "hscore"], "no such directory"

    def empty_dir(t, s):
        (t / "empty").mkdir()
        return ["score", str(t / "empty"), "-m", "hscore"]

    yield "bundle-dir-empty", empty_dir, "empty directory"

    # ground-truth CSVs
    def csv(text):
        def setup(t, s):
            d = bundle_dir(t)
            (t / "gt.csv").write_text(text)
            return ["score", d, "-m", "hscore", "--ground-truth", str(t / "gt.csv")]
        return setup

    yield "truth-csv-header", csv("name;acc\ngood;0.5\n"), "gt.csv: ground truth must be a CSV with header 'model,accuracy'"
    yield "truth-csv-not-a-number", csv("model,accuracy\ngood,high\n"), "gt.csv:2: accuracy 'high' of model 'good' is not a number"
    yield "truth-csv-nan", csv("model,accuracy\ngood,nan\n"), "gt.csv:2: accuracy of model 'good' is not finite"
    yield "truth-csv-duplicate", csv("model,accuracy\ngood,0.5\ngood,0.6\n"), "gt.csv:3: model 'good' appears twice"
    yield "truth-csv-missing-model", csv("model,accuracy\nother,0.5\n"), "gt.csv: no accuracy for model(s) good"
    yield "truth-csv-empty", csv("model,accuracy\n"), "gt.csv: no ground-truth rows"

    # each task's datasets
    def image_folder_case(classes=None, root=None):
        def setup(t, s):
            r = root if root is not None else image_folder(t, classes)
            return run_args(c(t, s, datasets={"mine": {"type": "image-folder", "root": r}},
                              bench={"task": "classification", "zoo": "embedded-classification", "targets": ["mine"]}))
        return setup

    yield "dataset-image-folder-missing-root", image_folder_case(root="/nonexistent/images"), "/nonexistent/images"
    yield "dataset-image-folder-one-class", image_folder_case(classes=1), "class"
    yield "dataset-mmseg-folder-missing-root", lambda t, s: run_args(c(
        t, s, datasets={"seg": {"type": "mmseg-folder", "root": "/nonexistent/seg", "classes": ["a", "b"]}},
        bench={"task": "segmentation", "zoo": "embedded-segmentation", "targets": ["seg"]})), "/nonexistent/seg"

    def clue(t, s):
        pytest.importorskip("cn_clip")  # the text zoo's tokenizer vocabulary (validated before the datasets)
        (t / "train.json").write_text('{"sentence": "ok", "label": "1"}\nnot json at all\n')
        (t / "test.json").write_text('{"sentence": "ok", "label": "1"}\n')
        return run_args(c(t, s, datasets={"news": {"type": "clue-json", "train": str(t / "train.json"),
                                                   "test": str(t / "test.json")}},
                          bench={"task": "text", "zoo": "embedded-text", "targets": ["news"]}))

    yield "dataset-clue-json-bad-line", clue, "'news'"
    yield "dataset-of-another-task", lambda t, s: run_args(c(t, s, bench={"targets": ["digits"]})), "digits"


CASES = list(_cases())


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 30
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("setup, needle", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(env, capsys, setup, needle):
    tmp, store = env
    argv = setup(tmp, store)
    before = hashlib.sha256(store.read_bytes()).hexdigest() if store.is_file() else None
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert exit_info.value.code not in (0, None), err
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert needle in lines[0], err
    if before is not None:
        assert hashlib.sha256(store.read_bytes()).hexdigest() == before
