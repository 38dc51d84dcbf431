"""Where the metrics' large float64 products and symmetric eigendecompositions run: numpy, or torch.

By default everything is numpy. Inside ``with torch_backend("cuda"):`` (what a run does for its
scoring jobs when the run's device is a GPU), :func:`matmul`, :func:`gram` and :func:`eigh` move
operands of at least ``min_elements`` elements to that device as float64 torch tensors, compute
there and return numpy float64 arrays; smaller operands stay on numpy (moving them costs more than
it saves). The arithmetic is the same float64 arithmetic in another library, so values agree with
the numpy path to rounding (tested on CPU torch: within 1e-6 relative for every metric that uses
these functions; not bitwise: another BLAS sums in another order).

Eigenvectors are returned as computed: metrics that use them are invariant to their signs.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import numpy as np

LARGE = 1 << 22  # elements (4M float64 = 32 MiB): an operand below this stays on numpy

_state = threading.local()


@contextlib.contextmanager
def torch_backend(device: str | None, min_elements: int = LARGE) -> Iterator[None]:
    """Run large operands through torch on ``device`` (None or "cpu" without ``min_elements=0``: numpy)."""
    previous = getattr(_state, "backend", None)
    _state.backend = (str(device), int(min_elements)) if device else None
    try:
        yield
    finally:
        _state.backend = previous


def _device_for(*arrays: np.ndarray) -> str | None:
    backend = getattr(_state, "backend", None)
    if backend is None:
        return None
    device, min_elements = backend
    return device if max(a.size for a in arrays) >= min_elements else None


def _to(device: str, a: np.ndarray):
    import torch

    return torch.as_tensor(np.ascontiguousarray(a, dtype=np.float64)).to(device)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in float64."""
    device = _device_for(a, b)
    if device is None:
        return a @ b
    return (_to(device, a) @ _to(device, b)).cpu().numpy()


def gram(x: np.ndarray) -> np.ndarray:
    """``x.T @ x`` (d x d) in float64, symmetric."""
    device = _device_for(x)
    if device is None:
        return x.T @ x
    t = _to(device, x)
    return (t.T @ t).cpu().numpy()


def eigh(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of the symmetric ``a``."""
    device = _device_for(a)
    if device is None:
        return np.linalg.eigh(a)
    import torch

    w, v = torch.linalg.eigh(_to(device, a))
    return w.cpu().numpy(), v.cpu().numpy()


def eigvalsh(a: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending) of the symmetric ``a``."""
    device = _device_for(a)
    if device is None:
        return np.linalg.eigvalsh(a)
    import torch

    return torch.linalg.eigvalsh(_to(device, a)).cpu().numpy()
