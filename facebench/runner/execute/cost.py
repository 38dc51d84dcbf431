"""What one job cost: wall time, the device it ran on and its peak memory, measured where it ran.

:func:`measured` wraps a job's callable; the wrapper runs in whichever process executes the job
(this one, a worker process of the local pool, a Ray worker) and returns ``(seconds, value,
JobCost)``. Peak memory:

* host: the process's peak resident set size during the job. On Linux the peak (``VmHWM``) is
  reset before the job by writing ``5`` to ``/proc/self/clear_refs``, so it is this job's own
  peak; where that is not possible it is ``ru_maxrss``, the process's peak since it started
  (then ``peak_scope`` is ``"process"``, an upper bound for the job).
* GPU: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` on the job's CUDA
  device (None on CPU).
"""
from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class JobCost:
    seconds: float  # wall time of the job's callable
    device: str  # "cpu", or "cuda:<i> (<device name>)"
    peak_rss_bytes: int | None
    peak_scope: str  # "job": reset before the job; "process": the worker's peak since it started
    peak_gpu_bytes: int | None = None
    pid: int = 0
    host: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_bytes(reset: bool) -> int | None:
    if reset:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB on Linux


def _cuda(device: str):
    """torch.cuda when the job runs on a CUDA device and torch is already imported, else None."""
    if not str(device).startswith("cuda") or "torch" not in sys.modules:
        return None
    torch = sys.modules["torch"]
    return torch.cuda if torch.cuda.is_available() else None


def device_name(device: str) -> str:
    cuda = _cuda(device)
    if cuda is None:
        return "cpu" if not str(device).startswith("cuda") else str(device)
    index = cuda.current_device() if str(device) == "cuda" else int(str(device).split(":")[1])
    return f"cuda:{index} ({cuda.get_device_name(index)})"


def measured(fn: Callable[[], Any], device: str = "cpu") -> Callable[[], tuple[float, Any, JobCost]]:
    """``fn`` wrapped to return ``(seconds, value, cost)``; picklable when ``fn`` is (cloudpickle)."""

    def wrapped() -> tuple[float, Any, JobCost]:
        scope = "job" if _reset_peak_rss() else "process"
        cuda = _cuda(device)
        if cuda is not None:
            cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - t0
        cuda = _cuda(device)  # the job may have imported torch and initialised CUDA itself
        gpu = int(cuda.max_memory_allocated(device)) if cuda is not None else None
        cost = JobCost(seconds, device_name(device), _peak_rss_bytes(scope == "job"), scope, gpu, os.getpid(),
                       os.uname().nodename if hasattr(os, "uname") else "")
        return seconds, value, cost

    return wrapped
