"""Benchmark packs: a finished benchmark in one file, scored anywhere without fine-tuning.

``facebench pack`` writes a results store's benchmarks (features of every model on every target,
ground truth per seed, per-sample test predictions, the configs, the scores of the metrics it
holds) to one zip file with a manifest; ``facebench unpack`` (or ``facebench score --pack``)
verifies the whole file before writing anything, extracts it and points the extracted store at
the extracted files, so that ``facebench score --store`` and ``facebench leaderboard --store``
work on it as on the store of a run. The format is in ``docs/packs.md``.

Layout of a pack (a zip, deflate)::

    manifest.json                     format, versions, created, configs, members (SHA-256, size)
    results.sqlite                    a copy of the store (SQLite backup), file paths pack-relative
    features/<content key>.npz        every feature bundle the store references, with its
    features/<content key>.sha256     checksum sidecar and its meta
    features/<content key>.json
    predictions/<job key>.npz         every test-prediction file, with its checksum sidecar
    predictions/<job key>.sha256

A pack is refused (one-line :class:`~facebench.errors.FacebenchError`) when it was written by
another facebench version or pack format, is truncated or not a zip, lacks a member of its
manifest, holds a member its manifest does not list, or a member's size or SHA-256 differs.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterable

from . import __version__
from .atomic import replacing
from .checksum import sha256_file
from .errors import FacebenchError
from .store import SCHEMA_VERSION, ResultsStore

FORMAT = "facebench-pack"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STORE_MEMBER = "results.sqlite"
UNPACKED_MANIFEST = "pack.json"  # the manifest, kept in an unpacked folder: what it holds and from which pack
DEFAULT_ROOT = Path(".facebench") / "packs"
SUFFIX = ".fbpack"
MAX_MANIFEST_BYTES = 64 << 20
_CHUNK = 1 << 20
_MEMBER_NAME = re.compile(r"^(results\.sqlite|(features|predictions)/[A-Za-z0-9][A-Za-z0-9._-]*)$")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same inputs give the same members


class PackError(FacebenchError):
    """A pack cannot be written, or is refused (another version, truncated, tampered)."""


@dataclass
class PackSummary:
    """What :func:`write_pack` wrote."""

    path: Path
    size: int
    benchmarks: list[str]
    targets: int
    models: int
    metrics: list[str]
    features: int
    predictions: int
    members: int


@dataclass
class Unpacked:
    """An unpacked pack: its folder, its store, its manifest; ``reused``: it was there already (verified)."""

    root: Path
    store: Path
    manifest: dict[str, Any] = field(repr=False)
    reused: bool = False

    def commands(self, metric: str = "NAME") -> list[str]:
        """The two commands that score a metric on it and build its full board."""
        return [f"facebench score --store {self.store} -m {metric}",
                f"facebench leaderboard --store {self.store} --out {self.root / 'leaderboard'}"]


# -- writing ------------------------------------------------------------------------------------
def write_pack(store_path: str | os.PathLike[str], out: str | os.PathLike[str], *, config_text: str | None = None,
               metrics: Iterable[str] | None = None) -> PackSummary:
    """Pack the results store ``store_path`` into the file ``out`` (written atomically).

    ``config_text``: a config to record in the manifest beside the store's own (``--config``);
    ``metrics``: keep only these metrics' scores (default: every metric the store holds). Every
    feature and prediction file the store references must be present and pass its checksum.
    """
    store_path, out = Path(store_path), Path(out)
    if not store_path.is_file():
        raise PackError(f"{store_path}: no such results store (run 'facebench run' first)")
    with tempfile.TemporaryDirectory(prefix="facebench-pack-") as tmp:
        snapshot = Path(tmp) / STORE_MEMBER
        store = ResultsStore(store_path)  # refuses a file that is not a store, or a newer schema
        try:
            _snapshot(store, snapshot)
            db = sqlite3.connect(str(snapshot), isolation_level=None)
            try:
                info = _trim(db, store_path, metrics)
                files = _referenced_files(db, store)  # where the store finds them (its own API)
                _relativize(db)
                db.execute("PRAGMA journal_mode=DELETE")
                db.execute("VACUUM")
            except sqlite3.Error as exc:
                raise PackError(f"{store_path}: cannot copy the results store ({exc})") from None
            finally:
                db.close()
        finally:
            store.close()
        members: list[tuple[str, Path, str | None]] = [(STORE_MEMBER, snapshot, None)]
        members += files
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with replacing(out, ".tmp" + SUFFIX) as tmp_out:
                listed = _write_zip(tmp_out, members, info, config_text, out.stem)
        except OSError as exc:
            raise PackError(f"{out}: cannot write the pack ({exc.strerror or exc})") from None
    return PackSummary(out, out.stat().st_size, info["benchmarks_ids"], len(info["benchmarks"]), info["models"],
                       info["metrics"], sum(n.startswith("features/") and n.endswith(".npz") for n in listed),
                       sum(n.startswith("predictions/") and n.endswith(".npz") for n in listed), len(listed))


def _snapshot(store: ResultsStore, dest: Path) -> None:
    """A consistent copy of the live (WAL) store through SQLite's backup API."""
    try:
        dst = sqlite3.connect(str(dest))
        try:
            store.db.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise PackError(f"{store.path}: cannot copy the results store ({exc})") from None


def _trim(db: sqlite3.Connection, store_path: Path, metrics: Iterable[str] | None) -> dict[str, Any]:
    """Drop what a board does not need (jobs that did not finish, where each job ran), and the
    scores of metrics not asked for; what is left, for the manifest."""
    held = [r[0] for r in db.execute("SELECT DISTINCT metric FROM metric_values ORDER BY metric")]
    if metrics is not None:
        wanted = list(dict.fromkeys(metrics))
        unknown = [m for m in wanted if m not in held]
        if unknown:
            raise PackError(f"{store_path}: no scores of metric(s) {', '.join(unknown)} in the store "
                            f"(it holds {', '.join(held) or 'none'})")
        dropped = [m for m in held if m not in wanted]
        marks = ", ".join("?" * len(dropped))
        if dropped:
            db.execute(f"DELETE FROM jobs WHERE kind='score' AND key IN "
                       f"(SELECT key FROM job_costs WHERE metric IN ({marks}))", dropped)
            for table in ("metric_values", "scores", "metric_notes", "job_costs"):
                db.execute(f"DELETE FROM {table} WHERE metric IN ({marks})", dropped)
        held = [m for m in held if m in wanted]
    db.execute("DELETE FROM jobs WHERE state IS NOT 'done'")
    db.execute("DELETE FROM job_costs WHERE key NOT IN (SELECT key FROM jobs)")
    db.execute("UPDATE job_costs SET host=NULL, pid=NULL")  # where it ran is not the benchmark's business
    benchmarks = [dict(zip(("benchmark", "task", "zoo", "target"), r)) for r in
                  db.execute("SELECT benchmark, task, zoo, target FROM benchmarks ORDER BY benchmark, target")]
    if not benchmarks:
        raise PackError(f"{store_path}: the store holds no benchmarks: nothing to pack")
    runs = [dict(zip(("name", "digest", "version", "config"), r)) for r in
            db.execute("SELECT name, digest, version, config FROM runs ORDER BY created")]
    models = db.execute("SELECT COUNT(DISTINCT model) FROM features").fetchone()[0]
    return {"benchmarks": benchmarks, "benchmarks_ids": sorted({b["benchmark"] for b in benchmarks}),
            "runs": runs, "metrics": held, "models": int(models)}


def _referenced_files(db: sqlite3.Connection, store: ResultsStore) -> list[tuple[str, Path, str | None]]:
    """(member name, file, its expected SHA-256 or None) of every feature and prediction file the
    snapshot ``db`` references, found where ``store`` finds them, with their sidecars; a missing
    file, or one without its checksum sidecar, is refused."""
    found: list[tuple[str, str, str, str, str, str]] = []  # kind, benchmark, target, what, file, key
    for bench, target, split in db.execute("SELECT DISTINCT benchmark, target, split FROM features").fetchall():
        keys = dict(db.execute("SELECT model, content_key FROM features WHERE benchmark=? AND target=? AND split=?",
                               (bench, target, split)).fetchall())
        for model, (path, key) in store.feature_files(bench, target, split).items():
            if keys.get(model) == key:
                found.append(("features", bench, target, model, path, key))
    for bench, target in db.execute("SELECT DISTINCT benchmark, target FROM predictions").fetchall():
        keys = {(m, s): k for m, s, k in db.execute(
            "SELECT model, seed, content_key FROM predictions WHERE benchmark=? AND target=?", (bench, target))}
        for (model, seed), path in store.prediction_paths(bench, target).items():
            if (model, seed) in keys:
                found.append(("predictions", bench, target, f"{model} seed {seed}", path, keys[(model, seed)]))
    wanted = {f"features/{k}.npz" for (k,) in db.execute("SELECT content_key FROM features")}
    wanted |= {f"predictions/{k}.npz" for (k,) in db.execute("SELECT content_key FROM predictions")}
    if wanted - {f"{f[0]}/{f[5]}.npz" for f in found}:
        raise PackError(f"{store.path}: the store changed while it was packed; pack it again")
    out: dict[str, tuple[str, Path, str | None]] = {}
    for kind, bench, target, what, path, key in sorted(found, key=lambda f: (f[0], f[5])):
        name = f"{kind}/{key}.npz"
        if name in out:
            continue
        if not _MEMBER_NAME.match(name):
            raise PackError(f"{store.path}: the {kind} of {what} on {bench} {target} have an unusable key {key!r}")
        src = Path(path)
        side = src.with_suffix(".sha256")
        why = "missing" if not src.is_file() else "without their checksum file" if not side.is_file() else ""
        if why:
            raise PackError(f"{store.path}: the {kind} of {what} on {bench} {target} are {why} ({src}): "
                            "run the benchmark again to recreate them, then pack")
        out[name] = (name, src, side.read_text().strip())
        out[f"{kind}/{key}.sha256"] = (f"{kind}/{key}.sha256", side, None)
        meta = src.with_suffix(".json")
        if meta.is_file():
            out[f"{kind}/{key}.json"] = (f"{kind}/{key}.json", meta, None)
    return [out[n] for n in sorted(out)]


def _relativize(db: sqlite3.Connection) -> None:
    """File paths in the packed store: relative to the pack, which is the unpacked store's folder
    (``features/<key>.npz``); the cache directories of the machine that ran it are forgotten."""
    db.execute("UPDATE features SET path = 'features/' || content_key || '.npz'")
    db.execute("UPDATE predictions SET path = 'predictions/' || content_key || '.npz'")
    if db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='cache_dirs'").fetchone():
        db.execute("DELETE FROM cache_dirs")


def _write_zip(path: Path, members: list[tuple[str, Path, str | None]], info: dict[str, Any],
               config_text: str | None, fallback_name: str) -> list[str]:
    listed: list[dict[str, Any]] = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for name, src, expected in members:
            h, size = hashlib.sha256(), 0
            zinfo = _zinfo(name)
            with src.open("rb") as fh, zf.open(zinfo, "w", force_zip64=True) as dst:
                for chunk in iter(lambda: fh.read(_CHUNK), b""):
                    h.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
            if expected is not None and h.hexdigest() != expected:
                raise PackError(f"{src}: fails its checksum (changed or corrupt): run the benchmark again to "
                                "recreate it, then pack")
            listed.append({"name": name, "size": size, "sha256": h.hexdigest()})
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "facebench_version": __version__,
            "store_schema": SCHEMA_VERSION,
            "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "name": ", ".join(dict.fromkeys(r["name"] for r in info["runs"] if r["name"])) or fallback_name,
            "store": STORE_MEMBER,
            "benchmarks": info["benchmarks"],
            "metrics": info["metrics"],
            "configs": info["runs"],
            "config": config_text,
            "members": listed,
        }
        zf.writestr(_zinfo(MANIFEST), json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return [m["name"] for m in listed]


def _zinfo(name: str) -> zipfile.ZipInfo:
    zinfo = zipfile.ZipInfo(name, _ZIP_TIME)
    zinfo.compress_type = zipfile.ZIP_DEFLATED
    zinfo.external_attr = 0o644 << 16
    return zinfo


# -- reading and verifying ----------------------------------------------------------------------
def _open(pack: Path) -> zipfile.ZipFile:
    if not pack.is_file():
        raise PackError(f"{pack}: no such pack file")
    try:
        return zipfile.ZipFile(pack)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise PackError(f"{pack}: not a facebench pack, or a truncated one ({exc})") from None


def _manifest(pack: Path, zf: zipfile.ZipFile) -> tuple[dict[str, Any], bytes]:
    """The manifest (checked: format, versions, member list) and its bytes."""
    names = zf.namelist()
    if MANIFEST not in names:
        raise PackError(f"{pack}: not a facebench pack (no {MANIFEST})")
    zinfo = zf.getinfo(MANIFEST)
    if zinfo.file_size > MAX_MANIFEST_BYTES:
        raise PackError(f"{pack}: {MANIFEST} is {zinfo.file_size} bytes, not a facebench pack's manifest")
    try:
        raw = zf.read(MANIFEST)
        manifest = json.loads(raw)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise PackError(f"{pack}: its {MANIFEST} cannot be read (truncated or tampered: {exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PackError(f"{pack}: not a facebench pack ({MANIFEST} does not say format {FORMAT!r})")
    fmt, version = manifest.get("format_version"), manifest.get("facebench_version")
    if fmt != FORMAT_VERSION or version != __version__:
        raise PackError(f"{pack}: a pack of facebench {version} (pack format {fmt}), but this is facebench "
                        f"{__version__} (pack format {FORMAT_VERSION}): score it with facebench {version}, or "
                        "pack the benchmark again with this one")
    members = manifest.get("members")
    ok = isinstance(members, list) and all(
        isinstance(m, dict) and isinstance(m.get("name"), str) and isinstance(m.get("size"), int)
        and isinstance(m.get("sha256"), str) for m in members)
    if not ok:
        raise PackError(f"{pack}: its {MANIFEST} has no valid member list (tampered)")
    listed = [m["name"] for m in members]
    bad = [n for n in listed if not _MEMBER_NAME.match(n)]
    if bad or len(set(listed)) != len(listed):
        raise PackError(f"{pack}: its {MANIFEST} lists an unsafe or repeated member name {(bad or listed)[0]!r}")
    if STORE_MEMBER not in listed:
        raise PackError(f"{pack}: its {MANIFEST} lists no {STORE_MEMBER}")
    return manifest, raw


def _check_members(pack: Path, zf: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    """Every member listed, none unlisted, none repeated; sizes and SHA-256 as the manifest says."""
    names = zf.namelist()
    if len(set(names)) != len(names):
        raise PackError(f"{pack}: a member appears twice in the zip (tampered)")
    listed = {m["name"]: m for m in manifest["members"]}
    extra = sorted(set(names) - set(listed) - {MANIFEST})
    if extra:
        raise PackError(f"{pack}: member {extra[0]} is not in the manifest (tampered)")
    missing = sorted(set(listed) - set(names))
    if missing:
        raise PackError(f"{pack}: member {missing[0]} of the manifest is missing (truncated or tampered)")
    for name, m in listed.items():
        size = zf.getinfo(name).file_size
        if size != m["size"]:
            raise PackError(f"{pack}: member {name} is {size} bytes, the manifest says {m['size']} (tampered)")
        with _member(pack, zf, name) as fh:
            digest, n = _hash_stream(pack, name, fh)
        if n != m["size"] or digest != m["sha256"]:
            raise PackError(f"{pack}: member {name} fails its SHA-256 (tampered or corrupt)")


@contextlib.contextmanager
def _member(pack: Path, zf: zipfile.ZipFile, name: str):
    try:
        with zf.open(name) as fh:
            yield fh
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise PackError(f"{pack}: member {name} cannot be read (truncated or corrupt: {exc})") from None


def _hash_stream(pack: Path, name: str, fh: BinaryIO, dest: BinaryIO | None = None) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    try:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
            n += len(chunk)
            if dest is not None:
                dest.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise PackError(f"{pack}: member {name} cannot be read (truncated or corrupt: {exc})") from None
    return h.hexdigest(), n


def read_manifest(pack: str | os.PathLike[str]) -> dict[str, Any]:
    """A pack's manifest, after the checks of format and version (members not read)."""
    pack = Path(pack)
    with _open(pack) as zf:
        return _manifest(pack, zf)[0]


def verify_pack(pack: str | os.PathLike[str]) -> dict[str, Any]:
    """Check a whole pack (format, versions, every member's presence, size and SHA-256) without
    writing anything; returns its manifest or raises a one-line :class:`PackError`."""
    pack = Path(pack)
    with _open(pack) as zf:
        manifest, _raw = _manifest(pack, zf)
        _check_members(pack, zf, manifest)
    return manifest


# -- unpacking ----------------------------------------------------------------------------------
def default_dir(pack: str | os.PathLike[str]) -> Path:
    """Where a pack is unpacked unless told otherwise: ``.facebench/packs/<file name without .fbpack>/``."""
    name = Path(pack).name
    return DEFAULT_ROOT / (name[: -len(SUFFIX)] if name.endswith(SUFFIX) and len(name) > len(SUFFIX) else name + ".d")


def unpack(pack: str | os.PathLike[str], into: str | os.PathLike[str] | None = None) -> Unpacked:
    """Verify ``pack`` whole, then extract it into ``into`` (default :func:`default_dir`) and point
    its store's file paths there. A folder that already holds this pack (same manifest) is reused
    after its files are checked against the manifest; one that holds anything else is refused."""
    pack = Path(pack)
    root = Path(into) if into is not None else default_dir(pack)
    with _open(pack) as zf:
        manifest, raw = _manifest(pack, zf)
        if root.exists() and not (root.is_dir() and not any(root.iterdir())):
            return _reuse(pack, root, manifest, raw)
        _check_members(pack, zf, manifest)  # the whole pack, before anything is written
        final = root.resolve()
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.unpacking-", dir=final.parent))
            staging.chmod(0o755)  # mkdtemp's 0700 would stay with the unpacked folder
        except OSError as exc:
            raise PackError(f"{root}: cannot unpack there ({exc.strerror or exc})") from None
        try:
            _extract(pack, zf, manifest, staging)
            (staging / UNPACKED_MANIFEST).write_bytes(raw)
            _point_store_at(staging / STORE_MEMBER, staging.resolve(), final)
            try:
                os.rename(staging, final)  # onto a missing or empty folder: atomic
            except OSError:
                if final.is_dir() and (final / UNPACKED_MANIFEST).is_file():  # unpacked at the same time elsewhere
                    return _reuse(pack, root, manifest, raw)
                raise
        except OSError as exc:
            raise PackError(f"{root}: cannot unpack there ({exc.strerror or exc})") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Unpacked(final, final / STORE_MEMBER, manifest)


def _extract(pack: Path, zf: zipfile.ZipFile, manifest: dict[str, Any], dest: Path) -> None:
    for m in manifest["members"]:
        target = dest / m["name"]
        target.parent.mkdir(parents=True, exist_ok=True)
        with _member(pack, zf, m["name"]) as fh, target.open("wb") as out:
            digest, n = _hash_stream(pack, m["name"], fh, out)
        if n != m["size"] or digest != m["sha256"]:  # changed since it was verified
            raise PackError(f"{pack}: member {m['name']} fails its SHA-256 (changed while unpacking)")


def _reuse(pack: Path, root: Path, manifest: dict[str, Any], raw: bytes) -> Unpacked:
    """``root`` holds an earlier unpacking of this very pack: check its files, point its store there."""
    kept = root / UNPACKED_MANIFEST
    try:
        same = kept.is_file() and hashlib.sha256(kept.read_bytes()).digest() == hashlib.sha256(raw).digest()
    except OSError:
        same = False
    if not same:
        raise PackError(f"{root}: already holds something other than {pack.name} (another pack, or other files): "
                        "remove it, or unpack with --into another folder")
    for m in manifest["members"]:
        path = root / m["name"]
        if m["name"] == STORE_MEMBER:  # scored since: its bytes change; it must still be there
            if not path.is_file():
                raise PackError(f"{root}: {STORE_MEMBER} is missing: remove {root} and unpack again")
            continue
        try:
            good = path.is_file() and path.stat().st_size == m["size"] and sha256_file(path) == m["sha256"]
        except OSError:
            good = False
        if not good:
            raise PackError(f"{root}: {m['name']} is missing or differs from the pack: remove {root} and unpack again")
    final = root.resolve()
    _point_store_at(final / STORE_MEMBER, final, final)
    return Unpacked(final, final / STORE_MEMBER, manifest, reused=True)


def _point_store_at(store_path: Path, here: Path, final: Path) -> None:
    """Make the unpacked store (in the folder ``here``, which will be ``final``) find its files.

    The packed store records them relative to its own folder (``features/<key>.npz``); where the
    store's own lookup (:meth:`~facebench.store.ResultsStore.feature_files`,
    :meth:`~facebench.store.ResultsStore.prediction_paths`) does not find one under ``here``, its
    path is set to the absolute path under ``final``. Nothing is written when every file is found.
    """
    store = ResultsStore(store_path)
    try:
        wrong: list[tuple[str, str, tuple]] = []  # table, new path, primary key
        rows = store.db.execute("SELECT DISTINCT benchmark, target, split FROM features").fetchall()
        for bench, target, split in rows:
            for model, (path, key) in store.feature_files(bench, target, split).items():
                if Path(path) != here / "features" / f"{key}.npz":
                    wrong.append(("features", str(final / "features" / f"{key}.npz"), (bench, target, model, split)))
        for bench, target in store.db.execute("SELECT DISTINCT benchmark, target FROM predictions").fetchall():
            keys = {(m, s): k for m, s, k in store.db.execute(
                "SELECT model, seed, content_key FROM predictions WHERE benchmark=? AND target=?", (bench, target))}
            for (model, seed), path in store.prediction_paths(bench, target).items():
                if Path(path) != here / "predictions" / f"{keys[(model, seed)]}.npz":
                    wrong.append(("predictions", str(final / "predictions" / f"{keys[(model, seed)]}.npz"),
                                  (bench, target, model, seed)))
        if wrong:
            where = {"features": "benchmark=? AND target=? AND model=? AND split=?",
                     "predictions": "benchmark=? AND target=? AND model=? AND seed=?"}
            with store.transaction() as db:
                for table, new, pk in wrong:
                    db.execute(f"UPDATE {table} SET path=? WHERE {where[table]}", (new, *pk))
    except sqlite3.Error as exc:
        raise PackError(f"{store_path}: cannot point the unpacked store at its files ({exc})") from None
    finally:
        store.close()
