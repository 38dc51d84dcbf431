"""The crash harness (benchmarks/crash_harness.py): SIGKILL a run in every phase, resume, lose nothing.

The fast variant kills a forked copy of this process running the CLI once in each of pre-training,
extraction, fine-tuning and scoring (no boards: building them is most of the toy run's time); the
slow one runs ``python -m facebench run`` subprocesses, 4 rounds x 5 phases (leaderboards too).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest


HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "benchmarks"))

import crash_harness  # noqa: E402


@pytest.fixture(autouse=True)
def toy(toy_plugin, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    yield toy_plugin


def small_config():
    config = crash_harness.toy_config()
    config["metrics"] = ["face", "leep"]
    return config


def test_kills_in_every_phase_lose_and_double_nothing_fast(tmp_path):
    report = crash_harness.run_harness(tmp_path, rounds=1, delay=0.02, launch="fork", config=small_config(),
                                       boards=False, seed=1)
    print("\n".join(report.lines()))
    assert report.kills == 4 and all(n >= 1 for n in report.phases_hit.values()), report.phases_hit
    assert (report.lost, report.doubled, report.differing, report.bad_files) == (0, 0, 0, [])
    assert report.ok


@pytest.mark.slow
def test_twenty_kills_with_boards(tmp_path):
    report = crash_harness.run_harness(tmp_path, rounds=4, delay=0.05, launch="cli", seed=0)
    print("\n".join(report.lines()))
    assert report.kills >= 20 and all(n >= 1 for n in report.phases_hit.values()), report.phases_hit
    assert (report.lost, report.doubled, report.differing, report.bad_files) == (0, 0, 0, [])
    assert report.boards_identical and report.ok


def test_the_checks_can_fail(tmp_path):
    """A store missing a result, one with an extra result, a changed value, a stray temporary file."""
    import shutil
    import sqlite3

    report = crash_harness.run_harness(tmp_path, rounds=0, launch="fork", config=small_config(), boards=False)
    assert report.ok is False or report.rounds == 0
    ref = tmp_path / "reference" / "s.sqlite"
    for change, expect in [
        ("DELETE FROM jobs WHERE rowid = (SELECT MIN(rowid) FROM jobs WHERE kind='finetune')", (1, 0, 0)),
        ("INSERT INTO metric_notes VALUES ('b', 't', 'face', 'warning', 'extra')", (0, 1, 1)),
        ("UPDATE scores SET score = score + 1 WHERE rowid = 1", (0, 0, 1)),
    ]:
        copy = tmp_path / "copy.sqlite"
        shutil.copy(ref, copy)
        db = sqlite3.connect(copy)
        db.execute(change)
        db.commit()
        db.close()
        assert crash_harness.compare_stores(ref, copy) == expect, change
    (tmp_path / "reference" / "cache" / "features" / ".x.npz.tmp.npz").write_bytes(b"half")
    assert crash_harness.check_files(tmp_path / "reference" / "cache") == ["features/.x.npz.tmp.npz (temporary file left)"]
    assert crash_harness.mask_durations("a.md", b"| face | 0.07 s | 1.5 min |") == b"| face | <duration> | <duration> |"
