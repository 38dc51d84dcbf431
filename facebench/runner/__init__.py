"""The runner: config -> planned jobs -> executor -> results store -> leaderboards."""
from .run import RunOptions, run_benchmarks

__all__ = ["RunOptions", "run_benchmarks"]
