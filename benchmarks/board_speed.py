"""Where a board's time goes: ``facebench leaderboard`` on a store, part by part (benchmarks/board_speed.md).

    python benchmarks/board_speed.py STORE [--out DIR] [--date 2025-01-01] [--serial]

Builds the four files as ``facebench leaderboard`` does (``build_leaderboards``) and prints, per
part, its wall seconds, this process's CPU seconds and its children's (the figures and the
sensitivity tables are computed in forked processes while this one goes on; a child's CPU is
counted when it is collected). ``--serial``: as on one core (``os.cpu_count() = 1``), every part
runs in this process, one after the other, so each part's CPU is what it costs (the figures: a
row per kind, summed over its figures).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

T0 = time.perf_counter()
ROWS: list[tuple[int, str, float, float, float]] = []  # depth, part, wall, own CPU, children's CPU
_depth = 0


def _cpu() -> tuple[float, float]:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def _timed(label: str, fn, *, summed: bool = False):
    """``fn``, its calls timed: a row each, or (``summed``) one row for all of them, "(n×)" in its label."""
    calls = 0

    def timed(*args, **kwargs):
        global _depth
        nonlocal calls
        wall, (own, kids) = time.perf_counter(), _cpu()
        if summed and calls:
            row = next(k for k, r in enumerate(ROWS) if r[1].startswith(label + " ("))
            depth, _, w0, c0, k0 = ROWS[row]
        else:
            row, depth, w0, c0, k0 = len(ROWS), _depth, 0.0, 0.0, 0.0
            ROWS.append((depth, label, 0.0, 0.0, 0.0))
        calls += 1
        _depth += 1
        try:
            return fn(*args, **kwargs)
        finally:
            _depth -= 1
            own2, kids2 = _cpu()
            ROWS[row] = (depth, f"{label} ({calls}×)" if summed else label, w0 + time.perf_counter() - wall,
                         c0 + own2 - own, k0 + kids2 - kids)
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store")
    parser.add_argument("--out", default="/tmp/board_speed")
    parser.add_argument("--date", default="2025-01-01")
    parser.add_argument("--serial", action="store_true", help="one core: every part in this process")
    args = parser.parse_args()
    if args.serial:
        os.cpu_count = lambda: 1  # fork_map and Background then map here

    wall, (own, _) = time.perf_counter(), _cpu()
    from facebench.leaderboard import build, html, plots

    ROWS.append((0, "import facebench.leaderboard (and what it imports)", time.perf_counter() - wall,
                 _cpu()[0] - own, 0.0))
    parts = [
        (build, "start_sensitivity_tables", "start the sensitivity tables (fork)"),
        (build, "load_leaderboard", "scores, statistics, bootstrap intervals"),
        (build, "start_figures", "start figures (fork; the first imports matplotlib)"),
        (build, "attach_trust", "reliability, noise ceiling, significance"),
        (build, "store_plugins", "plugins (imports)"),
        (build, "metric_cards", "metric cards"),
        (build, "board_sensitivity", "sensitivity tables (collected)"),
        (build, "sensitivity_tables", "sensitivity tables (one benchmark)"),  # boards built before the background
        (build, "render_markdown", "leaderboard.md"),
        (build, "render_csv", "leaderboard.csv"),
        (build, "render_json", "leaderboard.json"),
        (build, "render_html", "leaderboard.html"),
        (plots, "draw_all", "figures (collected, or drawn here)"),
    ]
    for module, name, label in parts:
        if hasattr(module, name):
            setattr(module, name, _timed(label, getattr(module, name)))
    # each figure where it is drawn (in this process: with --serial, or figures a child failed on)
    figures = [(plots, "scatter_grid", "scatter grids"), (plots, "trace_plot", "diagnostic traces"),
               (plots, "ranking_plot", "ranking plot"), (html, "cd_diagram", "critical-difference diagrams")]
    for module, name, label in figures:
        if hasattr(module, name):
            setattr(module, name, _timed(label, getattr(module, name), summed=True))
    build_all = _timed("build_leaderboards", build.build_leaderboards)
    build_all(args.store, args.out, date=args.date)

    total_own, total_kids = _cpu()
    print(f"{'part':58s} {'wall s':>7s} {'CPU s':>7s} {'children CPU s':>15s}")
    for depth, label, w, c, k in ROWS:
        print(f"{'  ' * depth + label:58s} {w:7.2f} {c:7.2f} {k:15.2f}")
    print(f"{'total (from the start of this script)':58s} {time.perf_counter() - T0:7.2f} {total_own:7.2f} "
          f"{total_kids:15.2f}")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"{os.cpu_count() if not args.serial else 1} core(s) used", file=sys.stderr)


if __name__ == "__main__":
    main()
