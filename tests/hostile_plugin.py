"""Metric plugins that misbehave in every way the isolation must survive (tests only).

``boom`` raises, ``nan-metric`` / ``inf-metric`` return non-finite values, ``hang`` sleeps for
ever, ``leak`` allocates until it runs out of memory (64 MB at a time; only ever run it under a
memory limit), ``crash`` kills its own process with SIGSEGV.
"""
from __future__ import annotations

import os
import signal
import time

import numpy as np

from facebench import hookimpl
from facebench.metrics.base import Metric


class Boom(Metric):
    """Raises on every bundle."""

    name = "boom"
    summary = "raises"

    def compute(self, bundle):
        raise RuntimeError("boom plugin exploded")


class NaNMetric(Metric):
    """Returns NaN."""

    name = "nan-metric"
    summary = "returns NaN"

    def compute(self, bundle):
        return float("nan")


class InfMetric(Metric):
    """Returns +inf."""

    name = "inf-metric"
    summary = "returns inf"

    def compute(self, bundle):
        return float("inf")


class Hang(Metric):
    """Never returns."""

    name = "hang"
    summary = "hangs"

    def compute(self, bundle):
        while True:
            time.sleep(1)


class Leak(Metric):
    """Keeps allocating 64 MB blocks until the allocation fails."""

    name = "leak"
    summary = "leaks memory"

    def compute(self, bundle):
        kept = []
        for _ in range(10_000):
            kept.append(np.ones(8 * 2**20))
        return float(len(kept))


class Crash(Metric):
    """Kills its own interpreter (SIGSEGV)."""

    name = "crash"
    summary = "segfaults"

    def compute(self, bundle):
        os.kill(os.getpid(), signal.SIGSEGV)
        return 0.0


@hookimpl
def facebench_metrics():
    return [Boom, NaNMetric, InfMetric, Hang, Leak, Crash]
