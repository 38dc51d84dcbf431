"""Crash harness: SIGKILL ``facebench run`` at random moments in every phase, resume, check nothing is lost.

Each round starts from an empty store and cache, and kills the run once in each phase, in order
(pre-training, extraction, fine-tuning, scoring, leaderboard writing), resuming after each kill;
then it lets the run finish and checks against an uninterrupted run of the same config:

* exactly one result per job: every job the reference finished is ``done`` once (lost: missing;
  doubled: a result row more than the reference has, in any result table);
* every result equal (ground truth, per-model metric values, zoo scores, diagnostics, feature and
  prediction content keys; timings excepted);
* no half-written cache or board file: every cached file matches its SHA-256 sidecar, and no
  temporary file is left;
* the boards byte-identical to the reference's once the measured durations (the timing cells,
  ``*_seconds`` in the JSON board), which differ between any two runs, are blanked.

Kills land in a phase because the test-only probe (:mod:`facebench.phase_probe`) logs the phase
each job is in and sleeps ``delay`` seconds at each job's start and before its record: the harness
waits until the log shows the phase it aims at, waits a random further time (up to a few jobs),
and kills; the phase actually hit is the last one the killed process logged.

    PYTHONPATH=. python benchmarks/crash_harness.py --rounds 4        # 20 kills on the toy task

Runs ``python -m facebench run`` as a subprocess (``launch="cli"``), or, for the fast test, a
forked copy of this process running the same CLI (``launch="fork"``: no interpreter start-up).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
PHASES = ("pretrain", "extract", "finetune", "score", "leaderboard")
#: result tables and the columns that identify a result (timings and absolute paths left out)
RESULT_TABLES = {
    "ground_truth": "benchmark, target, model, seed, statistic, value",
    "metric_values": "benchmark, target, metric, model, params, raw, error",
    "scores": "benchmark, target, metric, model, score",
    "metric_notes": "benchmark, target, metric, kind, message",
    "diagnostics": "benchmark, target, model, seed, name, epoch, value",
    "features": "benchmark, target, model, split, content_key, n, d",
    "predictions": "benchmark, target, model, seed, content_key, n",
}


def toy_config() -> dict:
    """The toy task (tests/toytask): 4 models, 2 targets, 2 seeds, 3 metrics, predictions recorded."""
    return {
        "name": "crash", "metrics": ["face", "leep", "logme"], "store": "s.sqlite", "cache_dir": "cache",
        "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta", "tb"], "seeds": [0, 1],
                        "options": {"predictions": 40}, "diagnostics": ["variance_collapse"]}],
    }


@dataclass
class Report:
    kills: int = 0
    phases_hit: dict[str, int] = field(default_factory=lambda: {p: 0 for p in PHASES})
    lost: int = 0
    doubled: int = 0
    differing: int = 0
    bad_files: list[str] = field(default_factory=list)
    boards_identical: bool = True  # byte for byte once measured durations are blanked
    boards_raw_identical: bool = True  # byte for byte, durations included
    rounds: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (not self.lost and not self.doubled and not self.differing and not self.bad_files
                and self.boards_identical and all(self.phases_hit.values()))

    def lines(self) -> list[str]:
        hit = ", ".join(f"{p} {n}" for p, n in self.phases_hit.items())
        return [
            f"rounds: {self.rounds}, kills: {self.kills} (phases hit: {hit})",
            f"results lost: {self.lost}, results doubled: {self.doubled}, results differing: {self.differing}",
            f"half-written or stray files: {len(self.bad_files)}{': ' + ', '.join(self.bad_files[:5]) if self.bad_files else ''}",
            f"boards byte-identical to the uninterrupted run's, measured durations blanked: "
            f"{'yes' if self.boards_identical else 'NO'} (durations included: "
            f"{'yes' if self.boards_raw_identical else 'no, the timing cells differ as between any two runs'})",
            f"{'PASS' if self.ok else 'FAIL'} in {self.seconds:.0f}s",
        ]


class Launcher:
    """Starts ``facebench run`` in ``cwd`` with extra environment; returns a handle with pid/poll/kill."""

    def __init__(self, mode: str, boards: bool = True) -> None:
        if mode not in ("cli", "fork"):
            raise ValueError(f"launch mode must be cli or fork, got {mode!r}")
        self.mode, self.boards = mode, boards
        if mode == "fork":  # load the plugins (and what they import) once, before the first fork
            from facebench.plugins import get_plugins

            get_plugins()

    def start(self, cwd: Path, env: dict[str, str]) -> "Handle":
        args = ["run", "config.yaml", "--quiet", "--device", "cpu",
                *(["--out", "boards"] if self.boards else ["--no-leaderboard"])]
        if self.mode == "cli":
            full_env = {**os.environ, **env,
                        "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")])}
            proc = subprocess.Popen([sys.executable, "-m", "facebench", *args], cwd=cwd, env=full_env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            return Handle(proc.pid, proc)
        pid = os.fork()
        if pid == 0:  # child: the CLI in this (already imported) interpreter
            code = 1
            try:
                os.chdir(cwd)
                os.environ.update(env)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                from facebench.cli import main

                try:
                    main(args)
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 1
            finally:
                os._exit(code)
        return Handle(pid, None)


class Handle:
    def __init__(self, pid: int, proc: subprocess.Popen | None) -> None:
        self.pid, self.proc, self.code = pid, proc, None

    def poll(self) -> int | None:
        if self.code is not None:
            return self.code
        if self.proc is not None:
            self.code = self.proc.poll()
            return self.code
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid:
            self.code = os.waitstatus_to_exitcode(status)
        return self.code

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        while self.poll() is None:
            time.sleep(0.01)

    def wait(self, timeout: float) -> int:
        end = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > end:
                self.kill()
                raise TimeoutError(f"facebench run (pid {self.pid}) did not finish in {timeout:.0f}s")
            time.sleep(0.02)
        return self.code  # type: ignore[return-value]


def _last_phase(log: Path) -> str | None:
    lines = log.read_text().splitlines() if log.exists() else []
    return lines[-1].split()[1] if lines else None


def _prepare_dir(path: Path, config: dict) -> None:
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def kill_in_phase(launcher: Launcher, cwd: Path, phase: str, delay: float, rng: random.Random,
                  timeout: float = 300) -> str | None:
    """Start a run, wait until it logs ``phase``, wait a random 0..6 delays more, SIGKILL it.

    Returns the phase the run was in when killed, or None if it finished before reaching ``phase``.
    """
    log = cwd / f"phases-{time.monotonic_ns()}.log"
    handle = launcher.start(cwd, {"FACEBENCH_PHASE_LOG": str(log), "FACEBENCH_PHASE_DELAY": str(delay)})
    end = time.monotonic() + timeout
    while handle.poll() is None:
        if time.monotonic() > end:
            handle.kill()
            raise TimeoutError(f"run did not reach phase {phase} in {timeout:.0f}s")
        text = log.read_text() if log.exists() else ""
        if f" {phase} " in text:
            time.sleep(rng.uniform(0, 6 * delay))
            if handle.poll() is not None:
                break
            handle.kill()
            hit = _last_phase(log)
            log.unlink()
            return hit
        time.sleep(delay / 10)
    log.unlink(missing_ok=True)
    return None


def _rows(db: sqlite3.Connection, table: str) -> list[tuple]:
    return sorted(db.execute(f"SELECT {RESULT_TABLES[table]} FROM {table}").fetchall(), key=repr)


def compare_stores(reference: Path, crashed: Path) -> tuple[int, int, int]:
    """(lost, doubled, differing) results of ``crashed`` against ``reference``."""
    ref, got = sqlite3.connect(reference), sqlite3.connect(crashed)
    try:
        if got.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            return 0, 0, 1
        ref_done = {k for (k,) in ref.execute("SELECT key FROM jobs WHERE state='done'")}
        got_done = [k for (k,) in got.execute("SELECT key FROM jobs WHERE state='done'")]
        lost = len(ref_done - set(got_done))
        doubled = len(got_done) - len(set(got_done)) + len(set(got_done) - ref_done)
        differing = 0
        for table in RESULT_TABLES:
            a, b = _rows(ref, table), _rows(got, table)
            doubled += max(0, len(b) - len(a))
            lost += max(0, len(a) - len(b))
            differing += sum(1 for row in b if row not in a)
        return lost, doubled, differing
    finally:
        ref.close()
        got.close()


def check_files(root: Path) -> list[str]:
    """Cached or board files that are half-written (checksum mismatch, unreadable) or left temporary."""
    from facebench.checksum import sidecar_matches

    bad = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if ".tmp" in path.name:
            bad.append(f"{path.relative_to(root)} (temporary file left)")
        elif path.suffix == ".npz" and not sidecar_matches(path):
            bad.append(f"{path.relative_to(root)} (fails its checksum)")
    return bad


DURATION = re.compile(rb"\b\d+\.\d+ (s|min|h)\b")  # what facebench.leaderboard.fmt.fmt_seconds writes
# the other measured cells: cost ratios (times over times) and peak memory (fmt_ratio, fmt_bytes)
MEASURED = re.compile(rb"\b\d+(\.\d+)?\xc3\x97|\b\d+(\.\d+)? (B|KiB|MiB|GiB|TiB)\b")
MEASURED_KEYS = ("seconds", "ratio", "bytes")


def mask_durations(name: str, data: bytes) -> bytes:
    """The board file with what it measured of the run itself (durations, cost ratios, peak memory:
    no two runs share them) blanked, every other byte kept: the JSON board's ``*seconds*``,
    ``*ratio*`` and ``*bytes*`` values, and ``1.23 s`` / ``4.5 min`` / ``1.2×`` / ``200.5 MiB`` cells elsewhere."""
    if name.endswith(".json"):
        def blank(node):
            if isinstance(node, dict):
                return {k: (None if any(m in k for m in MEASURED_KEYS) else blank(v)) for k, v in node.items()}
            return [blank(v) for v in node] if isinstance(node, list) else node

        return json.dumps(blank(json.loads(data)), indent=2).encode()
    return MEASURED.sub(b"<measured>", DURATION.sub(b"<duration>", data))


def board_differences(a: Path, b: Path) -> tuple[list[str], list[str]]:
    """(files that differ byte for byte, files that differ even with durations blanked)."""
    names = sorted({p.name for d in (a, b) if d.is_dir() for p in d.iterdir()})
    raw, masked = [], []
    for name in names:
        pa, pb = a / name, b / name
        if not (pa.is_file() and pb.is_file()):
            raw.append(name)
            masked.append(name)
            continue
        da, db = pa.read_bytes(), pb.read_bytes()
        if da != db:
            raw.append(name)
            if mask_durations(name, da) != mask_durations(name, db):
                masked.append(name)
    return raw, masked if names else ["(no boards)"]


def run_harness(workdir: str | os.PathLike[str], *, rounds: int = 4, delay: float = 0.05, seed: int = 0,
                launch: str = "cli", config: dict | None = None, boards: bool = True,
                timeout: float = 600) -> Report:
    """``rounds`` x 5 kills (one per phase); see the module docstring. ``boards=False``: no
    leaderboards (4 phases; building the boards is most of the toy run's time)."""
    start = time.perf_counter()
    workdir = Path(workdir)
    config = config or toy_config()
    launcher = Launcher(launch, boards)
    phases = PHASES if boards else PHASES[:-1]
    rng = random.Random(seed)
    report = Report(phases_hit={p: 0 for p in phases})
    ref = workdir / "reference"
    _prepare_dir(ref, config)
    code = launcher.start(ref, {}).wait(timeout)
    if code != 0:
        raise RuntimeError(f"the uninterrupted reference run failed (exit status {code}) in {ref}")
    for r in range(rounds):
        cwd = workdir / f"round-{r}"
        _prepare_dir(cwd, config)
        for phase in phases:
            hit = kill_in_phase(launcher, cwd, phase, delay, rng, timeout)
            if hit is not None:
                report.kills += 1
                report.phases_hit[hit] = report.phases_hit.get(hit, 0) + 1
        code = launcher.start(cwd, {}).wait(timeout)
        if code != 0:
            raise RuntimeError(f"the resumed run of round {r} failed (exit status {code}) in {cwd}")
        lost, doubled, differing = compare_stores(ref / "s.sqlite", cwd / "s.sqlite")
        report.lost += lost
        report.doubled += doubled
        report.differing += differing
        report.bad_files += [f"round-{r}/{p}" for p in check_files(cwd / "cache") + check_files(cwd / "boards")]
        raw, masked = board_differences(ref / "boards", cwd / "boards")
        if boards:
            report.boards_identical &= not masked
            report.boards_raw_identical &= not raw
        report.rounds += 1
    report.seconds = time.perf_counter() - start
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="rounds of 5 kills (default 4: 20 kills)")
    parser.add_argument("--delay", type=float, default=0.05, help="probe delay per job step, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--launch", choices=("cli", "fork"), default="cli")
    parser.add_argument("--workdir", default=None, help="default: a new temporary directory")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    os.environ.setdefault("FACEBENCH_PLUGINS", "toytask.plugin")
    sys.path[:0] = [str(TESTS), str(ROOT)]
    import tempfile

    workdir = args.workdir or tempfile.mkdtemp(prefix="facebench-crash-")
    report = run_harness(workdir, rounds=args.rounds, delay=args.delay, seed=args.seed, launch=args.launch)
    if args.json:
        print(json.dumps({**report.__dict__, "ok": report.ok}, indent=2))
    else:
        print(f"workdir: {workdir}")
        print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
