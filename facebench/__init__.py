"""facebench: a benchmark for transferability estimation metrics (FaCe and its baselines)."""
__version__ = "0.1.0"

from .hookspecs import hookimpl  # noqa: E402

__all__ = ["__version__", "hookimpl"]
