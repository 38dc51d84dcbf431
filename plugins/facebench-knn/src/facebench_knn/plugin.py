"""The facebench hook implementations of this package (entry point ``knn`` in group ``facebench``)."""
from facebench import hookimpl

from .knn import KNNAccuracy


@hookimpl
def facebench_metrics():
    return [KNNAccuracy]
