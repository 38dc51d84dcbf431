"""The runner: config -> planned jobs -> executor -> results store -> leaderboards."""
from .run import JobEvent, PlannedJob, RunOptions, plan_run, run_benchmarks

__all__ = ["JobEvent", "PlannedJob", "RunOptions", "plan_run", "run_benchmarks"]
