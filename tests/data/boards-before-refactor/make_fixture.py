"""How this folder was made: run from an empty folder against commit 511c7bf (before the core
refactor of issue 8), with that commit's tests/toy_plugin.py on the path. It wrote results.sqlite
and the boards (leaderboard.{md,csv,json,html}, HTML without figures). Kept for the record: the
code it calls (toy_plugin, nc_trace) no longer exists; tests/test_task_plugins.py rebuilds the
boards from results.sqlite and compares."""
import sys, yaml
sys.path.insert(0, "/work/wt-core/tests")
import os
os.environ["FACEBENCH_PLUGINS"] = "toy_plugin"
from facebench.config import load_config
from facebench.runner import RunOptions, run_benchmarks
from facebench.leaderboard import build_leaderboards
raw = {"name": "toy", "metrics": ["face", "leep", "logme", "nce", "hscore"], "store": "results.sqlite", "cache_dir": "cache",
       "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta", "tb"], "seeds": [0, 1], "nc_trace": True}]}
open("toy.yaml", "w").write(yaml.safe_dump(raw))
cfg = load_config("toy.yaml")
s = run_benchmarks(cfg, RunOptions(quiet=True, device="cpu"))
print(s.done, s.failed)
build_leaderboards("results.sqlite", "boards", date="2026-11-27", n_boot=50, seed=0, figures=False)
