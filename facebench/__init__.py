"""facebench: a benchmark for transferability estimation metrics (FaCe and its baselines)."""
__version__ = "0.1.0"

from .hookspecs import hookimpl  # noqa: E402

__all__ = ["__version__", "hookimpl", "rank"]


def rank(models, dataset, metrics=None, **kwargs):
    """Rank ``models`` on ``dataset`` without fine-tuning: :func:`facebench.runner.rank.rank`.

    ``facebench.rank(["timm:resnet18", "timm:convnext_tiny"], "path/to/images")`` returns a
    :class:`~facebench.runner.rank.RankTable` (``print`` it, or ``.to_json()``, ``.to_csv()``).
    Imported on first call, so that ``import facebench`` stays light.
    """
    from .runner.rank import rank as _rank

    return _rank(models, dataset, metrics, **kwargs)
