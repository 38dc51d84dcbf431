"""Transferability metrics. Each module holds one metric family with its formula and source."""
from ..errors import ConvergenceWarning
from .base import Metric, MetricValue

__all__ = ["ConvergenceWarning", "Metric", "MetricValue"]
