"""Turn a numerical failure inside a metric's library calls into a clear facebench error."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np

from ..errors import FacebenchError, MetricInputError


@contextmanager
def input_errors_named(metric_name: str, bundle_name: str, what: str) -> Iterator[None]:
    """Re-raise a LinAlgError / ValueError from ``what`` (e.g. "the Gaussian mixture fit") as a
    :class:`MetricInputError` naming the bundle and the metric (the usual cause: collapsed or
    constant features); facebench's own errors pass through."""
    try:
        yield
    except FacebenchError:
        raise
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise MetricInputError(
            f"{bundle_name}: metric {metric_name!r}: {what} failed ({type(exc).__name__}: {exc}); "
            "are the features constant or every class collapsed to a point?"
        ) from exc
