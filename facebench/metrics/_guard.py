"""Turn a numerical failure inside a metric's library calls into a clear facebench error.

The guard lives in :mod:`facebench.metrics.base` (every :meth:`Metric.score` runs inside it);
metrics import it from here to name the step that failed (e.g. "the Gaussian mixture fit").
"""
from __future__ import annotations

from .base import input_errors_named

__all__ = ["input_errors_named"]
