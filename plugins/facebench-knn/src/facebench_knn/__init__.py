"""facebench-knn: leave-one-out k-NN accuracy as a transferability metric (a facebench plugin)."""
from .knn import KNNAccuracy, loo_knn_accuracy

__version__ = "0.1.0"
__all__ = ["KNNAccuracy", "loo_knn_accuracy", "__version__"]
