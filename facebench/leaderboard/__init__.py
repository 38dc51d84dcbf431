"""Leaderboards from a results store: per benchmark (the paper's Tables 1-3), per task and overall.

``build_leaderboards(store, out_dir)`` writes ``leaderboard.md`` (GitHub Markdown),
``leaderboard.csv`` / ``leaderboard.json`` (one row per metric x benchmark x target x
ground-truth statistic x statistic, with bootstrap intervals) and a self-contained
``leaderboard.html`` (figures embedded: Fig. 4 scatter plots, Fig. 1 neural-collapse traces,
critical-difference diagrams). Every board shows per target the ground truth's reliability and
noise ceiling (flagging targets below ``reliability_threshold``) and per benchmark and overall
the groups of metrics that cannot be told apart.

Modules: :mod:`.tables` (data, read from the store), :mod:`.trust` (reliability and metric
significance, from :mod:`facebench.evaluate.reliability` / :mod:`facebench.evaluate.significance`),
:mod:`.cd_plot` (critical-difference diagram), :mod:`.bootstrap` (intervals),
:mod:`.fmt` (numbers, best/second marks), :mod:`.markdown`, :mod:`.csvjson`, :mod:`.html`,
:mod:`.plots`, :mod:`.build`.
"""
from .build import FILES, build_leaderboards, load

__all__ = ["FILES", "build_leaderboards", "load"]
