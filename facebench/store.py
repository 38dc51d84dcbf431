"""The results store: one SQLite database (WAL) with everything a run produces.

Every finished job is written in one transaction together with its ``jobs`` row, so an interrupted
run (Ctrl-C, kill -9) never leaves a half result, and the next run with the same config skips
what is done. Tables:

* ``runs``          one row per config digest: the config text, facebench version, times
* ``jobs``          job key -> kind, benchmark, target, model, seed, state, seconds, error (the job log)
* ``features``      cached feature bundles: the file and its content key, n, d, seconds; the file is
                    recorded relative to the run's cache directory (``features/<key>.npz``; an older
                    store holds absolute paths) and found through :meth:`ResultsStore.resolve_file`;
                    read back through :class:`~facebench.runner.feature_cache.FeatureCache`, which
                    verifies the file against its checksum
* ``ground_truth``  fine-tuned results: benchmark, target, model, seed, statistic, value
* ``predictions``   per-sample test predictions of each fine-tuning run (path, content key, n); the
                    path as the features' (``predictions/<key>.npz``)
* ``cache_dirs``    the cache directories runs wrote files to: relative to the store's folder when
                    under it (the default layout), else absolute; with the last time each was used
* ``truth_statistics`` per benchmark, the task's ground-truth statistics in order (position 0: the
                    primary one, which ranks the metrics)
* ``diagnostics``   per-epoch diagnostics of a fine-tuning (name, epoch, value; epoch 0: pre-trained)
* ``metric_values`` per-model metric outputs (raw JSON, seconds, error) with the metric's params
* ``scores``        zoo-combined scores per benchmark, target, metric, model
* ``metric_notes``  warnings and zoo-level errors of a metric on a benchmark target
* ``job_costs``     what each job cost where it ran: seconds, device, peak host and GPU memory
* ``benchmarks``    benchmark id -> task, zoo, target (one row per benchmark x target)
* ``target_definitions`` what each target of a benchmark is (dataset type and parameters): a
                    second, different definition of the same (benchmark, target) is refused

Correlations are not stored: they are computed from the scores and the ground truth when boards
are built (:mod:`facebench.evaluate.correlations`). A store without some of these tables still
reads: an ``nc_trace`` table is read as the ``variance_collapse`` diagnostic, and without
``truth_statistics`` no statistic is primary (``docs/design-notes.md``, "store.py").

A store and its cache moved together (another folder, another machine) read as before: no file
path is part of a content key or a board, and :meth:`ResultsStore.resolve_file` finds a recorded
file relative to the recorded cache directories, the store's ``cache`` folder or the store's own
folder, else by its content key there.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator, Mapping

from . import __version__
from .errors import ConfigError, StoreError

LEGACY_NC_TRACE = "variance_collapse"  # what an nc_trace table holds
SCHEMA_VERSION = 1  # PRAGMA user_version; a store written by a newer schema is refused, not misread
FILE_KINDS = ("features", "predictions")  # the cached files a store records: <cache dir>/<kind>/<key>.npz
DEFAULT_CACHE = "cache"  # the cache directory of the default layout, in the store's folder
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  digest TEXT PRIMARY KEY, name TEXT, config TEXT, version TEXT, created REAL, finished REAL);
CREATE TABLE IF NOT EXISTS benchmarks (
  benchmark TEXT, task TEXT, zoo TEXT, target TEXT, run TEXT, PRIMARY KEY (benchmark, target));
CREATE TABLE IF NOT EXISTS jobs (
  key TEXT PRIMARY KEY, kind TEXT, benchmark TEXT, target TEXT, model TEXT, seed INTEGER,
  state TEXT, seconds REAL, error TEXT, finished REAL);
CREATE TABLE IF NOT EXISTS features (
  benchmark TEXT, target TEXT, model TEXT, split TEXT, path TEXT, content_key TEXT,
  n INTEGER, d INTEGER, seconds REAL, PRIMARY KEY (benchmark, target, model, split));
CREATE TABLE IF NOT EXISTS ground_truth (
  benchmark TEXT, target TEXT, model TEXT, seed INTEGER, statistic TEXT, value REAL, seconds REAL,
  PRIMARY KEY (benchmark, target, model, seed, statistic));
CREATE TABLE IF NOT EXISTS predictions (
  benchmark TEXT, target TEXT, model TEXT, seed INTEGER, path TEXT, content_key TEXT, n INTEGER,
  PRIMARY KEY (benchmark, target, model, seed));
CREATE TABLE IF NOT EXISTS truth_statistics (
  benchmark TEXT, statistic TEXT, position INTEGER, PRIMARY KEY (benchmark, statistic));
CREATE TABLE IF NOT EXISTS target_definitions (
  benchmark TEXT, target TEXT, definition TEXT, PRIMARY KEY (benchmark, target));
CREATE TABLE IF NOT EXISTS diagnostics (
  benchmark TEXT, target TEXT, model TEXT, seed INTEGER, name TEXT, epoch INTEGER, value REAL,
  PRIMARY KEY (benchmark, target, model, seed, name, epoch));
CREATE TABLE IF NOT EXISTS metric_values (
  benchmark TEXT, target TEXT, metric TEXT, model TEXT, params TEXT, raw TEXT, seconds REAL, error TEXT,
  PRIMARY KEY (benchmark, target, metric, model));
CREATE TABLE IF NOT EXISTS scores (
  benchmark TEXT, target TEXT, metric TEXT, model TEXT, score REAL, PRIMARY KEY (benchmark, target, metric, model));
CREATE TABLE IF NOT EXISTS metric_notes (
  benchmark TEXT, target TEXT, metric TEXT, kind TEXT, message TEXT);
CREATE TABLE IF NOT EXISTS job_costs (
  key TEXT PRIMARY KEY, kind TEXT, benchmark TEXT, target TEXT, model TEXT, seed INTEGER, metric TEXT,
  seconds REAL, device TEXT, peak_rss_bytes INTEGER, peak_scope TEXT, peak_gpu_bytes INTEGER, pid INTEGER, host TEXT);
CREATE TABLE IF NOT EXISTS cache_dirs (path TEXT PRIMARY KEY, used REAL);
"""


def _nan_to_none(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


class ResultsStore:
    """Access to one results database. Safe to reopen; writes are transactional."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a results store (give the path of a .sqlite file)")
        self.folder = self.path.resolve().parent  # recorded cache directories are relative to it
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open the results store ({exc})") from None
        try:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: written by a newer facebench (store schema {version}, this facebench reads up to "
                    f"{SCHEMA_VERSION}); upgrade facebench or give another --store path"
                )
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            if version < SCHEMA_VERSION:
                self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except StoreError:
            self.db.close()
            raise
        except sqlite3.OperationalError as exc:  # read-only file or directory, full disk, locked
            self.db.close()
            raise StoreError(f"{self.path}: cannot open the results store for writing ({exc})") from None
        except sqlite3.DatabaseError as exc:  # not SQLite, or a corrupt file: nothing was written to it
            self.db.close()
            raise StoreError(f"{self.path}: not a facebench results store ({exc}); give another --store path") from None

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write; a transaction opened inside another joins it (one commit, at the outer
        end). A write SQLite refuses (full disk, read-only file) is a one-line :class:`StoreError`
        and leaves the store as it was before the transaction."""
        if self.db.in_transaction:
            yield self.db
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: cannot write to the results store ({exc})") from None
        try:
            yield self.db
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise StoreError(f"{self.path}: cannot write to the results store ({exc}); "
                                 "what was finished before is kept") from None
            raise
        else:
            try:
                self.db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: cannot write to the results store ({exc}); "
                                 "what was finished before is kept") from None

    # -- runs and benchmarks ------------------------------------------------------------------
    def begin_run(self, digest: str, name: str, config_text: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs (digest, name, config, version, created) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(digest) DO UPDATE SET name=excluded.name",
                (digest, name, config_text, __version__, time.time()),
            )

    def finish_run(self, digest: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished=? WHERE digest=?", (time.time(), digest))

    def add_benchmark(self, benchmark: str, task: str, zoo: str, target: str, run: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO benchmarks VALUES (?, ?, ?, ?, ?)", (benchmark, task, zoo, target, run)
            )

    def set_truth_statistics(self, benchmark: str, statistics: tuple[str, ...] | list[str], primary: str) -> None:
        """The task's ground-truth statistics of ``benchmark``, ``primary`` first."""
        ordered = [primary, *(s for s in statistics if s != primary)]
        with self.transaction() as db:
            db.execute("DELETE FROM truth_statistics WHERE benchmark=?", (benchmark,))
            for i, stat in enumerate(ordered):
                db.execute("INSERT INTO truth_statistics VALUES (?, ?, ?)", (benchmark, stat, i))

    def primary_truth(self, benchmark: str) -> str | None:
        """The statistic that ranks metrics on ``benchmark`` (None when the store does not record it)."""
        row = self.db.execute(
            "SELECT statistic FROM truth_statistics WHERE benchmark=? ORDER BY position LIMIT 1", (benchmark,)
        ).fetchone()
        return row[0] if row else None

    def check_target(self, benchmark: str, target: str, definition: Mapping[str, Any], where: str) -> None:
        """Refuse a target whose definition differs from the one this store already holds under its name."""
        text = json.dumps(definition, sort_keys=True, default=str)
        row = self.db.execute(
            "SELECT definition FROM target_definitions WHERE benchmark=? AND target=?", (benchmark, target)
        ).fetchone()
        if row is not None and row[0] != text:
            raise ConfigError(
                f"{where}: the store {self.path} already holds benchmark {benchmark} target {target!r} defined as "
                f"{row[0]}, not {text}: give this dataset another name, or use another store"
            )

    def add_target(self, benchmark: str, target: str, definition: Mapping[str, Any]) -> None:
        text = json.dumps(definition, sort_keys=True, default=str)
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO target_definitions VALUES (?, ?, ?)", (benchmark, target, text))

    def benchmarks(self) -> list[dict[str, str]]:
        rows = self.db.execute("SELECT benchmark, task, zoo, target, run FROM benchmarks ORDER BY benchmark, target")
        return [dict(zip(("benchmark", "task", "zoo", "target", "run"), r)) for r in rows]

    def runs(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT digest, name, config, version, created, finished FROM runs ORDER BY created")
        return [dict(zip(("digest", "name", "config", "version", "created", "finished"), r)) for r in rows]

    # -- jobs ---------------------------------------------------------------------------------
    def job_done(self, key: str) -> bool:
        row = self.db.execute("SELECT state FROM jobs WHERE key=?", (key,)).fetchone()
        return row is not None and row[0] == "done"

    def _job_row(self, db: sqlite3.Connection, key: str, kind: str, benchmark: str, target: str | None,
                 model: str | None, seed: int | None, seconds: float, state: str = "done", error: str | None = None) -> None:
        db.execute(
            "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, kind, benchmark, target, model, seed, state, seconds, error, time.time()),
        )

    def record_failure(self, key: str, kind: str, benchmark: str, target: str | None, model: str | None,
                       seed: int | None, error: str) -> None:
        with self.transaction() as db:
            self._job_row(db, key, kind, benchmark, target, model, seed, 0.0, "failed", error)

    def record_cost(self, key: str, kind: str, benchmark: str, target: str | None, model: str | None,
                    seed: int | None, metric: str | None, cost: Mapping[str, Any]) -> None:
        """What a job cost where it ran (:class:`facebench.runner.execute.cost.JobCost` as a dict)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO job_costs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, kind, benchmark, target, model, seed, metric, cost.get("seconds"), cost.get("device"),
                 cost.get("peak_rss_bytes"), cost.get("peak_scope"), cost.get("peak_gpu_bytes"), cost.get("pid"),
                 cost.get("host")),
            )

    def job_costs(self, benchmark: str | None = None) -> list[dict[str, Any]]:
        """Per-job costs of the jobs that are done (of one benchmark, or all)."""
        if not self._has_table("job_costs"):
            return []
        cols = ("key", "kind", "benchmark", "target", "model", "seed", "metric", "seconds", "device",
                "peak_rss_bytes", "peak_scope", "peak_gpu_bytes", "pid", "host")
        sql = (f"SELECT {', '.join('c.' + c for c in cols)} FROM job_costs c JOIN jobs j ON j.key = c.key "
               "WHERE j.state = 'done'")
        args: list[Any] = []
        if benchmark is not None:
            sql += " AND c.benchmark = ?"
            args.append(benchmark)
        return [dict(zip(cols, r)) for r in self.db.execute(sql + " ORDER BY c.kind, c.target, c.model, c.seed", args)]

    def record_pretrain(self, key: str, benchmark: str, model: str, seconds: float) -> None:
        with self.transaction() as db:
            self._job_row(db, key, "pretrain", benchmark, None, model, None, seconds)

    def record_features(self, key: str, benchmark: str, target: str, model: str, split: str, path: str | Path,
                        content_key: str, n: int, d: int, seconds: float, cache_dir: str | Path | None = None) -> None:
        """An extraction's result; ``path`` is recorded relative to ``cache_dir`` when it lies there
        (:meth:`_recorded_path`)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO features VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (benchmark, target, model, split, self._recorded_path(db, path, cache_dir), content_key, n, d, seconds),
            )
            self._job_row(db, key, "extract", benchmark, target, model, None, seconds)

    def record_ground_truth(self, key: str, benchmark: str, target: str, model: str, seed: int,
                            values: Mapping[str, float], seconds: float,
                            diagnostics: Mapping[str, list[float]] | None = None) -> None:
        with self.transaction() as db:
            for stat, value in values.items():
                db.execute(
                    "INSERT OR REPLACE INTO ground_truth VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (benchmark, target, model, seed, stat, float(value), seconds),
                )
            for name, trace in (diagnostics or {}).items():
                for epoch, value in enumerate(trace):
                    db.execute(
                        "INSERT OR REPLACE INTO diagnostics VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (benchmark, target, model, seed, name, epoch, _nan_to_none(value)),
                    )
            self._job_row(db, key, "finetune", benchmark, target, model, seed, seconds)

    def record_scores(self, key: str, benchmark: str, target: str, metric: str, params: Mapping[str, Any],
                      raw: Mapping[str, Any], seconds: Mapping[str, float], errors: Mapping[str, str],
                      scores: Mapping[str, float], notes: list[str]) -> None:
        """One metric on one benchmark target: per-model values and zoo scores, atomically."""
        with self.transaction() as db:
            db.execute("DELETE FROM metric_values WHERE benchmark=? AND target=? AND metric=?", (benchmark, target, metric))
            db.execute("DELETE FROM scores WHERE benchmark=? AND target=? AND metric=?", (benchmark, target, metric))
            db.execute("DELETE FROM metric_notes WHERE benchmark=? AND target=? AND metric=?", (benchmark, target, metric))
            models = set(raw) | set(seconds) | {m for m in errors if m != "*"}
            for model in sorted(models):
                db.execute(
                    "INSERT INTO metric_values VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (benchmark, target, metric, model, json.dumps(dict(params), sort_keys=True, default=str),
                     json.dumps(raw.get(model)), seconds.get(model), errors.get(model)),
                )
            for model, score in scores.items():
                db.execute("INSERT INTO scores VALUES (?, ?, ?, ?, ?)", (benchmark, target, metric, model, float(score)))
            for message in notes:
                db.execute("INSERT INTO metric_notes VALUES (?, ?, ?, 'warning', ?)", (benchmark, target, metric, message))
            if "*" in errors:
                db.execute("INSERT INTO metric_notes VALUES (?, ?, ?, 'error', ?)", (benchmark, target, metric, errors["*"]))
            self._job_row(db, key, "score", benchmark, target, None, None, float(sum(seconds.values())))

    # -- cached files: where they are recorded, where they are found ----------------------------
    def _recorded_path(self, db: sqlite3.Connection, path: str | Path, cache_dir: str | Path | None) -> str:
        """What the store records for the cached file ``path``: its path relative to ``cache_dir``
        (``features/<key>.npz``) when it lies there, and ``cache_dir`` is recorded in ``cache_dirs``
        (in ``db``'s transaction); else its absolute path."""
        full = Path(path).resolve()
        if cache_dir is None:
            return str(full)
        root = Path(cache_dir).resolve()
        try:
            rel = full.relative_to(root)
        except ValueError:
            return str(full)
        try:
            where = root.relative_to(self.folder).as_posix()  # "." when the cache is the store's folder
        except ValueError:
            where = str(root)
        db.execute("INSERT INTO cache_dirs VALUES (?, ?) ON CONFLICT(path) DO UPDATE SET used=excluded.used",
                   (where, time.time()))
        return rel.as_posix()

    def cache_dirs(self) -> list[Path]:
        """Where to look for a recorded file, in order: the recorded cache directories (last used
        first), the default ``<store folder>/cache``, the store's folder (an unpacked pack's layout)."""
        out: list[Path] = []
        for (where,) in self.db.execute("SELECT path FROM cache_dirs ORDER BY used DESC, path"):
            out.append(Path(os.path.normpath(self.folder / where)))  # an absolute one stays as recorded
        for root in (self.folder / DEFAULT_CACHE, self.folder):
            out.append(root)
        return list(dict.fromkeys(out))

    def resolve_file(self, recorded: str, content_key: str | None, kind: str) -> Path:
        """The file the store recorded as ``recorded`` (a ``kind`` file: "features" or "predictions").

        An absolute path that exists is used as is (a store written before paths were relative).
        A relative one is looked up under :meth:`cache_dirs`; failing that (or an absolute path that
        no longer exists: the store and its cache were moved), ``<cache dir>/<kind>/<content_key>.npz``
        under the same directories. Not found anywhere: the recorded path (a relative one under the
        first cache directory), so that whoever reads it says which file is missing.
        """
        if kind not in FILE_KINDS:
            raise ValueError(f"kind must be one of {FILE_KINDS}, got {kind!r}")
        path = Path(recorded)
        if path.is_absolute() and path.is_file():
            return path
        roots = self.cache_dirs()
        if not path.is_absolute():
            for root in roots:
                if (root / path).is_file():
                    return root / path
        if content_key and _SAFE_KEY.match(content_key):
            for root in roots:
                found = root / kind / f"{content_key}.npz"
                if found.is_file():
                    return found
        return path if path.is_absolute() else roots[0] / path

    # -- queries ------------------------------------------------------------------------------
    def feature_files(self, benchmark: str, target: str, split: str = "train") -> dict[str, tuple[str, str]]:
        """model -> (file path, content key) of the target's cached features, each path found
        through :meth:`resolve_file`."""
        rows = self.db.execute(
            "SELECT model, path, content_key FROM features WHERE benchmark=? AND target=? AND split=? ORDER BY model",
            (benchmark, target, split),
        ).fetchall()
        return {model: (str(self.resolve_file(path, key, "features")), key) for model, path, key in rows}

    def jobs(self) -> list[dict[str, Any]]:
        """The job log: one row per job key (kind, benchmark, target, model, seed, state, finished)."""
        keys = ("key", "kind", "benchmark", "target", "model", "seed", "state", "seconds", "error", "finished")
        rows = self.db.execute(f"SELECT {', '.join(keys)} FROM jobs ORDER BY finished, key")
        return [dict(zip(keys, r)) for r in rows]

    def ground_truth(self, benchmark: str, target: str, statistic: str) -> dict[str, dict[int, float]]:
        """model -> seed -> value."""
        out: dict[str, dict[int, float]] = {}
        for model, seed, value in self.db.execute(
            "SELECT model, seed, value FROM ground_truth WHERE benchmark=? AND target=? AND statistic=? ORDER BY model, seed",
            (benchmark, target, statistic),
        ):
            out.setdefault(model, {})[seed] = value
        return out

    def mean_ground_truth(self, benchmark: str, target: str, statistic: str) -> dict[str, float]:
        return {m: sum(v.values()) / len(v) for m, v in self.ground_truth(benchmark, target, statistic).items()}

    def truth_statistics(self, benchmark: str, target: str) -> list[str]:
        rows = self.db.execute(
            "SELECT DISTINCT statistic FROM ground_truth WHERE benchmark=? AND target=? ORDER BY statistic",
            (benchmark, target),
        )
        return [r[0] for r in rows]

    def scores(self, benchmark: str, target: str, metric: str) -> dict[str, float]:
        rows = self.db.execute(
            "SELECT model, score FROM scores WHERE benchmark=? AND target=? AND metric=? ORDER BY model",
            (benchmark, target, metric),
        )
        return dict(rows.fetchall())

    def metrics(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT metric FROM metric_values ORDER BY metric")]

    def metric_params(self, metric: str) -> list[str]:
        """The distinct parameter sets (JSON) a metric was scored with, over all benchmarks."""
        rows = self.db.execute("SELECT DISTINCT params FROM metric_values WHERE metric=? ORDER BY params", (metric,))
        return [r[0] for r in rows]

    def metric_seconds(self, benchmark: str, target: str, metric: str) -> float:
        row = self.db.execute(
            "SELECT COALESCE(SUM(seconds), 0) FROM metric_values WHERE benchmark=? AND target=? AND metric=?",
            (benchmark, target, metric),
        ).fetchone()
        return float(row[0])

    def job_seconds(self, kind: str, benchmark: str, target: str | None = None) -> float:
        sql = "SELECT COALESCE(SUM(seconds), 0) FROM jobs WHERE kind=? AND benchmark=? AND state='done'"
        args: list[Any] = [kind, benchmark]
        if target is not None:
            sql += " AND target=?"
            args.append(target)
        return float(self.db.execute(sql, args).fetchone()[0])

    def seconds_per_run(self, kind: str, benchmark: str) -> float:
        """Sum over (target, model) of the mean seconds over seeds of ``kind`` jobs: the zoo done once."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(a), 0) FROM (SELECT AVG(seconds) AS a FROM jobs WHERE kind=? AND benchmark=? "
            "AND state='done' GROUP BY target, model)", (kind, benchmark),
        ).fetchone()
        return float(row[0])

    def _has_table(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None

    def diagnostic_traces(self, benchmark: str, target: str) -> dict[str, dict[str, dict[int, list[float]]]]:
        """diagnostic -> model -> seed -> per-epoch values (epoch 0: before fine-tuning)."""
        rows = list(self.db.execute(
            "SELECT name, model, seed, epoch, value FROM diagnostics WHERE benchmark=? AND target=? "
            "ORDER BY name, model, seed, epoch", (benchmark, target),
        ))
        if self._has_table("nc_trace"):  # the variance_collapse diagnostic in an older store's own table
            rows += [(LEGACY_NC_TRACE, *r) for r in self.db.execute(
                "SELECT model, seed, epoch, value FROM nc_trace WHERE benchmark=? AND target=? ORDER BY model, seed, epoch",
                (benchmark, target),
            )]
        out: dict[str, dict[str, dict[int, list[float]]]] = {}
        for name, model, seed, _epoch, value in rows:
            out.setdefault(name, {}).setdefault(model, {}).setdefault(seed, []).append(value)
        return out

    def model_errors(self, benchmark: str, target: str, metric: str) -> dict[str, str]:
        """model -> the metric's error on that model's bundle (models it scored are left out)."""
        rows = self.db.execute(
            "SELECT model, error FROM metric_values WHERE benchmark=? AND target=? AND metric=? AND error IS NOT NULL",
            (benchmark, target, metric),
        )
        return {m: e for m, e in rows.fetchall()}

    def notes(self, benchmark: str, target: str, metric: str) -> list[tuple[str, str]]:
        return self.db.execute(
            "SELECT kind, message FROM metric_notes WHERE benchmark=? AND target=? AND metric=?",
            (benchmark, target, metric),
        ).fetchall()

    # -- test predictions (per-sample, for reliability and resampled ground truth) ------------
    def record_predictions(self, benchmark: str, target: str, model: str, seed: int, path: str | Path,
                           content_key: str, n: int, cache_dir: str | Path | None = None) -> None:
        """``path`` is recorded relative to ``cache_dir`` when it lies there (:meth:`_recorded_path`)."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (benchmark, target, model, seed, self._recorded_path(db, path, cache_dir), content_key, n))

    def prediction_paths(self, benchmark: str, target: str) -> dict[tuple[str, int], str]:
        """(model, seed) -> path of the stored test predictions, found through :meth:`resolve_file`."""
        rows = self.db.execute(
            "SELECT model, seed, path, content_key FROM predictions WHERE benchmark=? AND target=? ORDER BY model, seed",
            (benchmark, target),
        ).fetchall()
        return {(model, seed): str(self.resolve_file(path, key, "predictions")) for model, seed, path, key in rows}
