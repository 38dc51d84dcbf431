"""Everything a results store holds that a run computes: for comparing two runs' stores.

Timings, finishing times, process ids and the folder a run's files were written under differ
between two runs of the same config and are left out; every other column of every table is kept.
"""
from __future__ import annotations

import sqlite3

# table -> columns that say when, where or how long, not what
VARYING = {
    "runs": {"created", "finished", "config"},
    "jobs": {"seconds", "finished"},
    "features": {"path", "seconds"},
    "ground_truth": {"seconds"},
    "predictions": {"path"},
    "metric_values": {"seconds"},
    "job_costs": {"seconds", "peak_rss_bytes", "peak_scope", "peak_gpu_bytes", "pid", "host"},
}


def store_contents(path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(str(path))
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        out = {}
        for table in tables:
            cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            keep = [c for c in cols if c not in VARYING.get(table, set())]
            rows = db.execute(f"SELECT {', '.join(keep)} FROM {table}").fetchall()
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        db.close()
