"""Transferability metrics. Each module holds one metric family with its formula and source."""
from .base import Metric, MetricValue

__all__ = ["Metric", "MetricValue"]
