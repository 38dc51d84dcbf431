"""A store and its cache that move together (another folder, another machine) give byte-identical boards.

Cache files are recorded relative to the run's cache directory and found by content key
(:meth:`facebench.store.ResultsStore.resolve_file`); an older store's absolute paths are found by
content key once they no longer exist; a cache that is truly gone gives the boards' usual notes.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml

from facebench.leaderboard import build_leaderboards
from facebench.store import ResultsStore

from conftest import load_test_plugins

DATE = "2026-11-26"
N_BOOT = 40
FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.html")
STORE = Path(".facebench") / "results.sqlite"  # the default layout: .facebench/results.sqlite + .facebench/cache
BENCH = "toy/toy-zoo"


def _boards(store: Path, out: Path) -> dict[str, str]:
    """The four board files, the store's own path (printed in the header) normalised."""
    build_leaderboards(store, out, date=DATE, n_boot=N_BOOT, figures=False)
    texts = {name: (out / name).read_text() for name in FILES}
    assert all(str(store) in t for name, t in texts.items() if name != "leaderboard.csv"), "the store path moved?"
    return {name: t.replace(str(store), "<store>") for name, t in texts.items()}


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    """A toy run (predictions on, face and logme) in a project folder, its boards, then the whole folder moved."""
    from facebench.config import load_config
    from facebench.plugins import reset_plugins_cache
    from facebench.runner import RunOptions, run_benchmarks

    root = tmp_path_factory.mktemp("portable")
    project = root / "project"
    project.mkdir()
    raw = {"name": "toy", "metrics": ["face", "logme"], "store": str(STORE), "cache_dir": ".facebench/cache",
           "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta", "tb"], "seeds": [0, 1, 2],
                           "options": {"predictions": 80}}]}
    (project / "toy.yaml").write_text(yaml.safe_dump(raw))
    with pytest.MonkeyPatch.context() as mp:
        load_test_plugins(mp, "toytask.plugin")
        mp.chdir(project)  # the config's paths are relative to the working directory
        try:
            cfg = load_config(project / "toy.yaml")
            assert not run_benchmarks(cfg, RunOptions(quiet=True), (project / "toy.yaml").read_text()).failed
        finally:
            reset_plugins_cache()
    before = _boards(project / STORE, root / "boards-before")
    elsewhere = root / "another" / "place"
    elsewhere.mkdir(parents=True)
    shutil.move(str(project), str(elsewhere / "moved-project"))
    assert not project.exists()
    return {"root": root, "before": before, "project": elsewhere / "moved-project", "old": project}


def _copy(moved: dict, name: str) -> Path:
    """A copy of the moved project (each test changes its own)."""
    dst = moved["root"] / name
    shutil.copytree(moved["project"], dst)
    return dst


def test_the_store_records_paths_relative_to_its_cache(moved):
    db = sqlite3.connect(moved["project"] / STORE)
    try:
        features = db.execute("SELECT path, content_key FROM features").fetchall()
        predictions = db.execute("SELECT path, content_key FROM predictions").fetchall()
        dirs = db.execute("SELECT path FROM cache_dirs").fetchall()
    finally:
        db.close()
    assert len(features) == 4 * 2 and len(predictions) == 4 * 2 * 3
    assert all(path == f"features/{key}.npz" for path, key in features)
    assert all(path == f"predictions/{key}.npz" for path, key in predictions)
    assert dirs == [("cache",)]  # relative to the store's folder: the cache lies under it


def test_a_moved_store_and_cache_give_byte_identical_boards(moved):
    after = _boards(moved["project"] / STORE, moved["root"] / "boards-after")
    for name in FILES:
        assert after[name] == moved["before"][name], name
    doc = json.loads(after["leaderboard.json"])
    bench = doc["benchmarks"][0]
    assert bench["reliability"]["ta"]["accuracy"]["n_test"] == 80  # the predictions were read, not skipped
    assert not bench.get("reliability_notes")
    tables = [t for t in doc["sensitivity"] if t["metric"] == "face"]
    assert tables and tables[0]["targets"] == ["ta", "tb"] and not tables[0]["skipped"]  # features were read


def test_recorded_files_resolve_under_the_moved_cache(moved):
    store = ResultsStore(moved["project"] / STORE)
    try:
        cache = (moved["project"] / ".facebench" / "cache").resolve()
        files = store.feature_files(BENCH, "ta")
        assert files and all(Path(p) == cache / "features" / f"{key}.npz" for p, key in files.values())
        preds = store.prediction_paths(BENCH, "ta")
        assert preds and all(Path(p).parent == cache / "predictions" and Path(p).is_file() for p in preds.values())
        # an absolute path that exists is used as is; a kind that is not a cached file is refused
        some = next(iter(files.values()))[0]
        assert store.resolve_file(some, "not-its-key", "features") == Path(some)
        with pytest.raises(ValueError, match="kind"):
            store.resolve_file("features/x.npz", "x", "models")
        # nothing there: the recorded path (a relative one under the cache), never another file
        assert store.resolve_file("features/none.npz", "../../etc", "features") == cache / "features" / "none.npz"
    finally:
        store.close()


def test_scores_and_a_rerun_work_on_the_moved_store(moved, monkeypatch):
    """``facebench score --store`` reads the moved features; a rerun there finds every job done (keys unchanged)."""
    from facebench.config import load_config
    from facebench.plugins import get_plugins
    from facebench.runner import RunOptions, run_benchmarks
    from facebench.runner.only_score import score_store

    project = _copy(moved, "rerun")
    toy = load_test_plugins(monkeypatch, "toytask.plugin")
    store = ResultsStore(project / STORE)
    try:
        stored = {t: store.scores(BENCH, t, "logme") for t in ("ta", "tb")}
    finally:
        store.close()
    out = score_store(project / STORE, ["logme"], get_plugins().metrics)
    assert not out.errors and not out.skipped
    assert {t: out.results[f"{BENCH}:{t}"]["logme"]["scores"] for t in ("ta", "tb")} == stored
    monkeypatch.chdir(project)
    again = run_benchmarks(load_config(project / "toy.yaml"), RunOptions(quiet=True))
    assert not again.failed and again.done == 0 and again.skipped > 0
    assert toy.CALLS == []


def test_an_old_store_with_absolute_paths_finds_its_files_by_content_key(moved):
    """A store written before paths were relative: absolute paths into a folder that no longer exists."""
    project = _copy(moved, "old-store")
    gone = moved["old"] / ".facebench" / "cache"
    assert not gone.exists()
    db = sqlite3.connect(project / STORE)
    with db:
        db.execute("UPDATE features SET path = ? || '/features/' || content_key || '.npz'", (str(gone),))
        db.execute("UPDATE predictions SET path = ? || '/predictions/' || content_key || '.npz'", (str(gone),))
        db.execute("DELETE FROM cache_dirs")  # an old store did not record its cache directory
    db.close()
    after = _boards(project / STORE, moved["root"] / "boards-old")
    for name in FILES:
        assert after[name] == moved["before"][name], name


def test_a_store_without_its_cache_gives_the_usual_notes(moved):
    project = _copy(moved, "no-cache")
    shutil.rmtree(project / ".facebench" / "cache")
    out = moved["root"] / "boards-no-cache"
    build_leaderboards(project / STORE, out, date=DATE, n_boot=N_BOOT, figures=False)
    doc = json.loads((out / "leaderboard.json").read_text())
    bench = doc["benchmarks"][0]
    assert bench["reliability"]["ta"]["accuracy"]["n_test"] == 0
    assert any("unreadable or failing their checksum; reliability over seeds only" in n
               for n in bench["reliability_notes"])
    assert "reliability over seeds only" in (out / "leaderboard.md").read_text()
    face = [t for t in doc["sensitivity"] if t["metric"] == "face"]
    assert face and face[0]["targets"] == [] and "feature files missing" in face[0]["skipped"]["ta"]
