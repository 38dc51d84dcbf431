"""Benchmark packs (facebench pack / unpack / score --pack): a finished toy benchmark in one file.

The pack reproduces the board on a "clean checkout" (the run's store and cache deleted), scores a
metric plugin it has never seen, and a pack from another version, a truncated, tampered or padded
one is refused with one line before anything is written.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import struct
import sys
import zipfile
from pathlib import Path

import pytest
from test_cli_score import run_cli
import yaml

from facebench import __version__
from facebench.config import load_config
from facebench.leaderboard import build_leaderboards
from facebench.pack import MANIFEST, STORE_MEMBER, PackError, read_manifest, unpack, verify_pack, write_pack
from facebench.runner import RunOptions, run_benchmarks
from facebench.store import ResultsStore

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from conftest import load_test_plugins  # noqa: E402

KNN_SRC = HERE.parent / "plugins" / "facebench-knn" / "src"
DATE = "2024-01-01"
BOARD = {"date": DATE, "n_boot": 20, "figures": False}




# what a pack leaves out or rewrites: where the files are, the cache directories, where jobs ran
NOT_PACKED = {"features": {"path"}, "predictions": {"path"}, "job_costs": {"pid", "host"}, "cache_dirs": "*"}


def store_contents(path) -> dict[str, list[tuple]]:
    """Every row of every table (timings included), less :data:`NOT_PACKED`."""
    db = sqlite3.connect(str(path))
    try:
        out = {}
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").fetchall():
            if NOT_PACKED.get(table) == "*":
                continue
            cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[1] not in NOT_PACKED.get(table, ())]
            out[table] = sorted(db.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(), key=repr)
        return out
    finally:
        db.close()


def tau_rows(csv_text: str, metrics=None) -> list[dict]:
    rows = [r for r in csv.DictReader(io.StringIO(csv_text)) if r["statistic"] == "tau_w"]
    return [r for r in rows if metrics is None or r["metric"] in metrics]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A finished toy benchmark (3 metrics, 2 targets, 2 seeds, test predictions), its board and its pack."""
    root = tmp_path_factory.mktemp("bench")
    with pytest.MonkeyPatch.context() as mp:
        load_test_plugins(mp, "toytask.plugin")
        raw = {"name": "toy", "metrics": ["face", "leep", "logme"], "store": str(root / "results.sqlite"),
               "cache_dir": str(root / "cache"),
               "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta", "tb"], "seeds": [0, 1],
                               "options": {"predictions": 40}}]}
        config = root / "toy.yaml"
        config.write_text(yaml.safe_dump(raw))
        cfg = load_config(config)
        summary = run_benchmarks(cfg, RunOptions(quiet=True), config.read_text())
        assert not summary.failed
        board = build_leaderboards(cfg.store, root / "board", **BOARD)
        summary = write_pack(cfg.store, root / "toy.fbpack", config_text=config.read_text())
    from facebench.plugins import reset_plugins_cache

    reset_plugins_cache()
    return {"root": root, "store": Path(cfg.store), "cache": root / "cache", "pack": root / "toy.fbpack",
            "summary": summary, "csv": board[1].read_text(), "json": json.loads(board[2].read_text()),
            "contents": store_contents(cfg.store)}


# -- a pack reproduces the benchmark ------------------------------------------------------------
def test_pack_holds_every_file_the_store_references(built):
    s = built["summary"]
    assert s.size == built["pack"].stat().st_size > 0
    assert (s.features, s.predictions, s.models, s.targets, s.metrics) == (8, 16, 4, 2, ["face", "leep", "logme"])
    manifest = verify_pack(built["pack"])
    assert manifest["facebench_version"] == __version__ and manifest["format"] == "facebench-pack"
    assert "predictions: 40" in manifest["config"] and "predictions: 40" in manifest["configs"][0]["config"]
    names = {m["name"] for m in manifest["members"]}
    assert STORE_MEMBER in names and len(names) == 1 + 8 * 3 + 16 * 2  # npz + sha256 (+ json for features)
    with zipfile.ZipFile(built["pack"]) as zf:
        assert set(zf.namelist()) == names | {MANIFEST}
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())


def test_unpack_on_a_clean_checkout_reproduces_every_tau_w(built, tmp_path, capsys, monkeypatch, toy_plugin):
    pack = tmp_path / "toy.fbpack"
    shutil.copy(built["pack"], pack)
    # the clean checkout: neither the run's store nor its cache is left
    for p in built["store"].parent.glob(built["store"].name + "*"):
        p.unlink()
    shutil.rmtree(built["cache"])
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "unpack", pack)
    assert code == 0, err
    root = (tmp_path / ".facebench" / "packs" / "toy").resolve()
    store = root / "results.sqlite"
    assert f"store: {store}" in out
    assert f"facebench score --store {store} -m NAME" in out and f"facebench leaderboard --store {store}" in out
    db = ResultsStore(store)
    try:
        paths = [p for (p, _k) in db.feature_files("toy/toy-zoo", "ta").values()]
        paths += list(db.prediction_paths("toy/toy-zoo", "tb").values())
    finally:
        db.close()
    assert paths and all(Path(p).is_file() and Path(p).is_relative_to(root) for p in paths)
    assert store_contents(store) == built["contents"]  # every row of every table, less paths and hosts
    board = build_leaderboards(store, tmp_path / "board", **BOARD)
    csv_text = board[1].read_text()
    assert len(tau_rows(csv_text)) == len(tau_rows(built["csv"])) >= 3 * 2 * 2  # metric x target x truth
    assert tau_rows(csv_text) == tau_rows(built["csv"])
    assert csv_text == built["csv"]  # and every other row (reliability from the test predictions too)
    doc = json.loads(board[2].read_text())
    assert {k: v for k, v in doc.items() if k != "store"} == {k: v for k, v in built["json"].items() if k != "store"}
    assert doc["benchmarks"][0]["reliability"]["ta"]["accuracy"]["n_test"] == 40
    # unpacking again finds it there and verified
    code, out, err = run_cli(capsys, "unpack", pack)
    assert code == 0 and "already unpacked, verified" in out, err


def test_score_pack_scores_a_metric_plugin_and_the_board_shows_it(built, tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(KNN_SRC))
    load_test_plugins(monkeypatch, "toytask.plugin,facebench_knn.plugin")
    monkeypatch.chdir(tmp_path)
    pack = shutil.copy(built["pack"], tmp_path / "toy.fbpack")
    code, out, err = run_cli(capsys, "score", "--pack", pack, "-m", "knn", "--format", "json")
    assert code == 0, err
    scores = json.loads(out)  # stdout: one JSON object; where the store is goes to stderr
    assert set(scores) == {"toy/toy-zoo:ta", "toy/toy-zoo:tb"}
    assert all(set(v["knn"]["scores"]) == {"m0", "m1", "m2", "m3"} for v in scores.values())
    store = (tmp_path / ".facebench" / "packs" / "toy" / "results.sqlite").resolve()
    assert f"scores recorded in {store}" in err and f"facebench leaderboard --store {store}" in err
    board = build_leaderboards(store, tmp_path / "board", **BOARD)
    csv_text = board[1].read_text()
    knn = tau_rows(csv_text, {"knn"})
    assert {(r["target"], r["truth"]) for r in knn} == {(t, s) for t in ("ta", "tb") for s in ("accuracy", "loss")}
    assert tau_rows(csv_text, {"face", "leep", "logme"}) == tau_rows(built["csv"])
    # a second call reuses the verified unpacking and scores the same
    code, out2, err = run_cli(capsys, "score", "--pack", pack, "-m", "knn", "--format", "json")
    assert code == 0 and "already unpacked, verified" in err and json.loads(out2) == scores


def test_pack_keeps_only_the_metrics_asked_for_and_refuses_an_unknown_one(built, tmp_path):
    tmp = tmp_path / "copy"
    unpacked = unpack(built["pack"], tmp)
    summary = write_pack(unpacked.store, tmp_path / "face.fbpack", metrics=["face"])
    assert summary.metrics == ["face"] and summary.features == 8
    assert read_manifest(tmp_path / "face.fbpack")["metrics"] == ["face"]
    with pytest.raises(PackError, match="no scores of metric.s. knn") as exc:
        write_pack(unpacked.store, tmp_path / "x.fbpack", metrics=["knn"])
    assert "\n" not in str(exc.value) and not (tmp_path / "x.fbpack").exists()


def test_pack_refuses_a_store_whose_features_are_missing(built, tmp_path, capsys):
    unpacked = unpack(built["pack"], tmp_path / "copy")
    victim = sorted((unpacked.root / "features").glob("*.npz"))[0]
    victim.unlink()
    code, out, err = run_cli(capsys, "pack", "--store", unpacked.store, "-o", tmp_path / "x.fbpack")
    assert code == 2 and len(err.splitlines()) == 1 and "are missing" in err and victim.name in err, err
    assert not (tmp_path / "x.fbpack").exists()


# -- refusals: one line, nothing written ---------------------------------------------------------
def rezip(src: Path, dst: Path, change=lambda name, data: data, extra: dict | None = None, drop: str | None = None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != drop:
                zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def a_feature(pack: Path) -> str:
    with zipfile.ZipFile(pack) as zf:
        return sorted(n for n in zf.namelist() if n.startswith("features/") and n.endswith(".npz"))[0]


def flip_byte(name: str, data: bytes, target: str) -> bytes:
    if name != target:
        return data
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


def other_version(name: str, data: bytes) -> bytes:
    if name != MANIFEST:
        return data
    return json.dumps({**json.loads(data), "facebench_version": "0.0.1"}).encode()


def flip_compressed_byte(src: Path, dst: Path) -> Path:
    """One byte of a feature member's compressed bytes flipped in place (the zip's own CRC sees it)."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(a_feature(src))
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0x10
    dst.write_bytes(bytes(data))
    return dst


def truncated(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes()[: src.stat().st_size * 2 // 3])
    return dst


BAD_PACKS = {
    "other-version": (lambda p, d: rezip(p, d, other_version),
                      f"a pack of facebench 0.0.1 (pack format 1), but this is facebench {__version__}"),
    "truncated": (truncated, "not a facebench pack, or a truncated one"),
    "tampered-feature": (lambda p, d: rezip(p, d, lambda n, b: flip_byte(n, b, a_feature(p))), "fails its SHA-256"),
    "corrupt-deflate": (flip_compressed_byte, "cannot be read (truncated or corrupt"),
    "extra-member": (lambda p, d: rezip(p, d, extra={"features/evil.npz": b"x"}), "is not in the manifest"),
    "missing-member": (lambda p, d: rezip(p, d, drop=a_feature(p)), "of the manifest is missing"),
    "not-a-zip": (lambda p, d: (d.write_bytes(b"hello"), d)[1], "not a facebench pack"),
}


@pytest.mark.parametrize("kind", list(BAD_PACKS))
def test_a_bad_pack_is_refused_with_one_line_and_nothing_extracted(built, tmp_path, capsys, monkeypatch, kind):
    make, message = BAD_PACKS[kind]
    bad = make(built["pack"], tmp_path / "bad.fbpack")
    into = tmp_path / "out" / "here"
    code, out, err = run_cli(capsys, "unpack", bad, "--into", into)
    assert code == 2 and out == "", err
    assert len(err.splitlines()) == 1 and err.startswith("facebench: error: ") and message in err, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "score", "--pack", bad, "-m", "face")
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / ".facebench").exists() or not any((tmp_path / ".facebench" / "packs").iterdir())


def test_a_folder_holding_something_else_or_a_changed_file_is_refused(built, tmp_path, capsys):
    into = tmp_path / "u"
    into.mkdir()
    (into / "mine.txt").write_text("not a pack")
    code, _out, err = run_cli(capsys, "unpack", built["pack"], "--into", into)
    assert code == 2 and len(err.splitlines()) == 1 and "already holds something other than toy.fbpack" in err
    assert sorted(p.name for p in into.iterdir()) == ["mine.txt"]
    unpacked = unpack(built["pack"], tmp_path / "v")
    victim = sorted((unpacked.root / "predictions").glob("*.npz"))[0]
    victim.write_bytes(b"changed")
    code, _out, err = run_cli(capsys, "unpack", built["pack"], "--into", unpacked.root)
    assert code == 2 and len(err.splitlines()) == 1 and f"{victim.name} is missing or differs from the pack" in err


def test_the_committed_default_pack_rescores_the_committed_board(tmp_path):
    """The embedded default's pack (committed beside its board): a metric scored again from the pack's
    features gives the committed board's tau_w on every target (rank statistics: BLAS rounding between
    machines does not move them), and a new metric scores on it, with no fine-tuning and no model code."""
    import csv

    from facebench.package_data import DATA
    from facebench.plugins import get_plugins
    from facebench.runner.only_score import score_pack

    pack = DATA / "leaderboards" / "embedded-default" / "embedded-default.fbpack"
    board = DATA / "leaderboards" / "embedded-default" / "leaderboard.csv"
    committed = {(r["benchmark"], r["target"], r["truth"]): float(r["value"]) for r in csv.DictReader(board.open())
                 if r["metric"] == "leep" and r["statistic"] == "tau_w" and r["value"] and not r.get("versus")}
    unpacked, result = score_pack(pack, ["leep", "face-vc"], get_plugins().metrics, into=tmp_path / "p")
    assert not result.errors
    got = {(*where.split(":", 1), truth): c["tau_w"] for where, per_metric in result.results.items()
           for truth, c in per_metric["leep"]["correlations"].items()}
    assert set(got) == set(committed) and len(committed) >= 5
    for key, tau in committed.items():
        assert got[key] == pytest.approx(tau, rel=1e-9, abs=1e-12), key


def test_score_pack_says_when_a_metric_scored_fewer_models(built, tmp_path, capsys, monkeypatch):
    """A plugin metric that fails on one model: its tau_w line says on how many models it stands,
    and the error names the plugin's line."""
    (tmp_path / "picky_plugin.py").write_text(
        "import numpy as np\n"
        "from facebench import hookimpl\n"
        "from facebench.metrics.base import Metric\n\n"
        "class Picky(Metric):\n"
        "    name = 'picky'\n"
        "    summary = 'fails on m0'\n"
        "    needs = frozenset({'features'})\n\n"
        "    def compute(self, bundle):\n"
        "        if 'm0' in bundle.name:\n"
        "            raise KeyError('oops')\n"
        "        return float(np.mean(bundle.features))\n\n"
        "@hookimpl\n"
        "def facebench_metrics():\n"
        "    return [Picky]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    load_test_plugins(monkeypatch, "toytask.plugin,picky_plugin")
    monkeypatch.chdir(tmp_path)
    pack = shutil.copy(built["pack"], tmp_path / "toy.fbpack")
    code, out, err = run_cli(capsys, "score", "--pack", pack, "-m", "picky")
    assert code == 1, err  # a model's error makes the exit status 1; the other models' values are kept
    lines = [line for line in out.splitlines() if line.strip().startswith("picky")]
    assert len(lines) == 2 and all(line.endswith("(on 3 of 4 models)") for line in lines), out
    raise_line = (tmp_path / "picky_plugin.py").read_text().splitlines().index("            raise KeyError('oops')") + 1
    assert f"picky on model m0: KeyError: 'oops' (at picky_plugin.py:{raise_line} in compute)" in err
