"""Test-only probe: report which phase a run is in, and slow it down, for the crash harness.

Inactive (and free) unless one of two environment variables is set:

* ``FACEBENCH_PHASE_LOG=<file>``: each job appends ``<pid> <phase> <step> <label>`` when it starts
  (step ``run``) and when its result is about to be recorded (step ``record``); phases are
  ``pretrain``, ``extract``, ``finetune``, ``score`` and ``leaderboard`` (one line per board file);
* ``FACEBENCH_PHASE_DELAY=<seconds>``: sleep that long at each of those points, so that a kill at a
  random moment lands inside every phase, including between a job's work and its record.

Used by ``benchmarks/crash_harness.py`` and the tests; a normal run never sets them.
"""
from __future__ import annotations

import dataclasses
import os
import time

LOG_VAR = "FACEBENCH_PHASE_LOG"
DELAY_VAR = "FACEBENCH_PHASE_DELAY"


def active() -> bool:
    return bool(os.environ.get(LOG_VAR) or os.environ.get(DELAY_VAR))


def enter(phase: str, step: str, label: str = "") -> None:
    """Note that the run reached ``phase``/``step`` (and wait the configured delay)."""
    log = os.environ.get(LOG_VAR)
    if log:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {phase} {step} {label}\n")
            fh.flush()
    delay = float(os.environ.get(DELAY_VAR) or 0)
    if delay > 0:
        time.sleep(delay)


def wrap(job):
    """``job`` with its work and its record each preceded by :func:`enter` (``job`` itself when inactive)."""
    if not active():
        return job
    fn, record = job.fn, job.record

    def run():
        enter(job.kind, "run", job.label)
        return fn()

    def record_probed(store, value, seconds):
        enter(job.kind, "record", job.label)
        return record(store, value, seconds)

    return dataclasses.replace(job, fn=run, record=record_probed if record is not None else None)
