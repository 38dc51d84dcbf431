"""Everything a results store holds that a run computes: for comparing two runs' stores (and
killing a held toy job's process mid-run, for the executors' crash tests).

Timings, finishing times, process ids and the folder a run's files were written under differ
between two runs of the same config and are left out; every other column of every table is kept.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

# table -> columns that say when, where or how long, not what
VARYING = {
    "runs": {"created", "finished", "config"},
    "jobs": {"seconds", "finished"},
    "features": {"path", "seconds"},
    "ground_truth": {"seconds"},
    "predictions": {"path"},
    "metric_values": {"seconds"},
    "job_costs": {"seconds", "peak_rss_bytes", "peak_scope", "peak_gpu_bytes", "pid", "host"},
    "cache_dirs": {"path", "used"},
}


def store_contents(path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(str(path))
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        out = {}
        for table in tables:
            cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            keep = [c for c in cols if c not in VARYING.get(table, set())]
            if not keep:  # every column varies: compare how many rows there are
                rows = [(n,) for (n,) in db.execute(f"SELECT COUNT(*) FROM {table}")]
                out[table] = rows
                continue
            rows = db.execute(f"SELECT {', '.join(keep)} FROM {table}").fetchall()
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        db.close()


def hold_at(folder: Path, label: str) -> tuple[Path, dict[str, str]]:
    """A folder for the toy task's hold and the environment that holds the job matching ``label``.

    The toy task's job whose label contains ``TOY_HOLD_AT`` writes ``<pid>.pid`` in ``TOY_HOLD_DIR``
    and waits there until a file ``release`` appears.
    """
    hold = folder / "hold"
    hold.mkdir()
    return hold, {"TOY_HOLD_AT": label, "TOY_HOLD_DIR": str(hold)}


@contextlib.contextmanager
def killing_the_held_job(hold: Path, polls: int = 1200):
    """SIGKILL the process running the toy job held at ``TOY_HOLD_AT`` (the pid file it writes in
    ``hold``), then release the hold; yields the list of killed pids (filled by then)."""
    killed: list[int] = []

    def killer():
        for _ in range(polls):
            pids = list(hold.glob("*.pid"))
            if pids:
                pid = int(pids[0].stem)
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                (hold / "release").touch()
                return
            time.sleep(0.05)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        yield killed
    finally:
        (hold / "release").touch()
        thread.join()
